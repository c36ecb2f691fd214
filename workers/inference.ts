import * as Comlink from 'comlink';
import { registerTaskPredictors } from '$lib/workflows/predictors';
import { InferenceService } from '$lib/workers/inference-service';

registerTaskPredictors();
Comlink.expose(new InferenceService());
