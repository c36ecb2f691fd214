import * as Comlink from 'comlink';
import { registerTaskPredictors } from '$lib/workflows/predictors';
import { InferenceService } from '$lib/workers/inference-service';
import { keepErrorDetails } from '$lib/workers/client';

registerTaskPredictors();
keepErrorDetails(); // named errors reach the page with their fields
Comlink.expose(new InferenceService());
