/**
 * Seeded randomness for datasets (splits, subsets, demo data). The generator itself lives in
 * `$lib/random` (shared with training); this module adds the draws datasets need, so every module
 * that must be reproducible imports from one place.
 * @example const random = mulberry32(deriveSeed(seed, 'split', 'minor')); const i = randInt(random, 0, 10);
 */
import { deriveSeed, mulberry32, shuffled } from '$lib/random';

export { deriveSeed, mulberry32, shuffled };

/** A generator for one purpose derived from a base seed, e.g. `rng(seed, 'coin', 17)`. */
export function rng(seed: number, ...parts: (string | number)[]): () => number {
  return mulberry32(deriveSeed(seed, ...parts));
}

/** Integer in [min, max] (both inclusive). */
export function randInt(random: () => number, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

/** Uniform float in [min, max). */
export function uniform(random: () => number, min: number, max: number): number {
  return min + random() * (max - min);
}

/** Standard normal draw (Box–Muller). */
export function normal(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** One element, uniformly. */
export function pick<T>(random: () => number, items: readonly T[]): T {
  if (items.length === 0) throw new Error('pick() from an empty list');
  return items[Math.floor(random() * items.length)]!;
}
