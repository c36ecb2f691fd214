import { describe, expect, it } from 'vitest';
import { hyperbandBands, hyperbandVerdict } from '../../../src/lib/sweeps/hyperband';

describe('hyperband', () => {
  it('places bands at min_iter·etaᵏ epochs, or ⌊max_iter/etaⁱ⌋ for i = 1…s', () => {
    expect(hyperbandBands({ type: 'hyperband', min_iter: 1, eta: 2 }, 10)).toEqual([1, 2, 4, 8]);
    expect(hyperbandBands({ type: 'hyperband', min_iter: 3, eta: 3 }, 30)).toEqual([3, 9, 27]);
    expect(hyperbandBands({ type: 'hyperband', max_iter: 27, s: 2, eta: 3 }, 30)).toEqual([3, 9]);
    expect(hyperbandBands({ type: 'hyperband', max_iter: 5, s: 2, eta: 2 }, 10)).toEqual([1, 2]);
    expect(hyperbandBands({ type: 'hyperband', min_iter: 4, eta: 3 }, 3)).toEqual([]);
  });

  it('stops exactly the trials outside the best ≈1/eta at a band (W&B threshold)', () => {
    // Four trials at the same band, loss (minimize): the bar is the value at index ⌊4/2⌋ of the sorted list.
    expect(hyperbandVerdict(2, 'minimize', 0.9, [0.5, 0.6, 0.7])).toEqual({ stop: true, threshold: 0.7, compared: 4 });
    expect(hyperbandVerdict(2, 'minimize', 0.7, [0.5, 0.6, 0.9])).toEqual({ stop: false, threshold: 0.7, compared: 4 });
    expect(hyperbandVerdict(2, 'minimize', 0.6, [0.5, 0.7, 0.9]).stop).toBe(false);
    // Accuracy (maximize), eta 3: keep the best ⌊n/3⌋ + 1.
    expect(hyperbandVerdict(3, 'maximize', 0.4, [0.9, 0.8]).stop).toBe(true);
    expect(hyperbandVerdict(3, 'maximize', 0.85, [0.9, 0.8]).stop).toBe(false);
    expect(hyperbandVerdict(3, 'maximize', 0.8, [0.9, 0.85]).stop).toBe(true);
  });

  it('never stops a lone trial, and ties pass', () => {
    expect(hyperbandVerdict(3, 'minimize', 100, []).stop).toBe(false);
    expect(hyperbandVerdict(2, 'minimize', 0.5, [0.5, 0.5, 0.5]).stop).toBe(false);
  });

  it('reproduces the example of wandb/sweeps hyperband_stop_runs (max_iter 5, eta 2, s 2)', () => {
    // Runs a…e with loss histories; W&B stops b (fails band 1) and c (passes band 1, fails band 2).
    const histories: Record<string, number[]> = { a: [10, 9], b: [10, 10], c: [10, 8, 8], d: [10, 7, 7], e: [10, 6, 6] };
    const bands = hyperbandBands({ type: 'hyperband', max_iter: 5, s: 2, eta: 2 }, 10); // [1, 2] in W&B's 0-based history index
    const stopped = ['b', 'c', 'd'].filter((name) => {
      const history = histories[name]!;
      const passed = bands.filter((b) => b < history.length);
      const band = passed.at(-1)!;
      const peers = Object.entries(histories).filter(([n, h]) => n !== name && h.length > band).map(([, h]) => h[band]!);
      return hyperbandVerdict(2, 'minimize', history[band]!, peers).stop;
    });
    expect(stopped).toEqual(['b', 'c']);
  });
});
