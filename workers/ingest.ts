import * as Comlink from 'comlink';
import { IngestService } from '$lib/workers/ingest-service';

Comlink.expose(new IngestService());
