import * as tf from '@tensorflow/tfjs';
import type { LoupeDb } from '$lib/db/db';
import { guardQuota } from '$lib/db/quota';
import type { NamedTensor } from '@tensorflow/tfjs-core/dist/tensor_types';
import type { CheckpointRow } from '$lib/db/types';
import { MAX_SHARD_BYTES, saveToBlobs } from '$models/io';

export interface EncodedTensors {
  specs: tf.io.WeightsManifestEntry[];
  shards: Blob[];
}

/** Tensors → weight specs and byte shards (the tfjs weights format). Reads each tensor back once. */
export async function encodeTensors(named: NamedTensor[]): Promise<EncodedTensors> {
  const { data, specs } = await tf.io.encodeWeights(named);
  const bytes = new Uint8Array(data as ArrayBuffer);
  const shards: Blob[] = [];
  for (let offset = 0; offset < bytes.byteLength || shards.length === 0; offset += MAX_SHARD_BYTES) {
    shards.push(new Blob([bytes.slice(offset, offset + MAX_SHARD_BYTES)]));
  }
  return { specs, shards };
}

/** The inverse of `encodeTensors`, in spec order; checks the bytes add up before decoding. */
export async function decodeTensors(specs: tf.io.WeightsManifestEntry[], shards: Blob[]): Promise<tf.Tensor[]> {
  const buffers = await Promise.all(shards.map((s) => s.arrayBuffer()));
  const total = buffers.reduce((sum, b) => sum + b.byteLength, 0);
  const expected = specs.reduce((sum, s) => sum + s.shape.reduce((a, b) => a * b, 1) * bytesPerElement(s.dtype), 0);
  if (total !== expected) throw new Error(`checkpoint weights hold ${total} bytes but their specs need ${expected}`);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const buffer of buffers) {
    joined.set(new Uint8Array(buffer), offset);
    offset += buffer.byteLength;
  }
  const map = tf.io.decodeWeights(joined.buffer, specs);
  return specs.map((s) => map[s.name]!);
}

function bytesPerElement(dtype: string): number {
  if (dtype === 'float32' || dtype === 'int32') return 4;
  if (dtype === 'bool') return 1;
  throw new Error(`unsupported weight dtype ${dtype}`);
}

/** What the loop needs, besides weights, to continue exactly where it stopped. */
export interface LoopState {
  history: { epoch: number; metrics: Record<string, number> }[];
  earlyStopping?: { best: number; bestEpoch: number; wait: number };
  /** The best epoch's weights, when early stopping restores them at the end. */
  bestWeights?: EncodedTensors;
}

export interface CheckpointData extends CheckpointRow {
  weightSpecs: tf.io.WeightsManifestEntry[];
  optimizerSpecs: tf.io.WeightsManifestEntry[];
  loopState: LoopState;
}

/**
 * Saves weights, optimizer state (e.g. Adam's moments and step) and loop state after an epoch, as one
 * row, and drops the run's older checkpoints in the same transaction. Shuffles derive from (run seed,
 * epoch), augmentation from (run seed, epoch, batch), and a dropout mask from (layer seed, epoch, batch,
 * micro-batch) (dropout-seeds.ts), so the epoch is the whole random state.
 */
export async function saveCheckpoint(
  db: LoupeDb,
  runId: string,
  epoch: number,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  loopState: LoopState,
): Promise<string> {
  const weights = await encodeTensors(model.weights.map((w) => ({ name: w.originalName, tensor: w.read() })));
  const optimizerState = await optimizer.getWeights();
  const optimizerWeights = await encodeTensors(optimizerState);
  // getWeights returns the slot variables themselves plus a fresh step-count scalar: free only the latter.
  tf.dispose(optimizerState.map((n) => n.tensor).filter((t) => !(t instanceof tf.Variable)));
  const row: CheckpointData = {
    id: `${runId}:${epoch}`,
    runId,
    epoch,
    createdAt: Date.now(),
    modelJson: JSON.stringify({ weightsManifest: [{ paths: weights.shards.map((_, i) => `weights.${i}.bin`), weights: weights.specs }] }),
    shards: weights.shards,
    optimizerShards: optimizerWeights.shards,
    weightSpecs: weights.specs,
    optimizerSpecs: optimizerWeights.specs,
    loopState,
  };
  // One transaction: when storage is full it aborts whole, and the previous checkpoint stays the latest.
  await guardQuota(`the checkpoint of epoch ${epoch}`, () =>
    db.transaction('rw', db.checkpoints, async () => {
      await db.checkpoints.put(row);
      await db.checkpoints.where('runId').equals(runId).and((c) => c.epoch < epoch).delete();
    }),
  );
  return row.id;
}

export async function latestCheckpoint(db: LoupeDb, runId: string): Promise<CheckpointData | undefined> {
  const rows = await db.checkpoints.where('[runId+epoch]').between([runId, -Infinity], [runId, Infinity]).toArray();
  return rows.at(-1) as CheckpointData | undefined;
}

/** Loads a checkpoint's weights into `model` and its state into `optimizer`. */
export async function restoreCheckpoint(checkpoint: CheckpointData, model: tf.LayersModel, optimizer: tf.Optimizer): Promise<void> {
  const weights = await decodeTensors(checkpoint.weightSpecs, checkpoint.shards);
  if (weights.length !== model.weights.length) {
    tf.dispose(weights);
    throw new Error(`the checkpoint has ${weights.length} weights but the model has ${model.weights.length}: was the model config changed?`);
  }
  model.setWeights(weights);
  tf.dispose(weights);
  const state = await decodeTensors(checkpoint.optimizerSpecs, checkpoint.optimizerShards ?? []);
  try {
    await optimizer.setWeights(checkpoint.optimizerSpecs.map((spec, i) => ({ name: spec.name, tensor: state[i]! })));
  } finally {
    // The optimizer's slots are variables made from these (holding their own reference to the data).
    tf.dispose(state);
  }
}

/**
 * Stores the model a completed run ends with (after early stopping restored its best epoch) as complete
 * tfjs artifacts — topology, metadata, weights — in place of its last checkpoint. This is what the
 * registry registers from the run.
 */
export async function saveFinalModel(db: LoupeDb, runId: string, epoch: number, model: tf.LayersModel): Promise<void> {
  const saved = await saveToBlobs(model);
  const manifest = (JSON.parse(saved.modelJson) as { weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] }).weightsManifest;
  const row: CheckpointData = {
    id: `${runId}:${epoch}`,
    runId,
    epoch,
    createdAt: Date.now(),
    modelJson: saved.modelJson,
    shards: saved.shards,
    weightSpecs: manifest.flatMap((group) => group.weights),
    optimizerSpecs: [],
    loopState: { history: [] },
  };
  await guardQuota('the trained model', () =>
    db.transaction('rw', db.checkpoints, async () => {
      await db.checkpoints.where('runId').equals(runId).delete();
      await db.checkpoints.put(row);
    }),
  );
}
