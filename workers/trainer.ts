import * as Comlink from 'comlink';
import { spawnGemmHelperInWorker, useGemmHelpers } from '$lib/backends/gemm-threads';
import { MAX_WASM_POOL, useEveryCoreForWasm } from '$lib/backends/wasm-pool';
import { TrainerService } from '$lib/workers/trainer-service';
import { keepErrorDetails } from '$lib/workers/client';

useEveryCoreForWasm(); // before any backend starts in this worker
// Loupe's convolutions on every core too: a helper thread per further core (docs/benchmarks.md, "Stop 27").
useGemmHelpers(Math.min(MAX_WASM_POOL, navigator.hardwareConcurrency || 1) - 1, spawnGemmHelperInWorker);
keepErrorDetails(); // named errors reach the page with their fields
Comlink.expose(new TrainerService());
