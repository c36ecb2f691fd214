import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundle } from '../../../src/lib/registry/bundle';
import { parseSafetensors, serializeSafetensors } from '../../../models/weights/safetensors';
import { EXIT } from '../../../src/cli/errors';
import { removeTempDirs, runCli, tempDir, writeJson } from './fixtures';
import { hasTorch, loupeOutputs, PYTHON, readJsonFile, torchOutputs, trainJob, writeSplitCoins } from './cluster-fixtures';

if (!hasTorch) console.warn(`[cluster] SKIPPED: ${PYTHON} cannot import torchvision — install Debian's python3-torch and python3-torchvision (scripts/ensure-deps.mjs does in CI)`);

type Metrics = { history: { epoch: number; metrics: Record<string, number> }[]; trainedBy: Record<string, unknown>; jobHash: string; metrics: Record<string, number> };

const dir = tempDir('loupe-ddp-');
const job = join(dir, 'job');
const twoProcesses = join(dir, 'out-2');
const oneProcess = join(dir, 'out-1');
const bundle = join(dir, 'registry', 'coins-ddp.zip');

beforeAll(async () => {
  if (!hasTorch) return;
  const data = writeSplitCoins(dir);
  // Dropout off: its masks are drawn per process, so two runs would differ by more than rounding.
  const config = writeJson(join(dir, 'coin.json'), { model: { architecture: 'coin-regressor', backbone: 'mobilenetv3-small', inputSize: 64, dropout: 0 }, epochs: 1, batchSize: 8, learningRate: 0.001 });
  const exported = await runCli('export-job', '--task', 'coin-year', '--data', data, '--config', config, '--out', job);
  expect(exported.code, exported.err).toBe(EXIT.ok);
  // 2 processes × 4 pairs against 1 process × 8 pairs in two interleaved slices (each BatchNorm sees what a DDP process does).
  await Promise.all([trainJob(job, twoProcesses, 2), trainJob(job, oneProcess, 1, ['--accumulate', '2'])]);
  const imported = await runCli('import-weights', '--job', join(twoProcesses, 'job.json'), '--weights', join(twoProcesses, 'model.safetensors'), '--metrics', join(twoProcesses, 'metrics.json'), '--data', join(job, 'dataset'), '--out', bundle);
  expect(imported.code, imported.err).toBe(EXIT.ok);
}, 240_000);
afterAll(removeTempDirs);

