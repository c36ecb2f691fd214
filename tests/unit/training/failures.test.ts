import { describe, expect, it } from 'vitest';
import { setDb } from '../../../src/lib/db/db';
import { classifyFailure, failureReason } from '../../../src/lib/training/failures';
import type { TrainJobSpec } from '../../../src/lib/training/job';
import type { ProgressEvent } from '../../../src/lib/progress';
import { TrainerService } from '../../../src/lib/workers/trainer-service';
import { makeDb, seedSentimentDataset } from '../factories';

describe('classifyFailure', () => {
  it('recognises out-of-memory and lost-device errors from the backends', () => {
    expect(classifyFailure(new Error('Failed to allocate buffer of 1073741824 bytes'))).toBe('out-of-memory');
    expect(classifyFailure(new RangeError('Array buffer allocation failed'))).toBe('out-of-memory');
    expect(classifyFailure(new Error('GPU device was lost: reason destroyed'))).toBe('device-lost');
    expect(classifyFailure(new Error('WebGL context lost.'))).toBe('device-lost');
    expect(classifyFailure(new Error('shapes do not match'))).toBe('other');
  });

  it('suggests smaller settings when memory runs out', () => {
    expect(failureReason(new Error('Failed to allocate buffer'), { batchSize: 64, inputSize: 224, backend: 'webgpu' })).toBe(
      'The webgpu device ran out of memory (Failed to allocate buffer). Try a smaller batch size than 64, a smaller input size than 224 px, or the MobileNetV3-Small backbone.',
    );
  });
});

describe('lost GPU device', () => {
  it('continues the run from its checkpoint on the next backend and records the move', async () => {
    const db = makeDb();
    setDb(db);
    const datasetId = await seedSentimentDataset(db);
    const spec: TrainJobSpec = {
      task: 'text-classification',
      datasetId,
      model: { architecture: 'fasttext', dim: 8, buckets: 1024 },
      epochs: 3,
      batchSize: 16,
      optimizer: 'adam',
      learningRate: 0.05,
      seed: 4,
    };
    const events: ProgressEvent[] = [];
    let lost = false;
    // The device goes away right after epoch 1 is checkpointed. In Node the run starts on wasm (standing
    // in for a GPU backend) and cpu takes over.
    const outcome = await new TrainerService().train(
      spec,
      'wasm',
      (event) => {
        events.push(event);
        if (event.kind === 'checkpoint' && event.epoch === 1 && !lost) {
          lost = true;
          throw new Error('GPU device was lost: reason unknown');
        }
      },
      () => {},
    );
    const run = await db.runs.get(outcome.runId);
    expect(run?.status).toBe('completed');
    expect(run?.fallbacks).toEqual([{ from: 'wasm', to: 'cpu', at: expect.any(Number) }]);
    expect(run?.backend).toBe('cpu');
    expect(events.some((e) => e.kind === 'log' && /device was lost.*Continuing on/.test(e.message))).toBe(true);
    const epochs = (await db.metricPoints.where('runId').equals(outcome.runId).toArray()).filter((p) => p.name === 'val_loss').map((p) => p.epoch);
    expect(epochs).toEqual([1, 2, 3]);
    db.close();
  });
});
