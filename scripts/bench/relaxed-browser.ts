/**
 * Relaxed SIMD FMA where the studio trains: Chromium's worker, tfjs's threaded build (shared memory).
 * Builds scripts/bench/browser/fma.html with the app's Vite config, serves it cross-origin isolated and runs
 * in its worker (scripts/bench/browser/fma-worker.ts), in order:
 *   trace  — every kernel Loupe registers, on the real training step of each configuration, run with FMA,
 *            without, and on the cpu backend: the worst difference per kernel (relative to the output's scale);
 *   steps  — a few training steps from the same weights and data, FMA on and off: the losses;
 *   jobs   — the e2e's training job (demo coins, dual MobileNetV3-Small 64 px, batch 16) per seed, FMA off
 *            and on: val MAE and R² after each epoch and the run's reported (final) ones (`--seeds 1,2,42`;
 *            none by default; `--cells 1:off,42:on` for chosen cells). Settings: `--lr 0.003 --epochs 4`,
 *            `--patience 3` (early stopping on val MAE, best epoch restored; 0: off), `--warmup 1 --cosine`,
 *            `--dropout 0.2`.
 *   time   — with `--time resnet18:dual:128:16,…` (backbone:mode:size:batch): the training step in the worker,
 *            the stop-22 path (XNNPACK, Loupe's GEMM on one thread) and the studio's (GEMM helper threads, a
 *            thread per core) taking turns `--rounds` times, `--steps` steps each (the first a warm-up): medians;
 *            with `--pools 1,2` instead the studio's path with each XNNPACK pool size (the trainer's is 1).
 * Usage: npx tsx scripts/bench/relaxed-browser.ts [--backbones resnet18] [--convolutions loupe] [--seeds 42] [--steps 5] [--no-trace]
 * (`--convolutions loupe`: Conv2D's forward pass and input gradient on Loupe's GEMM too, FMA in all three).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build, preview } from 'vite';
import { launchChromium } from '../../tests/e2e/chromium';

const { values: args } = parseArgs({
  options: {
    backbones: { type: 'string', default: 'mobilenetv3-small,resnet18' }, convolutions: { type: 'string', default: 'xnnpack' }, seeds: { type: 'string', default: '' }, steps: { type: 'string', default: '5' }, 'no-trace': { type: 'boolean', default: false },
    // The coin jobs: which cells (`1:off,42:on`; else every seed with FMA off and on) and how they train.
    fma: { type: 'string', default: 'off,on' }, cells: { type: 'string', default: '' }, lr: { type: 'string', default: '0.003' }, epochs: { type: 'string', default: '4' },
    patience: { type: 'string', default: '0' }, dropout: { type: 'string', default: '0.2' }, warmup: { type: 'string', default: '0' }, cosine: { type: 'boolean', default: false },
    time: { type: 'string', default: '' }, rounds: { type: 'string', default: '2' },
    // With --time: XNNPACK pool sizes to time the studio's arm with, taking turns (the page reloads for each).
    pools: { type: 'string', default: '' },
  },
});
const CONFIGS = [
  { backbone: 'mobilenetv3-small', mode: 'dual', size: 64, batch: 16 },
  { backbone: 'mobilenetv3-small', mode: 'dual', size: 128, batch: 4 },
  { backbone: 'resnet18', mode: 'dual', size: 128, batch: 2 },
];

type Op = 'demo' | 'train' | 'trace' | 'job';
interface FmaWindow { fma(op: Op, args: unknown): Promise<unknown> }

const outDir = join(process.cwd(), 'bench-results', 'fma-dist');
await build({ logLevel: 'warn', build: { outDir, emptyOutDir: true, rollupOptions: { input: join(process.cwd(), 'scripts/bench/browser/fma.html') } } });
const server = await preview({ logLevel: 'warn', build: { outDir }, preview: { port: 0, host: '127.0.0.1' } });
const address = server.httpServer.address();
if (!address || typeof address === 'string') throw new Error('preview server has no port');
const browser = await launchChromium();
try {
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.on('pageerror', (error) => console.error('page error:', error.message));
  page.on('console', (message) => message.type() === 'log' && console.log(`  ${message.text()}`));
  await page.goto(`http://127.0.0.1:${address.port}/scripts/bench/browser/fma.html`);
  await page.waitForFunction(() => 'fma' in window);
  const run = (op: Op, a: unknown) => page.evaluate(([op, a]) => (window as unknown as FmaWindow).fma(op as Op, a), [op, a] as const);
  console.log(`Chromium ${browser.context.browser()?.version() ?? ''}, cross-origin isolated: ${await page.evaluate(() => crossOriginIsolated)}`);
  const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!;
  for (const spec of args.time && args.pools ? args.time.split(',') : []) {
    const [backbone, mode, size, batch] = spec.split(':');
    const config = { backbone, mode, size: Number(size), batch: Number(batch) };
    const medians: Record<string, number[]> = {};
    for (let round = 0; round < Number(args.rounds); round++) {
      for (const pool of args.pools.split(',')) {
        await page.goto(`http://127.0.0.1:${address.port}/scripts/bench/browser/fma.html?pool=${pool}`);
        await page.waitForFunction(() => 'fma' in window);
        const cores = await page.evaluate(() => navigator.hardwareConcurrency);
        const result = (await run('train', { relaxed: true, config, steps: Number(args.steps), convolutions: 'auto', gemmThreads: Math.min(cores, 8) })) as { stepsMs: number[] };
        (medians[`XNNPACK pool ${pool}`] ??= []).push(median(result.stepsMs.slice(1)));
        console.log(`${spec} XNNPACK pool ${pool}, Loupe's kernels on ${Math.min(cores, 8)} threads: steps ${result.stepsMs.map(Math.round).join(', ')} ms`);
      }
    }
    for (const [name, values] of Object.entries(medians)) console.log(`${spec} ${name}: median step per round ${values.map(Math.round).join(', ')} ms`);
  }
  for (const spec of args.time && !args.pools ? args.time.split(',') : []) {
    const [backbone, mode, size, batch] = spec.split(':');
    const config = { backbone, mode, size: Number(size), batch: Number(batch) };
    const cores = await page.evaluate(() => navigator.hardwareConcurrency);
    const arms = [
      { name: 'XNNPACK + Loupe filter gradient, 1 thread', convolutions: 'xnnpack', gemmThreads: 1 },
      { name: `Loupe's GEMMs on ${Math.min(cores, 8)} threads (the trainer's)`, convolutions: 'auto', gemmThreads: Math.min(cores, 8) },
    ];
    const medians: Record<string, number[]> = {};
    for (let round = 0; round < Number(args.rounds); round++) {
      for (const arm of arms) {
        const result = (await run('train', { relaxed: false, config, steps: Number(args.steps), convolutions: arm.convolutions, gemmThreads: arm.gemmThreads })) as { stepsMs: number[]; gemmThreads: number };
        (medians[arm.name] ??= []).push(median(result.stepsMs.slice(1)));
        console.log(`${spec} ${arm.name} (${result.gemmThreads} GEMM threads): steps ${result.stepsMs.map(Math.round).join(', ')} ms`);
      }
    }
    for (const [name, values] of Object.entries(medians)) console.log(`${spec} ${name}: median step per round ${values.map(Math.round).join(', ')} ms`);
  }
  for (const config of CONFIGS.filter((c) => args.backbones.split(',').includes(c.backbone))) {
    const label = `${config.backbone} ${config.mode} ${config.size}² b${config.batch}, convolutions on ${args.convolutions}`;
    if (!args['no-trace']) {
      const { result, stats } = (await run('trace', { config, steps: 1, convolutions: args.convolutions })) as { result: { adapter: string }; stats: Record<string, { calls: number; worst: number; worstCpu: number; first?: string }> };
      console.log(`\n${label} on ${result.adapter}: each kernel with FMA against mul + add, and against the cpu backend (max |Δ| / max |output|)`);
      for (const [name, s] of Object.entries(stats)) console.log(`  ${name.padEnd(38)} ${String(s.calls).padStart(5)} calls  FMA−plain ${s.worst.toExponential(1)}  FMA−cpu ${s.worstCpu.toExponential(1)}${s.first ? `  FIRST OFF: ${s.first}` : ''}`);
    }
    const steps = Number(args.steps);
    type Steps = { losses: number[]; relaxed: boolean };
    const off = (await run('train', { relaxed: false, config, steps, convolutions: args.convolutions })) as Steps; // one after the other: the flag is per worker
    const on = (await run('train', { relaxed: true, config, steps, convolutions: args.convolutions })) as Steps;
    const again = (await run('train', { relaxed: false, config, steps, convolutions: args.convolutions })) as Steps;
    const delta = (a: Steps) => off.losses.map((l, i) => Math.abs(l - a.losses[i]!).toExponential(1)).join(' ');
    console.log(`${label}: ${steps} steps, losses without FMA ${off.losses.map((l) => l.toFixed(6)).join(' ')}`);
    console.log(`  with FMA (${on.relaxed ? 'bound' : 'NOT bound'}) ${on.losses.map((l) => l.toFixed(6)).join(' ')}; |Δ| per step ${delta(on)}; without FMA again: |Δ| ${delta(again)}`);
  }
  const cells = args.cells
    ? args.cells.split(',').map((c) => ({ seed: Number(c.split(':')[0]), relaxed: c.split(':')[1] === 'on' }))
    : (args.seeds ? args.seeds.split(',').map(Number) : []).flatMap((seed) => args.fma.split(',').map((f) => ({ seed, relaxed: f === 'on' })));
  const settings = { learningRate: Number(args.lr), dropout: Number(args.dropout), epochs: Number(args.epochs), patience: Number(args.patience), warmupEpochs: Number(args.warmup), cosine: args.cosine };
  if (cells.length) {
    console.log(`coin jobs: ${JSON.stringify(settings)}`);
    await run('demo', null);
  }
  for (const { seed, relaxed } of cells) {
    const started = Date.now();
    const { epochs, metrics } = (await run('job', { relaxed, seed, ...settings })) as { epochs: Record<string, number>[]; metrics: Record<string, number> };
    console.log(
      `coin job seed ${seed}, FMA ${relaxed ? 'on ' : 'off'}: val MAE ${epochs.map((e) => e.val_mae!.toFixed(1)).join(' → ')}, R² ${epochs.map((e) => e.val_r2!.toFixed(2)).join(' → ')}; ` +
        `reported MAE ${metrics.val_mae!.toFixed(1)} R² ${metrics.val_r2!.toFixed(2)} (${Math.round((Date.now() - started) / 1000)} s)`,
    );
  }
} finally {
  await browser.close();
  await server.close();
}
