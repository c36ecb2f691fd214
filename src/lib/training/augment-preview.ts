import type { LoupeDb } from '$lib/db/db';
import type { Augmentation, TaskName } from '$lib/db/specs';
import { augmentRgb, resolveAugmentation } from '$lib/images/augment';
import { decodeRgb } from '$lib/images/decode';
import { TASKS } from '$lib/tasks/registry';
import { sampleChunks } from './evaluate';
import { augmentRandom, epochOrder, splitIds } from './job';

/** One sample of a preview: its path and each of its images (a coin's front and back) as RGB floats in [0, 255]. */
export interface PreviewSample {
  path: string;
  images: Float32Array[];
}

/**
 * The first `count` images of a run's first training batch as augmentation makes them — the same
 * samples, the same draws: epoch 1's shuffle of the train split, decoded at the model's input size,
 * augmented by the generator batch 1 uses, each side of every sample in the batch in turn (as
 * `toInputs` does). So the Train page shows what the model will really see, before it starts.
 * @example const samples = await augmentationPreview(db, { task: 'coin-year', datasetId, seed: 42, batchSize: 16, inputSize: 128 }, 8);
 */
export async function augmentationPreview(
  db: LoupeDb,
  run: { task: TaskName; datasetId: string; seed: number; batchSize: number; inputSize: number; augmentation?: Augmentation },
  count: number,
): Promise<PreviewSample[]> {
  const { input, augmentation: taskDefault } = TASKS[run.task];
  if (!taskDefault || input === 'text') throw new Error(`${run.task} has no image augmentation`);
  const policy = resolveAugmentation(run.augmentation, taskDefault);
  const order = epochOrder(await splitIds(db, run.datasetId, 'train'), run.seed, 1);
  const batch = order.slice(0, Math.max(1, run.batchSize));
  const sides = input === 'image-pair' ? 2 : 1;
  const rows = [];
  for await (const chunk of sampleChunks(db, batch, batch.length)) rows.push(...chunk);
  const random = augmentRandom(run.seed, 1, 0);
  const samples: PreviewSample[] = rows.slice(0, count).map((row) => ({ path: row.path, images: [] }));
  for (let side = 0; side < sides; side++) {
    // Every sample of the batch draws, in order, so the shown ones get the draws training gives them.
    for (const [i, row] of rows.entries()) {
      const blob = row.blobs?.[side];
      if (!blob) throw new Error(`sample ${row.path} has no image ${side + 1}`);
      const { data } = await decodeRgb(blob, run.inputSize, row.path, { sample: i, image: side });
      const augmented = augmentRgb(data, run.inputSize, random, policy);
      if (i < count) samples[i]!.images.push(augmented);
    }
  }
  return samples;
}
