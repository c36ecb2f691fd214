import * as Comlink from 'comlink';
import { TrainerService } from '$lib/workers/trainer-service';

Comlink.expose(new TrainerService());
