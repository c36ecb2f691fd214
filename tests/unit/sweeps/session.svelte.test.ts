import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { setDb, type LoupeDb } from '../../../src/lib/db/db';
import type { SweepEvent } from '../../../src/lib/sweeps/controller';
import { SweepSession } from '../../../src/lib/sweeps/session.svelte';
import { TrainingCancelledError } from '../../../src/lib/training/loop';
import { notifications } from '../../../src/lib/ui/notifications.svelte';
import { makeDb } from '../factories';

/** The sweep controller, driven by the test: a sweep runs until the test ends it. */
const controller = vi.hoisted(() => {
  const state = {
    onEvent: (() => {}) as (event: SweepEvent) => void,
    signal: undefined as AbortSignal | undefined,
    finish: (() => {}) as (result: { status: string; trials: unknown[] }) => void,
    fail: (() => {}) as (error: unknown) => void,
    created: [] as string[],
    runs: 0,
  };
  const continueSweep = (_db: unknown, _id: string, context: { onEvent: (event: SweepEvent) => void; signal: AbortSignal }) => {
    state.runs++;
    state.onEvent = context.onEvent;
    state.signal = context.signal;
    return new Promise((resolve, reject) => {
      state.finish = resolve;
      state.fail = reject;
    });
  };
  const createSweep = async (_db: unknown, source: string) => {
    state.created.push(source);
    return { id: `sweep-${state.created.length}` };
  };
  return Object.assign(state, { continueSweep, createSweep });
});
vi.mock('../../../src/lib/sweeps/controller', () => ({ continueSweep: controller.continueSweep, createSweep: controller.createSweep, sweepLockName: (id: string) => `sweep-${id}` }));
vi.mock('../../../src/lib/sweeps/worker-runner', () => ({ workerTrialRunner: () => ({}) }));

let db: LoupeDb;
beforeAll(() => {
  db = makeDb();
  setDb(db);
});
afterAll(() => db.close());
beforeEach(() => {
  notifications.items = [];
});

const running = (index: number) => ({ kind: 'trial', trial: { index, status: 'running', params: {} } }) as unknown as SweepEvent;
const lastNotice = () => notifications.items.at(-1);

describe('SweepSession', () => {
  it('stores a new sweep, shows the running trial and its progress, and says when the sweep finished', async () => {
    const session = new SweepSession();
    const before = controller.runs;
    const id = await session.start('method: grid', 'ds');
    expect(id).toMatch(/^sweep-\d+$/);
    await vi.waitFor(() => expect(controller.runs).toBe(before + 1));
    expect(session).toMatchObject({ busy: true, sweepId: id, trialProgress: 0 });
    await expect(session.start('method: random', 'ds')).rejects.toThrow(/already running in this tab/);

    controller.onEvent(running(2));
    controller.onEvent({ kind: 'train', index: 2, event: { kind: 'epoch', epoch: 1, epochs: 4, metrics: {} } });
    expect(session).toMatchObject({ trial: 2, epoch: 2, epochs: 4, batch: 0, trialProgress: 0.25 });
    controller.onEvent({ kind: 'train', index: 2, event: { kind: 'batch', epoch: 2, batch: 5, batches: 10 } });
    expect(session.trialProgress).toBe(0.375);

    controller.finish({ status: 'completed', trials: [{}, {}, {}, {}] });
    await vi.waitFor(() => expect(session.busy).toBe(false));
    expect(lastNotice()).toMatchObject({ level: 'ok', message: 'Sweep finished: 4 trials.' });
  });

  it('stops on cancel without calling it a failure', async () => {
    const session = new SweepSession();
    const before = controller.runs;
    const run = session.run('sweep-9');
    await vi.waitFor(() => expect(controller.runs).toBe(before + 1));
    session.cancel();
    expect(controller.signal?.aborted).toBe(true);
    controller.fail(new TrainingCancelledError());
    await run;
    expect(session).toMatchObject({ busy: false, error: undefined });
    expect(lastNotice()).toBeUndefined();
  });

  it('shows why a sweep failed', async () => {
    const session = new SweepSession();
    const before = controller.runs;
    const run = session.run('sweep-9');
    await vi.waitFor(() => expect(controller.runs).toBe(before + 1));
    controller.fail(new Error('3 trials in a row failed; the last one: the run was cancelled by a crash'));
    await run;
    expect(session).toMatchObject({ busy: false, error: '3 trials in a row failed; the last one: the run was cancelled by a crash' });
    expect(lastNotice()).toMatchObject({ level: 'error', message: expect.stringMatching(/^The sweep failed: 3 trials/) });
  });
});
