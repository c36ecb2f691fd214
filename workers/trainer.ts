import * as Comlink from 'comlink';
import { useEveryCoreForWasm } from '$lib/backends/wasm-pool';
import { TrainerService } from '$lib/workers/trainer-service';
import { keepErrorDetails } from '$lib/workers/client';

useEveryCoreForWasm(); // before any backend starts in this worker
keepErrorDetails(); // named errors reach the page with their fields
Comlink.expose(new TrainerService());
