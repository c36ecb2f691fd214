import { describe, expect, it } from 'vitest';
import type { AlertRuleRow } from '../../../src/lib/db/types';
import { PipelineExecutor } from '../../../src/lib/pipelines/executor';
import type { StepDefinition } from '../../../src/lib/pipelines/runner';
import { PipelineScheduler, SCHEDULER_LOCK, type Elect } from '../../../src/lib/pipelines/scheduler';
import type { PipelineServices } from '../../../src/lib/pipelines/services';
import { makeDb, makeLogRow } from '../factories';
import { fakeClock, makePipeline, storePipeline, T0 } from './helpers';

const instantSteps: StepDefinition[] = [{ name: 'train', kind: 'train', needs: [], enabled: () => true, run: async () => ({ runId: 'r' }) }];

/**
 * The Web Locks semantics the election relies on, for one lock name: one holder at a time, waiters
 * served in order, an aborted waiter leaves the queue.
 */
function lockElection(): Elect {
  const queue: { grant: () => void; aborted: boolean }[] = [];
  let holder: { release: () => void } | undefined;
  const next = () => {
    if (holder) return;
    const waiter = queue.shift();
    if (!waiter) return;
    if (waiter.aborted) return next();
    waiter.grant();
  };
  return (onLeader) => {
    let released = false;
    const entry = {
      aborted: false,
      grant: () => {
        holder = { release: () => undefined };
        onLeader();
      },
    };
    queue.push(entry);
    next();
    return () => {
      if (released) return;
      released = true;
      entry.aborted = true;
      if (holder && queue.indexOf(entry) === -1) {
        holder = undefined;
        next();
      }
    };
  };
}

function tabs(db: ReturnType<typeof makeDb>, now: () => number, elect: Elect, count = 2) {
  const services = { db, now } as unknown as PipelineServices;
  return Array.from({ length: count }, (_, i) => {
    const executor = new PipelineExecutor(services, { steps: instantSteps, tabId: `tab-${i}` });
    return new PipelineScheduler(db, executor, { elect, now, tickMs: 3_600_000, dataCheckMs: 0, timeZone: 'UTC' });
  });
}

async function settled(db: ReturnType<typeof makeDb>) {
  for (let i = 0; i < 100 && (await db.pipelineRuns.where('status').anyOf('queued', 'running').count()) > 0; i++) await new Promise((r) => setTimeout(r, 10));
}

const rule = (id: string, action: AlertRuleRow['action'], model = 'sentiment'): AlertRuleRow => ({
  id,
  model,
  name: 'AccuracyDrop',
  metric: 'accuracy',
  comparison: '<',
  threshold: 0.7,
  windowMinutes: 60,
  forMinutes: 5,
  severity: 'warning',
  action,
  enabled: true,
  createdAt: T0,
});

describe('PipelineScheduler', () => {
  it('exactly one tab evaluates schedules; when it leaves, the next takes over', async () => {
    const db = makeDb();
    const clock = fakeClock();
    await storePipeline(db, makePipeline({}, { triggers: { schedule: { kind: 'interval', every: 10, unit: 'seconds' }, minNewSamples: 0, onAlert: false } }));
    const [a, b] = tabs(db, clock.now, lockElection());
    a!.start();
    b!.start();
    expect([a!.leader, b!.leader]).toEqual([true, false]);
    await a!.tick(); // the tick it ran on becoming leader: nothing due yet
    expect(await db.pipelineRuns.count()).toBe(0);
    clock.advance(10_000);
    await a!.tick();
    await settled(db);
    let runs = await db.pipelineRuns.toArray();
    expect(runs.map((r) => [r.trigger.kind, r.runner, r.status])).toEqual([['schedule', 'tab-0', 'completed']]);

    a!.stop(); // the tab closes
    expect(b!.leader).toBe(true);
    await b!.tick();
    clock.advance(10_000);
    await b!.tick();
    await settled(db);
    runs = (await db.pipelineRuns.toArray()).sort((x, y) => x.queuedAt - y.queuedAt);
    expect(runs.map((r) => r.runner)).toEqual(['tab-0', 'tab-1']);
    b!.stop();
    expect(SCHEDULER_LOCK).toBe('loupe-pipelines-scheduler');
  });

  it('starts a run once per firing alert whose rule asks to retrain, and ignores notify-only rules', async () => {
    const db = makeDb();
    const clock = fakeClock();
    const pipeline = await storePipeline(db, makePipeline({}, { triggers: { schedule: { kind: 'none' }, minNewSamples: 0, onAlert: true } }));
    await db.alertRules.bulkPut([rule('rule-retrain', 'retrain'), rule('rule-notify', 'notify'), rule('rule-other-model', 'retrain', 'coin-year')]);
    const firing = (id: string, ruleId: string, model = 'sentiment') => ({ id, rule: ruleId, state: 'firing' as const, since: T0, firedAt: T0, labels: { model }, summary: `${ruleId} fired` });
    await db.alerts.bulkPut([firing('al-1', 'rule-retrain'), firing('al-2', 'rule-notify'), firing('al-3', 'rule-other-model', 'coin-year')]);
    const [scheduler] = tabs(db, clock.now, lockElection(), 1);
    scheduler!.start();
    await settled(db);
    await scheduler!.tick();
    await settled(db);
    const runs = await db.pipelineRuns.toArray();
    expect(runs).toHaveLength(1);
    expect(runs[0]!.trigger).toMatchObject({ kind: 'alert', alertId: 'al-1', detail: 'alert rule-retrain fired (al-1)' });
    expect((await db.pipelines.get(pipeline.id))?.state?.handledAlerts).toEqual(['al-1']);

    await db.alerts.put(firing('al-4', 'rule-retrain'));
    clock.advance(1000);
    await scheduler!.tick();
    await settled(db);
    expect((await db.pipelineRuns.toArray()).map((r) => r.trigger.alertId).sort()).toEqual(['al-1', 'al-4']);
    scheduler!.stop();
  });

  it('starts a run once enough feedback labels arrived since the last run', async () => {
    const db = makeDb();
    const clock = fakeClock();
    await storePipeline(db, makePipeline({}, { triggers: { schedule: { kind: 'none' }, minNewSamples: 3, onAlert: false } }));
    const labelled = (i: number) => makeLogRow({ ts: T0 + i, feedback: 'positive', feedbackAt: T0 + 100 + i, input: { text: `great ${i}` } });
    await db.inferenceLog.bulkAdd([labelled(1), labelled(2), makeLogRow({ ts: T0 + 3 }), makeLogRow({ ts: T0 - 50, feedback: 'negative', feedbackAt: T0 - 10 })]);
    const [scheduler] = tabs(db, clock.now, lockElection(), 1);
    clock.advance(1000);
    scheduler!.start();
    await scheduler!.tick();
    await settled(db);
    expect(await db.pipelineRuns.count()).toBe(0); // two new labels (the older one predates the pipeline)

    await db.inferenceLog.add(labelled(3));
    clock.advance(1000);
    await scheduler!.tick();
    await settled(db);
    const runs = await db.pipelineRuns.toArray();
    expect(runs.map((r) => r.trigger)).toEqual([{ kind: 'data', detail: '3 new labelled samples (threshold 3)' }]);
    scheduler!.stop();
  });
});
