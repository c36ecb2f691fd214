/**
 * Frozen-backbone epochs against a full epoch (docs/benchmarks.md, "Fine-tuning: frozen epochs"): the same
 * image classifier and data trained (1) with every layer training, (2) with the backbone frozen and no
 * augmentation — its first epoch computes the backbone's features once, the later ones reuse them — and
 * (3) frozen with augmentation, where the features change every epoch and are computed again. The wasm
 * backend with Loupe's training kernels, as the trainer worker runs it.
 */
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { registerWasmTrainingKernels } from '../../src/lib/backends/wasm-kernels/index';
import { encodePng } from '../../src/lib/datasets/png';
import { LoupeDb } from '../../src/lib/db/db';
import type { SampleRow } from '../../src/lib/db/types';
import type { ModelSpec } from '../../src/lib/db/specs';
import { mulberry32 } from '../../src/lib/random';
import { runTrainJob, type TrainJobSpec } from '../../src/lib/training/job';
import { median, printTable } from './env';

export interface FineTuneBenchOptions {
  /** Training images (plus a quarter as many for validation). */
  images: number;
  inputSize: number;
  batch: number;
  backbone: 'mobilenetv3-small' | 'resnet18';
}

export interface FineTuneBenchResult {
  options: FineTuneBenchOptions;
  /** Seconds per epoch, training and validation, by kind of epoch. */
  rows: { epoch: string; seconds: number[]; median: number; perFull: number }[];
}

async function seed(db: LoupeDb, options: FineTuneBenchOptions): Promise<string> {
  const classes = ['dark', 'bright'];
  const side = 64; // stored size; decoded at the model's input size, as uploads are
  const samples: SampleRow[] = [];
  const total = options.images + Math.ceil(options.images / 4);
  for (let i = 0; i < total; i++) {
    const random = mulberry32(i);
    const cls = i % 2;
    const data = Uint8Array.from({ length: side * side * 3 }, () => Math.round(40 + cls * 150 + random() * 60));
    const png = encodePng({ width: side, height: side, channels: 3, data }, 1);
    samples.push({ id: `s${i}`, datasetId: 'bench', split: i < options.images ? 'train' : 'val', label: classes[cls]!, hash: `h${i}`, path: `${classes[cls]}/${i}.png`, blobs: [new Blob([png as BlobPart], { type: 'image/png' })] });
  }
  await db.datasets.add({ id: 'bench', name: 'bench', task: 'image-classification', createdAt: 1, sampleCount: samples.length, labels: classes });
  await db.samples.bulkAdd(samples);
  return 'bench';
}

/** Seconds of each epoch of a run: from one epoch's end (or the first frozen note) to the next's. */
async function epochSeconds(db: LoupeDb, spec: TrainJobSpec): Promise<number[]> {
  const ends: number[] = [];
  let start: number | undefined;
  const result = await runTrainJob(db, spec, {
    backend: { backend: 'wasm', adapter: 'wasm' },
    onProgress: (event) => {
      // A frozen epoch announces itself before its first batch; otherwise epoch 1 counts from its first batch's end.
      if (event.kind === 'log' && start === undefined) start = performance.now();
      if (event.kind === 'batch' && event.epoch === 1 && event.batch === 1 && start === undefined) start = performance.now();
      if (event.kind === 'epoch') ends.push(performance.now());
    },
  });
  result.trainable.dispose();
  return ends.map((end, i) => (end - (i === 0 ? start! : ends[i - 1]!)) / 1000);
}

export async function benchFineTune(options: FineTuneBenchOptions): Promise<FineTuneBenchResult> {
  registerWasmTrainingKernels({});
  const db = new LoupeDb('bench-fine-tune', { indexedDB: new IDBFactory(), IDBKeyRange });
  const datasetId = await seed(db, options);
  const model = (augmentation: 'none' | 'default', freezeEpochs: number): ModelSpec => ({
    architecture: 'damage-classifier',
    backbone: options.backbone,
    inputSize: options.inputSize,
    projection: null,
    dropout: 0,
    augmentation,
    ...(freezeEpochs > 0 ? { fineTune: { freezeEpochs } } : {}),
  });
  const spec = (m: ModelSpec, epochs: number): TrainJobSpec => ({ task: 'image-classification', datasetId, model: m, epochs, batchSize: options.batch, optimizer: 'adam', learningRate: 0.001, seed: 1, readEvery: 1 });
  const full = await epochSeconds(db, spec(model('none', 0), 3));
  const cached = await epochSeconds(db, spec(model('none', 4), 4));
  const augmented = await epochSeconds(db, spec(model('default', 3), 3));
  const fullMedian = median(full.slice(1));
  const row = (epoch: string, seconds: number[]) => ({ epoch, seconds, median: median(seconds), perFull: median(seconds) / fullMedian });
  const rows = [
    row('full: every layer trains (epochs 2–3)', full.slice(1)),
    row('frozen, first epoch: backbone forward once, head trains (no augmentation)', cached.slice(0, 1)),
    row('frozen, features reused (epochs 2–4)', cached.slice(1)),
    row('frozen with augmentation: features computed every epoch (epochs 2–3)', augmented.slice(1)),
  ];
  console.log(`Fine-tuning epochs (wasm, ${options.backbone} classifier at ${options.inputSize}², ${options.images} training + ${Math.ceil(options.images / 4)} validation images, batch ${options.batch}; seconds per epoch incl. validation):`);
  printTable(
    ['epoch', 'seconds', 'median s', '× full epoch'],
    rows.map((r) => [r.epoch, r.seconds.map((s) => s.toFixed(2)).join(' '), r.median.toFixed(2), r.perFull.toFixed(3)]),
  );
  db.close();
  return { options, rows };
}
