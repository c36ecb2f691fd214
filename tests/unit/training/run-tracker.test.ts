import { describe, expect, it } from 'vitest';
import { RunTracker, metricSeries, runDuration, runStatusText } from '../../../src/lib/training/run-tracker';
import { markInterruptedRuns } from '../../../src/lib/training/job';
import { makeDb } from '../factories';

const newRun = { name: 'coin baseline', task: 'coin-year' as const, params: { task: 'coin-year' as const, datasetId: 'ds1', model: { architecture: 'coin-regressor' as const, backbone: 'mobilenetv3-small' as const }, epochs: 2, learningRate: 0.001 }, seed: 7, datasetVersion: 'ds1' };

describe('RunTracker', () => {
  it('records a run from queued to completed with its params, backend and metrics', async () => {
    const db = makeDb();
    const run = await RunTracker.create(db, newRun, 1000);
    await expect(db.runs.get(run.id)).resolves.toMatchObject({ status: 'queued', params: newRun.params, seed: 7, appVersion: expect.any(String) });
    await run.start('wasm', 'WebAssembly (SIMD)', 2000);
    run.log(1, { loss: 0.9, val_loss: 1.1 }, 1);
    run.log(2, { loss: 0.5, val_loss: 0.7 }, 2);
    await run.complete({ val_mae: 12.3 }, 5000);
    await expect(db.runs.get(run.id)).resolves.toMatchObject({
      status: 'completed',
      backend: 'wasm',
      adapter: 'WebAssembly (SIMD)',
      startedAt: 2000,
      endedAt: 5000,
      metrics: { val_mae: 12.3 },
    });
    await expect(metricSeries(db, run.id)).resolves.toEqual({
      loss: [
        { step: 1, value: 0.9 },
        { step: 2, value: 0.5 },
      ],
      val_loss: [
        { step: 1, value: 1.1 },
        { step: 2, value: 0.7 },
      ],
    });
    db.close();
  });

  it('keeps the failure reason, and refuses to end a run twice', async () => {
    const db = makeDb();
    const run = await RunTracker.create(db, newRun);
    await run.start('cpu', 'JavaScript CPU kernels');
    await run.fail('The loss became NaN at epoch 3, batch 2.');
    await expect(db.runs.get(run.id)).resolves.toMatchObject({ status: 'failed', failureReason: 'The loss became NaN at epoch 3, batch 2.' });
    await expect(run.complete({})).rejects.toThrow(/already ended as failed/);
    db.close();
  });

  it('writes buffered points only on flush, and keeps runs apart', async () => {
    const db = makeDb();
    const a = await RunTracker.create(db, newRun);
    const b = await RunTracker.create(db, newRun);
    a.log(1, { loss: 1 });
    b.log(1, { loss: 2 });
    await expect(db.metricPoints.count()).resolves.toBe(0);
    await a.flush();
    await b.flush();
    await expect(metricSeries(db, a.id)).resolves.toEqual({ loss: [{ step: 1, value: 1 }] });
    await expect(metricSeries(db, b.id)).resolves.toEqual({ loss: [{ step: 1, value: 2 }] });
    db.close();
  });

  it('counts training time only: a tab closed for hours before Resume adds nothing', async () => {
    const db = makeDb();
    const run = await RunTracker.create(db, newRun, 0);
    await run.start('cpu', 'JavaScript CPU kernels', 1_000);
    run.log(1, { loss: 0.9 }, 1, 61_000); // the last thing the closed tab wrote
    await run.flush();
    await expect(markInterruptedRuns(db)).resolves.toEqual([run.id]);
    const interrupted = (await db.runs.get(run.id))!;
    expect(runStatusText(interrupted)).toBe('interrupted — resumable');
    expect(runDuration(interrupted, 5 * 3_600_000)).toBe(60_000);

    const resumed = RunTracker.attach(db, run.id);
    await resumed.start('cpu', 'JavaScript CPU kernels', 3 * 3_600_000);
    expect(runDuration((await db.runs.get(run.id))!, 3 * 3_600_000 + 5_000)).toBe(65_000);
    await resumed.complete({ val_mae: 3 }, 3 * 3_600_000 + 30_000);
    const done = (await db.runs.get(run.id))!;
    expect(done).toMatchObject({ status: 'completed', startedAt: 1_000, trainingMs: 90_000 });
    expect(runStatusText(done)).toBe('completed');
    expect(runDuration(done, Date.now())).toBe(90_000);
    db.close();
  });

  it('reads runs stored before training time was recorded from start to end', () => {
    const old = { status: 'completed', startedAt: 1_000, endedAt: 438_000 } as Parameters<typeof runDuration>[0];
    expect(runDuration(old, Date.now())).toBe(437_000);
  });
});
