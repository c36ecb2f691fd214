import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { forgetBackend, probeAllBackends, useBackend } from '../../../src/lib/backends/tfjs';

describe('probeAllBackends', () => {
  it('gives overlapping probes in one context the same answers as one probe alone', async () => {
    const alone = await probeAllBackends('cpu');
    for (let i = 0; i < 3; i++) {
      // A backend whose start is asynchronous (WebGPU in a browser, WebAssembly here) starting afresh.
      await forgetBackend('wasm');
      const [first, second, used] = await Promise.all([probeAllBackends('cpu'), probeAllBackends('cpu'), useBackend('wasm')]);
      expect(first).toEqual(alone);
      expect(second).toEqual(alone);
      expect(used.backend).toBe('wasm');
      expect(tf.backend()).toBe(tf.engine().findBackend(tf.getBackend()));
    }
  });
});
