import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBundle } from '../../../src/lib/registry/bundle';
import { EXIT } from '../../../src/cli/errors';
import { removeTempDirs, runCli, tempDir, writeCarsFolder, writeJson } from './fixtures';
import { hasTorch, loupeOutputs, readJsonFile, torchOutputs, trainJob } from './cluster-fixtures';

type Metrics = { history: { epoch: number; metrics: Record<string, number> }[]; trainedBy: Record<string, unknown> };

const dir = tempDir('loupe-ddp-cls-');
const job = join(dir, 'job');
const twoProcesses = join(dir, 'out-2');
const bundle = join(dir, 'registry', 'cars-ddp.zip');

beforeAll(async () => {
  if (!hasTorch) return;
  const data = writeCarsFolder(dir, 32, 64);
  const config = writeJson(join(dir, 'cars.json'), {
    model: { architecture: 'damage-classifier', backbone: 'mobilenetv3-small', inputSize: 64, dropout: 0, projection: { units: 16 } },
    epochs: 1,
    batchSize: 8,
    learningRate: 0.001,
    splits: { train: 0.5, val: 0.25, test: 0.25 },
  });
  const exported = await runCli('export-job', '--task', 'car-damage', '--data', data, '--config', config, '--out', job);
  expect(exported.code, exported.err).toBe(EXIT.ok);
  // The 1-process comparison runs once, for the coin job (cluster-coin.test.ts): CI time is short.
  await trainJob(job, twoProcesses, 2);
  const imported = await runCli('import-weights', '--job', join(twoProcesses, 'job.json'), '--weights', join(twoProcesses, 'model.safetensors'), '--metrics', join(twoProcesses, 'metrics.json'), '--data', join(job, 'dataset'), '--out', bundle);
  expect(imported.code, imported.err).toBe(EXIT.ok);
}, 240_000);
afterAll(removeTempDirs);

describe.skipIf(!hasTorch)('an image-classification job on PyTorch DDP and back', () => {
  it('trains in 2 gloo processes and reports the epoch as the studio would', () => {
    const two = readJsonFile<Metrics>(join(twoProcesses, 'metrics.json'));
    expect(two.trainedBy).toMatchObject({ engine: 'pytorch-ddp', processes: 2, backend: 'gloo' });
    expect(Object.keys(two.history[0]!.metrics).sort()).toEqual(['loss', 'val_accuracy', 'val_loss', 'val_macroF1']);
  });

  it('imports as the car-damage model, and Loupe (tfjs) gives the held-out photos the same class and probabilities as PyTorch', async () => {
    const read = await readBundle(readFileSync(bundle));
    expect(read.name).toBe('car-damage');
    expect(read.lineage.trainedBy).toMatchObject({ summary: 'trained by PyTorch DDP, 2 processes on cpu', processes: 2 });
    const inputs = join(dir, 'held-out.safetensors');
    const loupe = await loupeOutputs(readFileSync(bundle), job, 8, inputs);
    const torch = (await torchOutputs(job, join(twoProcesses, 'model.safetensors'), inputs)) as { labels: string[]; probabilities: number[][] };
    expect(torch.labels).toEqual(loupe.metadata.labels);
    expect(loupe.output).toHaveLength(8);
    const argmax = (p: number[]) => p.indexOf(Math.max(...p));
    expect(loupe.output.map(argmax)).toEqual(torch.probabilities.map(argmax));
    const gap = Math.max(...loupe.output.flatMap((p, i) => p.map((v, j) => Math.abs(v - torch.probabilities[i]![j]!))));
    console.log(`[cluster] class probabilities, tfjs vs PyTorch: largest gap ${gap.toExponential(2)}`);
    expect(gap).toBeLessThan(1e-4);
  });

  it('puts the imported version through the promotion gate', async () => {
    const out = join(dir, 'gate');
    const gate = await runCli('gate', '--candidate', bundle, '--eval', join(job, 'dataset'), '--out-dir', out);
    expect([EXIT.ok, EXIT.rejected], gate.err).toContain(gate.code);
    expect(readJsonFile<{ evalData: { split: string; samples: number } }>(join(out, 'decision.json')).evalData).toMatchObject({ split: 'test', samples: 8 });
  });
});
