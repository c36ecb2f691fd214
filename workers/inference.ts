import * as Comlink from 'comlink';
import { registerTaskPredictors } from '$lib/tasks/serving';
import { InferenceService } from '$lib/workers/inference-service';

registerTaskPredictors();
Comlink.expose(new InferenceService());
