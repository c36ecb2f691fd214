import * as Comlink from 'comlink';
import { InferenceService } from '$lib/workers/inference-service';

Comlink.expose(new InferenceService());
