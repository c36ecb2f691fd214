import * as Comlink from 'comlink';
import { IngestService } from '$lib/workers/ingest-service';
import { keepErrorDetails } from '$lib/workers/client';

keepErrorDetails(); // named errors reach the page with their fields
Comlink.expose(new IngestService());
