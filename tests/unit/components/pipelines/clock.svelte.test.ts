import { flushSync } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Clock, untilText } from '../../../../src/components/pipelines/clock.svelte';

describe('Clock', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_700_000_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('ticks every second while its component lives, and stops with it', () => {
    let clock!: Clock;
    const destroy = $effect.root(() => {
      clock = new Clock();
    });
    flushSync();
    const start = clock.now;
    const countdown = () => untilText(start + 10_000, clock.now);
    expect(countdown()).toBe('in 10 s');
    vi.advanceTimersByTime(3000);
    expect(countdown()).toBe('in 7 s');
    destroy();
    vi.advanceTimersByTime(3000);
    expect(countdown()).toBe('in 7 s');
  });
});

describe('untilText', () => {
  it('says how long until a time in the largest sensible unit', () => {
    expect([-1, 4_000, 182_000, 3 * 3_600_000 + 60_000, 5 * 86_400_000].map((ms) => untilText(ms, 0))).toEqual([
      'due now',
      'in 4 s',
      'in 3 min 2 s',
      'in 3 h 1 min',
      'in 5 days',
    ]);
  });
});
