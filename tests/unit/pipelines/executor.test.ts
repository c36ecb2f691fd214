import { describe, expect, it } from 'vitest';
import { PipelineExecutor } from '../../../src/lib/pipelines/executor';
import { pendingSteps, type StepDefinition } from '../../../src/lib/pipelines/runner';
import type { PipelineServices } from '../../../src/lib/pipelines/services';
import { makeDb } from '../factories';
import { deferred, fakeClock, makePipeline, storePipeline } from './helpers';

/** Two steps; `train` waits for the test to release it, so a run stays in progress while the test looks. */
function gatedSteps(gates: { promise: Promise<void> }[], started: string[]): StepDefinition[] {
  return [
    { name: 'collect', kind: 'collect', needs: [], enabled: () => true, run: async () => ({}) },
    {
      name: 'train',
      kind: 'train',
      needs: [],
      enabled: () => true,
      async run(ctx) {
        started.push(ctx.run.id);
        await gates[started.length - 1]?.promise;
        return { runId: `trained-by-${ctx.run.id}` };
      },
    },
  ];
}

const manual = { kind: 'manual' as const, detail: 'Run now' };
const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

describe('PipelineExecutor: one run per model at a time', () => {
  it('starts the first trigger, queues the second, merges the third, and runs the queued one afterwards', async () => {
    const db = makeDb();
    const clock = fakeClock();
    const pipeline = await storePipeline(db, makePipeline({ model: 'model-a' }));
    const gates = [deferred(), deferred()];
    const started: string[] = [];
    const services = { db, now: () => clock.advance(1) } as unknown as PipelineServices;
    // Two tabs on one database: the model lock is shared, as Web Locks are across an origin's tabs.
    const tabA = new PipelineExecutor(services, { steps: gatedSteps(gates, started), tabId: 'tab-a' });
    const tabB = new PipelineExecutor(services, { steps: gatedSteps(gates, started), tabId: 'tab-b' });

    const [first, second] = await Promise.all([tabA.request(pipeline.id, manual), tabB.request(pipeline.id, { kind: 'schedule', detail: 'every 5 seconds' })]);
    const outcomes = [first.status, second.status].sort();
    expect(outcomes).toEqual(['queued', 'started']);
    const queued = first.status === 'queued' ? first : second;
    expect(queued.message).toMatch(/^Queued Retrain sentiment: run pr-.* of this pipeline is in progress\.$/);
    const third = await tabA.request(pipeline.id, { kind: 'data', detail: '60 new labelled samples' });
    expect(third.status).toBe('merged');
    expect(third.message).toMatch(/already has a run waiting/);

    await tick();
    expect(started).toHaveLength(1);
    let rows = await db.pipelineRuns.toArray().then((r) => r.sort((a, b) => a.queuedAt - b.queuedAt));
    expect(rows.map((r) => r.status)).toEqual(['running', 'queued']);
    expect(rows[1]!.notes?.some((n) => /also triggered .* data — 60 new labelled samples/.test(n))).toBe(true);

    gates[0]!.resolve();
    await (first.status === 'started' ? first.done : second.status === 'started' ? second.done : undefined);
    for (let i = 0; i < 50 && started.length < 2; i++) await tick();
    expect(started).toHaveLength(2); // the queued run started once the model was free
    gates[1]!.resolve();
    for (let i = 0; i < 50 && (await db.pipelineRuns.where('status').equals('completed').count()) < 2; i++) await tick();
    rows = await db.pipelineRuns.toArray().then((r) => r.sort((a, b) => a.queuedAt - b.queuedAt));
    expect(rows.map((r) => r.status)).toEqual(['completed', 'completed']);
    expect(new Set(started).size).toBe(2);
  });

  it('with overlap "skip", records the second trigger as skipped with the reason', async () => {
    const db = makeDb();
    const clock = fakeClock();
    const pipeline = await storePipeline(db, makePipeline({ model: 'model-b' }, { overlap: 'skip' }));
    const gate = deferred();
    const started: string[] = [];
    const executor = new PipelineExecutor({ db, now: () => clock.advance(1) } as unknown as PipelineServices, { steps: gatedSteps([gate], started) });
    const first = await executor.request(pipeline.id, manual);
    const second = await executor.request(pipeline.id, { kind: 'schedule', detail: 'every 5 seconds' });
    expect(first.status).toBe('started');
    expect(second).toMatchObject({ status: 'skipped', message: expect.stringMatching(/^Skipped: run .* of this pipeline is in progress \(the pipeline skips overlapping triggers\)\.$/) });
    expect((await db.pipelineRuns.get(second.run.id))?.status).toBe('skipped');
    // Further skips for the same reason count on that row rather than adding one per tick.
    const third = await executor.request(pipeline.id, { kind: 'schedule', detail: 'every 5 seconds' });
    expect(third).toMatchObject({ status: 'skipped', repeat: true, message: expect.stringMatching(/\(2 times\)$/) });
    expect((await db.pipelineRuns.toArray()).map((r) => [r.status, r.repeats])).toEqual([
      ['running', undefined],
      ['skipped', 2],
    ]);
    gate.resolve();
    if (first.status === 'started') await first.done;
    expect(started).toHaveLength(1);
  });

  it('a second pipeline of the same model waits for the first one’s run', async () => {
    const db = makeDb();
    const clock = fakeClock();
    const one = await storePipeline(db, makePipeline({ id: 'pl-one', model: 'model-c' }));
    const two = await storePipeline(db, makePipeline({ id: 'pl-two', model: 'model-c', name: 'Nightly sentiment' }));
    const gates = [deferred(), deferred()];
    const started: string[] = [];
    const executor = new PipelineExecutor({ db, now: () => clock.advance(1) } as unknown as PipelineServices, { steps: gatedSteps(gates, started) });
    const a = await executor.request(one.id, manual);
    const b = await executor.request(two.id, manual);
    expect([a.status, b.status]).toEqual(['started', 'queued']);
    expect(b.message).toMatch(/of pipeline pl-one is in progress/);
    gates.forEach((g) => g.resolve());
    for (let i = 0; i < 50 && (await db.pipelineRuns.where('status').equals('completed').count()) < 2; i++) await tick();
    expect(started).toHaveLength(2);
  });

  it('continues a run that a closed tab left running, at its step, in another tab', async () => {
    const db = makeDb();
    const clock = fakeClock();
    const pipeline = await storePipeline(db, makePipeline({ model: 'model-d' }));
    const started: string[] = [];
    const steps = gatedSteps([], started);
    const records = pendingSteps(steps);
    Object.assign(records[0]!, { status: 'completed', output: {} });
    Object.assign(records[1]!, { status: 'running', output: { runId: 'half-trained' } });
    await db.pipelineRuns.put({ id: 'pr-orphan', pipelineId: pipeline.id, model: pipeline.model, status: 'running', trigger: manual, queuedAt: 1, startedAt: 1, steps: records, artifacts: {}, runner: 'closed-tab' });

    const executor = new PipelineExecutor({ db, now: () => clock.advance(1) } as unknown as PipelineServices, { steps, tabId: 'new-tab' });
    await executor.drainAll();
    const row = await db.pipelineRuns.get('pr-orphan');
    expect(row).toMatchObject({ status: 'completed', resumes: 1, runner: 'new-tab' });
    expect(row?.steps[1]?.output).toEqual({ runId: 'trained-by-pr-orphan' });
    expect(started).toEqual(['pr-orphan']);
  });
});
