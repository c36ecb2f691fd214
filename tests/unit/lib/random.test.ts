import { describe, expect, it } from 'vitest';
import { deriveSeed, mulberry32, shuffled } from '../../../src/lib/random';

describe('seeded randomness', () => {
  it('repeats a sequence for the same seed and differs across seeds', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const seqA = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(seqA);
    expect(Array.from({ length: 5 }, c)).not.toEqual(seqA);
    expect(seqA.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('is roughly uniform', () => {
    const random = mulberry32(7);
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < 20_000; i++) buckets[Math.floor(random() * 10)]++;
    for (const count of buckets) expect(Math.abs(count - 2000)).toBeLessThan(200);
  });

  it('derives independent, stable seeds per purpose', () => {
    expect(deriveSeed(1, 'shuffle', 3)).toBe(deriveSeed(1, 'shuffle', 3));
    const seeds = new Set([deriveSeed(1, 'shuffle', 3), deriveSeed(1, 'shuffle', 4), deriveSeed(1, 'augment', 3), deriveSeed(2, 'shuffle', 3)]);
    expect(seeds.size).toBe(4);
  });

  it('shuffles into a permutation without touching the input', () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const out = shuffled(items, mulberry32(1));
    expect(out).not.toEqual(items);
    expect([...out].sort((x, y) => x - y)).toEqual(items);
    expect(items[0]).toBe(0);
  });
});
