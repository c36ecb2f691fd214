import * as Comlink from 'comlink';
import { spawnGemmHelperInWorker, useEveryCoreForTraining } from '$lib/backends/gemm-threads';
import { TrainerService } from '$lib/workers/trainer-service';
import { keepErrorDetails } from '$lib/workers/client';

// Before any backend starts in this worker: Loupe's kernels on every core, XNNPACK on this thread
// (docs/benchmarks.md, "Stop 27" and "Stop 29").
useEveryCoreForTraining(spawnGemmHelperInWorker);
keepErrorDetails(); // named errors reach the page with their fields
Comlink.expose(new TrainerService());
