import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { generateCoins } from '../../../src/lib/datasets/demo/coins';
import { importBundle } from '../../../src/lib/registry/bundle';
import { ModelRegistry } from '../../../src/lib/registry/registry';
import { loadTrainable } from '../../../src/lib/tasks/registry';
import type { SampleRow } from '../../../src/lib/db/types';
import { serializeSafetensors } from '../../../models/weights/safetensors';
import { makeDb } from '../factories';
import { PYTHON } from '../../fixtures/pretrained';

export { hasTorch, PYTHON } from '../../fixtures/pretrained';

/** Demo coins at 64 px with a split column: half train, a quarter val, a quarter test. */
export function writeSplitCoins(dir: string, count = 32): string {
  const root = join(dir, 'coins');
  mkdirSync(join(root, 'images'), { recursive: true });
  const rows = generateCoins({ count, size: 64 }).map((coin, i) => {
    writeFileSync(join(root, 'images', `${coin.id}_front.png`), coin.front);
    writeFileSync(join(root, 'images', `${coin.id}_back.png`), coin.back);
    const split = i < count / 2 ? 'train' : i < (count * 3) / 4 ? 'val' : 'test';
    return `images/${coin.id}_front.png,images/${coin.id}_back.png,${coin.year},${split}`;
  });
  writeFileSync(join(root, 'manifest.csv'), `front,back,year,split\n${rows.join('\n')}\n`);
  return root;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function runProcess(args: string[], env: Record<string, string>, cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    child.stdout.on('data', (d) => (log += d));
    child.stderr.on('data', (d) => (log += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(log) : reject(new Error(`${args.join(' ')} exited ${code}:\n${log}`))));
  });
}

/**
 * Runs an exported job's train.py as `world` processes joined by gloo, started the way torchrun starts
 * them (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT): Debian's torchrun itself fails on
 * Python 3.11. Resolves with rank 0's log.
 */
export async function trainJob(jobDir: string, out: string, world: number, extra: string[] = []): Promise<string> {
  const port = String(await freePort());
  const ranks = Array.from({ length: world }, (_, rank) =>
    runProcess(['train.py', '--out', out, ...extra], world > 1 ? { RANK: String(rank), LOCAL_RANK: String(rank), WORLD_SIZE: String(world), MASTER_ADDR: '127.0.0.1', MASTER_PORT: port } : {}, jobDir),
  );
  return (await Promise.all(ranks))[0]!;
}

export function readJsonFile<T = Record<string, unknown>>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/**
 * Loupe's side of the parity check: the imported bundle loaded as the registry serves it, its inputs for
 * the first `count` test samples of the exported dataset (decoded and normalised by the studio's code),
 * and its raw outputs. The inputs are written for PyTorch as `input_0`, `input_1` (NHWC).
 */
export async function loupeOutputs(bundle: Uint8Array, jobDir: string, count: number, inputsFile: string): Promise<{ output: number[][]; metadata: Record<string, unknown> }> {
  const db = makeDb();
  try {
    const row = await importBundle(new ModelRegistry(db), bundle);
    const trainable = await loadTrainable({ modelJson: row.modelJson!, shards: row.shards! });
    try {
      const manifest = readJsonFile<{ samples: { path: string; files: string[]; label: string | number; split: string }[] }>(join(jobDir, 'dataset', 'loupe-dataset.json'));
      const held = manifest.samples.filter((s) => s.split === 'test').slice(0, count);
      const rows = held.map(
        (s, i): SampleRow => ({
          id: `t${i}`,
          datasetId: 'x',
          split: 'test',
          label: s.label,
          hash: `h${i}`,
          path: s.path,
          blobs: s.files.map((f) => new Blob([readFileSync(join(jobDir, 'dataset', f))], { type: 'image/png' })),
        }),
      );
      const inputs = await trainable.toInputs(rows, { training: false });
      const list = Array.isArray(inputs) ? inputs : [inputs];
      const tensors = new Map(list.map((t, k) => [`input_${k}`, { dtype: 'F32' as const, shape: t.shape, data: t.dataSync() as Float32Array }]));
      writeFileSync(inputsFile, serializeSafetensors({ metadata: {}, tensors }));
      const output = tf.tidy(() => trainable.model.predict(list.length === 1 ? list[0]! : list) as tf.Tensor2D);
      const values = output.arraySync();
      tf.dispose([output, ...list]);
      return { output: values, metadata: trainable.metadata };
    } finally {
      trainable.dispose();
    }
  } finally {
    db.close();
  }
}

/** PyTorch's side: predict.py on the same input tensors. */
export async function torchOutputs(jobDir: string, weights: string, inputsFile: string): Promise<Record<string, number[] | number[][] | string[]>> {
  const out = `${inputsFile}.json`;
  await runProcess(['predict.py', '--job', join(jobDir, 'job.json'), '--weights', weights, '--inputs', inputsFile, '--out', out], {}, jobDir);
  return readJsonFile(out);
}
