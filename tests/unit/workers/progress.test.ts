import { describe, expect, expectTypeOf, it } from 'vitest';
import { describeProgress, isKind, type ProgressEvent } from '../../../src/lib/progress';

const events: ProgressEvent[] = [
  { kind: 'log', level: 'info', message: 'loading data' },
  { kind: 'progress', label: 'images', done: 3, total: 10 },
  { kind: 'fold', index: 1, k: 5 },
  { kind: 'batch', epoch: 1, batch: 4, batches: 20, loss: 0.51234 },
  { kind: 'epoch', epoch: 2, epochs: 5, metrics: { val_loss: 0.25, mae: 12.5 } },
  { kind: 'checkpoint', epoch: 2, checkpointId: 'c2' },
  { kind: 'done' },
  { kind: 'failed', reason: 'loss became NaN at epoch 3' },
];

describe('progress events', () => {
  it('narrows by kind', () => {
    const epochs = events.filter(isKind('epoch'));
    expectTypeOf(epochs).toEqualTypeOf<Extract<ProgressEvent, { kind: 'epoch' }>[]>();
    expect(epochs.map((e) => e.metrics.mae)).toEqual([12.5]);
  });

  it('describes every kind in one line', () => {
    expect(events.map(describeProgress)).toEqual([
      'loading data',
      'images: 3/10',
      'fold 2 of 5',
      'epoch 1 batch 4/20 loss 0.5123',
      'epoch 2/5 val_loss=0.2500 mae=12.5000',
      'checkpoint saved after epoch 2',
      'done',
      'failed: loss became NaN at epoch 3',
    ]);
  });

  it('rejects events that do not match the union at compile time', () => {
    // @ts-expect-error an epoch event needs its metrics
    const bad: ProgressEvent = { kind: 'epoch', epoch: 1, epochs: 2 };
    expect(bad.kind).toBe('epoch');
  });
});
