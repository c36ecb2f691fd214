/**
 * Chromium benchmarks: builds scripts/bench/browser/ (the studio's modules in a bare page) with the app's
 * Vite config, serves it, and drives it in headless Debian Chromium — the same browser and flags as
 * the e2e tests (WebGPU on SwiftShader, no GPU).
 */
import { join } from 'node:path';
import { build, preview } from 'vite';
import { launchChromium } from '../../tests/e2e/chromium';
import { printTable } from './env';
import type { CommitStep, GroupCommitResult } from './group-commit';
import type { StepTransfers } from './browser/main';

export interface BrowserBenchOptions {
  ingestImages: number;
  predictRequests: number;
  predictBackends: string[];
  logRows: number;
  trainBackends: string[];
  trainConfigs: TrainStepConfig[];
  trainWarmup: number;
  trainRounds: number;
  /** Serve the page cross-origin isolated, as the studio is (wasm threads); false measures one thread. */
  isolated: boolean;
  /** Loupe's WebGPU kernels for the training steps (false: tfjs's composed ops, for comparison). */
  webgpuKernels: boolean;
  /** Only the inference log's group commit (`--only browser-log`). */
  logOnly?: boolean;
}

export interface TrainStepConfig {
  backbone: 'mobilenetv3-small' | 'resnet18';
  mode: 'dual' | 'shared';
  size: number;
  batch: number;
}
export interface TrainStepResult {
  backend: string;
  adapter: string;
  stepsMs: number[];
  medianMs: number;
  tensorsLeaked: number;
  /** Examples per gradient computation when the batch would not fit the backend's memory. */
  microBatch?: number;
  /** Writes to and reads from the backend per step (scripts/bench/browser/main.ts). */
  transfers: StepTransfers;
}

export interface IngestResult {
  images: number;
  stored: number;
  seconds: number;
  imagesPerSecond: number;
  megabytes: number;
}
export interface LatencyResult {
  task: string;
  backend: string;
  loadMs: number;
  p50: number;
  p95: number;
  mean: number;
}
export interface BrowserBenchResult {
  chromium: string;
  ingest?: IngestResult;
  predict?: LatencyResult[];
  log: GroupCommitResult[];
  logSteps?: CommitStep[];
  training: (TrainStepConfig & TrainStepResult)[];
}

interface BenchWindow {
  loupeBench: {
    ingest(count: number): Promise<IngestResult>;
    predictLatency(backends: string[], requests: number): Promise<LatencyResult[]>;
    groupCommit(rows: number): Promise<GroupCommitResult[]>;
    commitSteps(rounds: number): Promise<CommitStep[]>;
    trainSteps(backend: string, config: TrainStepConfig, warmup: number, rounds: number, webgpuKernels?: boolean): Promise<TrainStepResult>;
  };
}

/** Prints where one answer's wait goes (Node and Chromium alike). */
export function printCommitSteps(steps: CommitStep[]): void {
  printTable(['step (1 client, one after another)', 'p50 ms', 'p95 ms'], steps.map((s) => [s.step, s.p50.toFixed(2), s.p95.toFixed(2)]));
}

/** Prints group-commit figures (Node and Chromium alike). */
export function printGroupCommit(results: GroupCommitResult[]): void {
  printTable(
    ['load', 'rows', 'rows/s', 'answer waits p50 ms', 'p95 ms', 'rows per transaction'],
    results.map((r) => [r.load, r.rows, Math.round(r.rowsPerSecond), r.p50.toFixed(2), r.p95.toFixed(2), r.rowsPerTransaction.toFixed(1)]),
  );
}

