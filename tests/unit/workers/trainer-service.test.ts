import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { TrainerService } from '../../../src/lib/workers/trainer-service';
import type { ProgressEvent } from '../../../src/lib/progress';

describe('TrainerService.checkTraining', () => {
  it('fits a line on the cpu backend, reporting batches and done, without leaking tensors', async () => {
    const trainer = new TrainerService();
    await trainer.useBackend('cpu');
    await trainer.checkTraining('cpu', 3, () => {});
    const before = tf.memory().numTensors;
    const events: ProgressEvent[] = [];
    const result = await trainer.checkTraining('cpu', 60, (e) => void events.push(e));

    expect(result.backend.backend).toBe('cpu');
    expect(result.firstGradientNorm).toBeGreaterThan(0);
    expect(result.finalLoss).toBeLessThan(result.initialLoss / 100);
    expect(events.filter((e) => e.kind === 'batch').length).toBeGreaterThanOrEqual(5);
    expect(events.at(-1)).toMatchObject({ kind: 'done' });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reports an unknown backend as a failed event and a rejection', async () => {
    const events: ProgressEvent[] = [];
    await expect(new TrainerService().checkTraining('tpu', 5, (e) => void events.push(e))).rejects.toThrow(/Valid choices/);
    expect(events).toEqual([{ kind: 'failed', reason: expect.stringContaining('Unknown backend "tpu"') }]);
  });
});
