import type * as tf from '@tensorflow/tfjs';

/** tfjs's Dropout keeps its seed in a plain field and seeds a fresh generator from it on every call. */
interface SeededLayer {
  seed?: number;
}

/** The dropout layers of a model (nested models included), each with the seed it was built with. */
export interface DropoutSeeds {
  /** Seeds every dropout layer for one gradient computation: step `batch` of `epoch`, micro-batch `slice`. */
  reseed(epoch: number, batch: number, slice: number): void;
  /** Puts the built seeds back, so a saved model's config is the one it was built with. */
  restore(): void;
}

/**
 * tfjs draws a dropout mask from the layer's seed alone, so a seeded layer repeats one mask for every batch
 * of the same shape: a batch position keeps its units dropped for the whole run. Deriving each step's seed
 * from (layer seed, epoch, batch, slice) gives a fresh mask per step that a resumed run draws again exactly,
 * since a checkpoint restores the epoch. Layers built without a seed draw at random and are left alone.
 */
export function dropoutSeeds(model: tf.LayersModel): DropoutSeeds {
  const layers = seededDropoutLayers(model).map((layer) => ({ layer, built: layer.seed! }));
  return {
    reseed(epoch, batch, slice) {
      for (const entry of layers) entry.layer.seed = mixSeed(entry.built, epoch, batch, slice);
    },
    restore() {
      for (const entry of layers) entry.layer.seed = entry.built;
    },
  };
}

function seededDropoutLayers(model: tf.LayersModel): SeededLayer[] {
  return model.layers.flatMap((layer): SeededLayer[] => {
    if ('layers' in layer) return seededDropoutLayers(layer as tf.LayersModel);
    const seeded = layer as unknown as SeededLayer;
    return layer.getClassName() === 'Dropout' && typeof seeded.seed === 'number' ? [seeded] : [];
  });
}

/** A 32-bit hash of the parts (murmur3's finaliser after each), so nearby steps get unrelated seeds. */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}
