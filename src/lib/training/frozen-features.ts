import * as tf from '@tensorflow/tfjs';
import type { BackboneSplit } from '$models/backbones/split';
import type { SampleRow } from '$lib/db/types';
import type { TrainableModel } from '$lib/tasks/types';
import type { EvaluationForward } from './evaluate';
import type { Batch, BatchSource } from './loop';

/** Every training sample's features (one tensor per backbone output) and targets, rows by sample id. */
interface FeatureCache {
  features: tf.Tensor[];
  targets: tf.Tensor;
  rowOf: Map<string, number>;
}

/**
 * The batches of a frozen backbone's epochs: each batch's images go through the backbone once, in
 * inference mode and outside the gradient tape, and the head trains on the features. When the inputs
 * are the same every epoch (no augmentation) the first frozen epoch keeps every sample's features on the
 * device, and the later frozen epochs gather their batches from them — the text encoder's embedding
 * cache, for a backbone — so a linear probe's epoch costs the head's steps alone.
 */
export class FrozenFeatures {
  readonly #split: BackboneSplit;
  readonly #source: BatchSource;
  /** Which samples each batch of an epoch holds: the same order and size the source uses. */
  readonly #batchIds: (epoch: number) => string[][];
  readonly #reuse: boolean;
  #cache?: FeatureCache;
  /** Validation features by chunk (validation reads the same chunks every epoch); inference never augments. */
  readonly #validation = new Map<string, tf.Tensor[]>();

  constructor(split: BackboneSplit, source: BatchSource, batchIds: (epoch: number) => string[][], reuse: boolean) {
    this.#split = split;
    this.#source = source;
    this.#batchIds = batchIds;
    this.#reuse = reuse;
  }

  /** The head the frozen epochs train (the model's own head layers). */
  get head(): tf.LayersModel {
    return this.#split.head;
  }

  /** Whether the next frozen epoch reads stored features instead of running the backbone. */
  get cached(): boolean {
    return this.#cache !== undefined;
  }

  readonly batches: BatchSource = (epoch) => (this.#cache ? this.#fromCache(epoch, this.#cache) : this.#computed(epoch));

  async *#computed(epoch: number): AsyncGenerator<Batch> {
    const ids = this.#batchIds(epoch);
    const kept: { ids: string[]; features: tf.Tensor[]; targets: tf.Tensor }[] = [];
    let index = 0;
    let complete = false;
    try {
      for await (const batch of this.#source(epoch)) {
        let features: tf.Tensor[];
        try {
          features = [this.#split.features.predict(batch.xs, { batchSize: batch.size }) as tf.Tensor | tf.Tensor[]].flat();
        } finally {
          tf.dispose(batch.xs);
        }
        if (this.#reuse) kept.push({ ids: ids[index]!, features: features.map((f) => f.clone()), targets: batch.ys.clone() });
        index++;
        yield { xs: features.length === 1 ? features[0]! : features, ys: batch.ys, size: batch.size };
      }
      complete = true;
    } finally {
      // Only a whole epoch's features are kept: an epoch cut short (cancelled, failed) leaves no cache.
      if (complete && kept.length > 0) {
        const rowOf = new Map(kept.flatMap((k) => k.ids).map((id, row) => [id, row]));
        const width = kept[0]!.features.length;
        this.#cache = {
          features: Array.from({ length: width }, (_, i) => tf.concat(kept.map((k) => k.features[i]!))),
          targets: tf.concat(kept.map((k) => k.targets)),
          rowOf,
        };
      }
      tf.dispose(kept.flatMap((k) => [...k.features, k.targets]));
    }
  }

  async *#fromCache(epoch: number, cache: FeatureCache): AsyncGenerator<Batch> {
    for (const ids of this.#batchIds(epoch)) {
      const rows = tf.tensor1d(
        ids.map((id) => cache.rowOf.get(id)!),
        'int32',
      );
      const features = cache.features.map((f) => tf.gather(f, rows));
      const ys = tf.gather(cache.targets, rows);
      rows.dispose();
      yield { xs: features.length === 1 ? features[0]! : features, ys, size: ids.length };
    }
  }

  /**
   * Validation while frozen: the head on the validation samples' backbone features, computed in the
   * first frozen epoch and kept until the backbone unfreezes.
   */
  validation(trainable: TrainableModel): EvaluationForward {
    return {
      model: this.#split.head,
      inputs: async (rows: SampleRow[]) => {
        const key = rows.map((r) => r.id).join('\n');
        let kept = this.#validation.get(key);
        if (!kept) {
          const xs = await trainable.toInputs(rows, { training: false });
          try {
            kept = [this.#split.features.predict(xs, { batchSize: rows.length }) as tf.Tensor | tf.Tensor[]].flat();
          } finally {
            tf.dispose(xs);
          }
          this.#validation.set(key, kept);
        }
        // The caller disposes what it is given: hand it copies.
        const copies = kept.map((t) => t.clone());
        return copies.length === 1 ? copies[0]! : copies;
      },
    };
  }

  /** Frees the stored features (the backbone unfroze). */
  dropCache(): void {
    tf.dispose([...this.#validation.values()].flat());
    this.#validation.clear();
    if (this.#cache) tf.dispose([...this.#cache.features, this.#cache.targets]);
    this.#cache = undefined;
  }

  /** Frees the stored features and ends the split (the run ended); the model keeps every weight. */
  dispose(): void {
    this.dropCache();
    this.#split.release();
  }
}
