import os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { describe, expect, it, vi } from 'vitest';
import { useThreadedWasmInNode } from '../../../src/cli/wasm-threads';
import { startWasm } from '../kernels/wasm';

describe('tfjs wasm threaded in Node, when it cannot start', () => {
  it("falls back to tfjs's single-threaded build with a warning, and still computes", async () => {
    // Nowhere to write the pthread script: the threaded module cannot start.
    vi.spyOn(os, 'tmpdir').mockReturnValue('/nonexistent/loupe-test');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    useThreadedWasmInNode(2);
    await startWasm();
    expect(tf.getBackend()).toBe('wasm');
    expect(getThreadsCount()).toBe(1);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/threaded wasm build did not start \(.*nonexistent.*\); using one thread/));
    const sum = tf.add(tf.scalar(1), tf.scalar(2));
    expect(await sum.data()).toEqual(new Float32Array([3]));
    sum.dispose();
    vi.restoreAllMocks();
  });
});
