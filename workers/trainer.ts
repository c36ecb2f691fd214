import * as Comlink from 'comlink';
import { useEveryCoreForWasm } from '$lib/backends/wasm-pool';
import { TrainerService } from '$lib/workers/trainer-service';

useEveryCoreForWasm(); // before any backend starts in this worker
Comlink.expose(new TrainerService());