export async function benchBrowser(options: BrowserBenchOptions): Promise<BrowserBenchResult> {
  const outDir = join(process.cwd(), 'bench-results', 'browser-dist');
  await build({
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, rollupOptions: { input: join(process.cwd(), 'scripts/bench/browser/index.html') } },
  });
  // Without the app's config the preview server sends no COOP/COEP: the page is not isolated, wasm has one thread.
  const server = await preview({ logLevel: 'warn', configFile: options.isolated ? undefined : false, build: { outDir }, preview: { port: 0, host: '127.0.0.1' } });
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('preview server has no port');
  const browser = await launchChromium();
  try {
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    page.on('pageerror', (error) => console.error('page error:', error.message));
    await page.goto(`http://127.0.0.1:${address.port}/scripts/bench/browser/index.html`);
    await page.waitForFunction(() => 'loupeBench' in window);
    const chromium = browser.context.browser()?.version() ?? (await page.evaluate(() => navigator.userAgent));

    console.log(`Chromium ${chromium}: the inference log's group commit (real IndexedDB), ${options.logRows} rows per line:`);
    const log = await page.evaluate((n) => (window as unknown as BenchWindow).loupeBench.groupCommit(n), options.logRows);
    printGroupCommit(log);
    console.log(`\nWhere one answer's wait goes, ${Math.min(options.logRows, 500)} rounds each:`);
    const logSteps = await page.evaluate((n) => (window as unknown as BenchWindow).loupeBench.commitSteps(n), Math.min(options.logRows, 500));
    printCommitSteps(logSteps);
    if (options.logOnly) return { chromium, log, logSteps, training: [] };

    console.log(`\nIngest of ${options.ingestImages} JPEGs (256×256, one folder per class) through the ingest worker…`);
    const ingest = await page.evaluate((n) => (window as unknown as BenchWindow).loupeBench.ingest(n), options.ingestImages);
    printTable(
      ['images', 'stored', 'MiB', 'seconds', 'images/s'],
      [[ingest.images, ingest.stored, ingest.megabytes.toFixed(1), ingest.seconds.toFixed(2), ingest.imagesPerSecond.toFixed(1)]],
    );

    console.log(`\nPrediction latency, one input per call, in the inference worker (${options.predictRequests} calls after 3 warm-up; models trained 1 epoch on the demo data, 128² images):`);
    const predict = await page.evaluate(
      ({ backends, n }) => (window as unknown as BenchWindow).loupeBench.predictLatency(backends, n),
      { backends: options.predictBackends, n: options.predictRequests },
    );
    printTable(
      ['model', 'backend', 'load ms', 'p50 ms', 'p95 ms', 'mean ms'],
      predict.map((r) => [r.task, r.backend, r.loadMs.toFixed(0), r.p50.toFixed(1), r.p95.toFixed(1), r.mean.toFixed(1)]),
    );

    console.log(`\nCoin regressor training steps in the page (Adam, Huber), ${options.trainWarmup} warm-up + ${options.trainRounds} timed, median${options.webgpuKernels ? '' : " (webgpu: tfjs's composed ops, --no-webgpu-kernels)"}:`);
    const training: BrowserBenchResult['training'] = [];
    for (const config of options.trainConfigs) {
      for (const backend of options.trainBackends) {
        const result = await page.evaluate(
          ({ backend, config, warmup, rounds, kernels }) => (window as unknown as BenchWindow).loupeBench.trainSteps(backend, config, warmup, rounds, kernels),
          { backend, config, warmup: options.trainWarmup, rounds: options.trainRounds, kernels: options.webgpuKernels },
        );
        console.log(`  ${config.backbone} ${config.mode} ${config.size}² b${config.batch} on ${result.backend}: ${result.stepsMs.join(', ')} ms`);
        training.push({ ...config, ...result });
      }
    }
    printTable(
      ['configuration', 'backend', 'device', 'median step ms', 'samples/s', 'tensors leaked', 'tensors stored/step', 'from JS values/step', 'reads/step', 'sync reads/step'],
      training.map((r) => [`${r.backbone} ${r.mode} ${r.size}² b${r.batch}${r.microBatch ? ` (micro ${r.microBatch})` : ''}`, r.backend, r.adapter.slice(0, 40), Math.round(r.medianMs), (r.batch / (r.medianMs / 1000)).toFixed(2), r.tensorsLeaked, r.transfers.writes, r.transfers.uploads, r.transfers.reads, r.transfers.syncReads]),
    );
    const gpuRows = training.filter((r) => r.transfers.gpu);
    if (gpuRows.length) printTable(
      ['configuration', 'dispatches/step', 'pipelines created/step (after warm-up)', 'bytes uploaded/step', 'bytes read back/step'],
      gpuRows.map((r) => [`${r.backbone} ${r.mode} ${r.size}² b${r.batch}`, r.transfers.gpu!.dispatches, r.transfers.gpu!.pipelines, r.transfers.gpu!.uploadBytes, r.transfers.gpu!.readbackBytes]),
    );
    for (const r of gpuRows) {
      const list = (pairs: [string, number][]) => pairs.map(([name, n]) => `${name} ${n}`).join(', ');
      console.log(`\n${r.backbone} ${r.mode} ${r.size}² b${r.batch}, per step: dispatches by program: ${list(r.transfers.gpu!.byProgram)}`);
      console.log(`tensors from JS values by op: ${list(r.transfers.uploadsByScope)}`);
      console.log(`pipelines compiled after the warm-up: ${r.transfers.gpu!.pipelinesAfterWarmup.join(', ') || 'none'}`);
    }
    console.log();
    return { chromium, ingest, predict, log, logSteps, training };
  } finally {
    await browser.close();
    await server.close();
  }
}
