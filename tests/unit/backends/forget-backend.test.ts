import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { forgetBackend, useBackend } from '../../../src/lib/backends/tfjs';

// tfjs's own bookkeeping (`findBackend` would create a missing instance instead of saying it is gone).
const engine = () => tf.engine() as unknown as { registry: Record<string, tf.KernelBackend>; registryFactory: Record<string, { priority: number }> };

describe('forgetBackend (after a lost device)', () => {
  afterAll(async () => {
    await useBackend('cpu');
  });

  it('drops the broken instance and lets the next use create a fresh one, with the same priority', async () => {
    let created = 0;
    const cpu = tf.findBackend('cpu') ?? (await tf.setBackend('cpu'), tf.findBackend('cpu'))!;
    const CpuBackend = cpu.constructor as new () => tf.KernelBackend;
    tf.registerBackend('lost-device-test', () => (created++, new CpuBackend()), 3);
    await tf.setBackend('lost-device-test');
    const broken = tf.findBackend('lost-device-test')!;
    const dispose = vi.spyOn(broken, 'dispose');

    await forgetBackend('lost-device-test');
    expect(dispose).toHaveBeenCalledOnce();
    expect(engine().registry['lost-device-test']).toBeUndefined();
    expect(created).toBe(1);
    expect(engine().registryFactory['lost-device-test']?.priority).toBe(3);

    await tf.setBackend('lost-device-test');
    expect(created).toBe(2);
    expect(engine().registry['lost-device-test']).not.toBe(broken);
    tf.removeBackend('lost-device-test');
  });

  it('makes useBackend resolve the choice again instead of returning the dead backend', async () => {
    const first = await useBackend('cpu');
    const before = tf.backend();
    await forgetBackend('cpu');
    const again = await useBackend('cpu');
    expect(again.backend).toBe(first.backend);
    expect(tf.backend()).not.toBe(before);
    const sum = tf.add(tf.scalar(1), tf.scalar(2));
    expect(await sum.data()).toEqual(Float32Array.of(3));
    sum.dispose();
  });

  it('does nothing for a backend tfjs never had', async () => {
    await expect(forgetBackend('no-such-backend')).resolves.toBeUndefined();
  });
});