describe.skipIf(!hasTorch)('a coin-year job on PyTorch DDP and back', () => {
  it('exports the dataset version as stored, every sample with its split, and a job whose hash covers its spec', () => {
    const manifest = readJsonFile<{ id: string; samples: { split: string; files: string[] }[] }>(join(job, 'dataset', 'loupe-dataset.json'));
    const spec = readJsonFile<{ jobHash: string; datasetVersion: string; seed: number; spec: { epochs: number; batchSize: number } }>(join(job, 'job.json'));
    expect(manifest.samples.map((s) => s.split).sort()).toEqual([...Array(16).fill('train'), ...Array(8).fill('test'), ...Array(8).fill('val')].sort());
    expect(manifest.samples.every((s) => s.files.length === 2 && s.files.every((f) => existsSync(join(job, 'dataset', f))))).toBe(true);
    expect(spec).toMatchObject({ datasetVersion: manifest.id, seed: 42, spec: { epochs: 1, batchSize: 8 } });
    expect(spec.jobHash).toMatch(/^[0-9a-f]{64}$/);
    for (const file of ['train.py', 'predict.py', 'README.md', 'loupe_ddp/train.py', 'init.safetensors']) expect(existsSync(join(job, file)), file).toBe(true);
  });

  it('trains data-parallel: 2 gloo processes reach the loss and weights of 1 process on the same global batch', () => {
    const two = readJsonFile<Metrics>(join(twoProcesses, 'metrics.json'));
    const one = readJsonFile<Metrics>(join(oneProcess, 'metrics.json'));
    expect(two.trainedBy).toMatchObject({ engine: 'pytorch-ddp', processes: 2, device: 'cpu', backend: 'gloo' });
    expect(one.trainedBy).toMatchObject({ processes: 1 });
    expect(Math.abs(two.history[0]!.metrics.loss! - one.history[0]!.metrics.loss!)).toBeLessThan(1e-5);
    // Two independent copies would each step on half the batch; data parallel averages the gradients.
    const [a, b] = [twoProcesses, oneProcess].map((out) => parseSafetensors(readFileSync(join(out, 'model.safetensors'))).tensors.get('head.weight')!.data);
    const init = parseSafetensors(readFileSync(join(job, 'init.safetensors'))).tensors.get('head.weight')!.data;
    const largest = (x: ArrayLike<number>, y: ArrayLike<number>) => Array.from(x).reduce((m, v, i) => Math.max(m, Math.abs(v - y[i]!)), 0);
    expect(largest(a!, init!)).toBeGreaterThan(1e-4); // it trained
    expect(largest(a!, b!)).toBeLessThan(1e-5);
  });

  it('registers the weights with their lineage, and Loupe (tfjs) predicts the 8 held-out pairs as PyTorch does within 1e-4 years', async () => {
    const read = await readBundle(readFileSync(bundle));
    const spec = readJsonFile<{ jobHash: string; datasetVersion: string }>(join(job, 'job.json'));
    expect(read.lineage).toMatchObject({ datasetVersion: spec.datasetVersion, trainedBy: { summary: 'trained by PyTorch DDP, 2 processes on cpu', jobHash: spec.jobHash } });
    const inputs = join(dir, 'held-out.safetensors');
    const loupe = await loupeOutputs(readFileSync(bundle), job, 8, inputs);
    const torch = (await torchOutputs(job, join(twoProcesses, 'model.safetensors'), inputs)) as { years: number[] };
    const { mean, std } = loupe.metadata.yearScale as { mean: number; std: number };
    const years = loupe.output.map(([v]) => v! * std + mean);
    expect(years).toHaveLength(8);
    const gaps = years.map((y, i) => Math.abs(y - torch.years[i]!));
    console.log(`[cluster] coin years, tfjs vs PyTorch: largest gap ${Math.max(...gaps).toExponential(2)} years`);
    expect(Math.max(...gaps)).toBeLessThan(1e-4);
  });

  it('puts the imported version through the promotion gate', async () => {
    const out = join(dir, 'gate');
    const gate = await runCli('gate', '--candidate', bundle, '--eval', join(job, 'dataset'), '--out-dir', out);
    expect([EXIT.ok, EXIT.rejected], gate.err).toContain(gate.code);
    const decision = readJsonFile<{ evalData: { split: string; samples: number }; candidate: { metrics: Record<string, number> } }>(join(out, 'decision.json'));
    expect(decision.evalData).toMatchObject({ split: 'test', samples: 8 });
    // Measured by the gate now, the same figures import-weights measured.
    expect(decision.candidate.metrics.mae).toBeCloseTo(readJsonFile<{ metrics: { mae: number } }>(join(dir, 'registry', 'metrics.json')).metrics.mae, 4);
  });

  it('refuses an edited job, another dataset version, and weights of another shape, naming why', async () => {
    const edited = join(dir, 'edited.json');
    const original = readJsonFile<{ spec: { epochs: number } }>(join(twoProcesses, 'job.json'));
    writeFileSync(edited, JSON.stringify({ ...original, spec: { ...original.spec, epochs: 5 } }));
    const args = (overrides: Record<string, string>) => {
      const all = { '--job': join(twoProcesses, 'job.json'), '--weights': join(twoProcesses, 'model.safetensors'), '--metrics': join(twoProcesses, 'metrics.json'), '--data': join(job, 'dataset'), '--out': join(dir, 'refused.zip'), ...overrides };
      return ['import-weights', ...Object.entries(all).flat()];
    };
    const changed = await runCli(...args({ '--job': edited }));
    expect(changed.code).toBe(EXIT.badFormat);
    expect(changed.err).toMatch(/was changed after export/);

    const fewer = join(dir, 'fewer');
    const data = writeSplitCoins(fewer, 28);
    const otherData = await runCli(...args({ '--data': data }));
    expect(otherData.code).toBe(EXIT.badFormat);
    expect(otherData.err).toMatch(/different dataset hash/);

    const file = parseSafetensors(readFileSync(join(twoProcesses, 'model.safetensors')));
    const head = file.tensors.get('head.weight')!;
    file.tensors.set('head.weight', { ...head, shape: [1, head.shape[1]! / 2], data: head.data.slice(0, head.shape[1]! / 2) });
    const misShaped = join(dir, 'mis-shaped.safetensors');
    writeFileSync(misShaped, serializeSafetensors(file));
    const shapes = await runCli(...args({ '--weights': misShaped }));
    expect(shapes.code).toBe(EXIT.badFormat);
    expect(shapes.err).toContain(`tensor 'head.weight' has shape [1, ${head.shape[1]! / 2}], expected [1, ${head.shape[1]}]`);
    expect(existsSync(join(dir, 'refused.zip'))).toBe(false);
  });
});
