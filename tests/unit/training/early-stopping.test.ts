import { describe, expect, it } from 'vitest';
import { EarlyStopping, EarlyStoppingConfigError } from '../../../src/lib/training/early-stopping';

describe('EarlyStopping', () => {
  it('picks the direction from the metric name', () => {
    expect(new EarlyStopping({ monitor: 'val_loss', patience: 1 }).mode).toBe('min');
    expect(new EarlyStopping({ monitor: 'val_mae', patience: 1 }).mode).toBe('min');
    expect(new EarlyStopping({ monitor: 'val_accuracy', patience: 1 }).mode).toBe('max');
  });

  it('stops after `patience` epochs without improvement beyond minDelta', () => {
    const es = new EarlyStopping({ monitor: 'val_loss', patience: 2, minDelta: 0.01 });
    const decisions = [1.0, 0.8, 0.795, 0.81, 0.7].map((v, i) => es.update(i + 1, { val_loss: v }));
    expect(decisions.map((d) => d.improved)).toEqual([true, true, false, false, true]);
    expect(decisions.map((d) => d.stop)).toEqual([false, false, false, true, false]);
    expect(es.bestEpoch).toBe(5);
  });

  it('restores its state so a resumed run stops at the same epoch', () => {
    const a = new EarlyStopping({ monitor: 'val_accuracy', patience: 2 });
    a.update(1, { val_accuracy: 0.5 });
    a.update(2, { val_accuracy: 0.4 });
    const b = new EarlyStopping({ monitor: 'val_accuracy', patience: 2 });
    b.restore(a.state());
    expect(b.update(3, { val_accuracy: 0.45 })).toEqual(a.update(3, { val_accuracy: 0.45 }));
  });

  it('rejects a negative or fractional patience', () => {
    expect(() => new EarlyStopping({ monitor: 'val_loss', patience: -1 })).toThrow(EarlyStoppingConfigError);
    expect(() => new EarlyStopping({ monitor: 'val_loss', patience: 1.5 })).toThrow('earlyStopping.patience must be a whole number');
  });
});
