import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, preview, type PreviewServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, type LaunchedBrowser } from './chromium';
import type { TrainResult } from './webgpu-kernels/main';

// Loupe's WebGPU kernels (src/lib/backends/webgpu-kernels: Adam, hard-swish/hard-sigmoid, BatchNorm's
// training step) exist only in a browser: Node has no WebGPU. A bare page (webgpu-kernels/) trains a small
// network of those layers with Loupe's Adam on webgpu (SwiftShader here) and on cpu, and this compares them.

type Train = (backend: string, steps: number, fused?: boolean) => Promise<TrainResult>;

const maxDifference = (a: number[][], b: number[][]) => Math.max(...a.flatMap((row, i) => row.map((x, j) => Math.abs(x - b[i]![j]!))));

describe("Loupe's WebGPU kernels", () => {
  let outDir: string;
  let server: PreviewServer;
  let browser: LaunchedBrowser;
  const errors: string[] = [];
  let train: (backend: string, steps: number, fused?: boolean) => Promise<TrainResult>;

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'loupe-webgpu-page-'));
    await build({ configFile: false, logLevel: 'warn', build: { outDir, emptyOutDir: true, rollupOptions: { input: join(process.cwd(), 'tests/e2e/webgpu-kernels/index.html') } } });
    server = await preview({ configFile: false, logLevel: 'warn', build: { outDir }, preview: { port: 0, host: '127.0.0.1' } });
    const address = server.httpServer.address();
    if (!address || typeof address === 'string') throw new Error('preview server has no port');
    browser = await launchChromium();
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    // WebGPU reports an invalid pipeline or bind group on the console, and skips the work.
    page.on('console', (message) => ['error', 'warning'].includes(message.type()) && errors.push(message.text()));
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`http://127.0.0.1:${address.port}/tests/e2e/webgpu-kernels/index.html`);
    await page.waitForFunction(() => 'loupeWebGpu' in window);
    train = (backend, steps, fused = true) =>
      page.evaluate((a) => (window as unknown as { loupeWebGpu: { train: Train } }).loupeWebGpu.train(a.backend, a.steps, a.fused), { backend, steps, fused });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (outDir) rmSync(outDir, { recursive: true, force: true });
  });

  it('train as the cpu backend does, in fewer dispatches than the composed ops, leaking no tensor', async () => {
    const cpu = await train('cpu', 3);
    const fused = await train('webgpu', 3);
    const composed = await train('webgpu', 3, false);
    expect([cpu.backend, fused.backend, composed.backend]).toEqual(['cpu', 'webgpu', 'webgpu']);
    // The loss moves (the steps train), and webgpu's losses and weights (BatchNorm's moving statistics
    // included) follow the cpu's within float32 rounding, through both paths.
    expect(cpu.losses[2]).toBeLessThan(cpu.losses[0]!);
    expect(maxDifference([fused.losses], [cpu.losses])).toBeLessThan(1e-4);
    expect(maxDifference(fused.weights, cpu.weights)).toBeLessThan(1e-4);
    expect(maxDifference(composed.weights, cpu.weights)).toBeLessThan(1e-4);
    // The fused kernels ran: a fraction of the composed ops' dispatches.
    expect(fused.dispatches).toBeLessThan(composed.dispatches / 2);
    // No tensor leaks from step to step.
    expect(new Set(fused.tensors).size).toBe(1);
    expect(errors).toEqual([]);
  }, 120_000);
});
