import { describe, expect, it } from 'vitest';
import type { PipelineRunRow } from '../../../src/lib/db/types';
import { executeRun, pendingSteps, type StepDefinition } from '../../../src/lib/pipelines/runner';
import type { PipelineServices } from '../../../src/lib/pipelines/services';
import type { StepName } from '../../../src/lib/pipelines/types';
import { makeDb } from '../factories';
import { fakeClock, makePipeline, storePipeline } from './helpers';

/** Steps that record their calls; `fail` and `block` make one misbehave. */
function recordingSteps(calls: StepName[], options: { fail?: StepName; needs?: Partial<Record<StepName, StepName[]>>; skipDeploy?: boolean } = {}): StepDefinition[] {
  const names: StepName[] = ['collect', 'validate', 'dataset', 'train', 'evaluate', 'register', 'gate', 'deploy'];
  return names.map((name, i) => ({
    name,
    kind: name,
    needs: options.needs?.[name] ?? (i === 0 ? [] : [names[i - 1]!]),
    enabled: (config) => (name === 'evaluate' ? config.steps.evaluate : true),
    skipReason: name === 'deploy' && options.skipDeploy ? () => 'skipped: the gate rejected it' : undefined,
    async run(ctx) {
      calls.push(name);
      ctx.log(`ran ${name}`);
      if (options.fail === name) throw new Error(`${name} broke: the disk is full`);
      const previous = i > 0 ? ctx.outputOf<{ n: number }>(names[i - 1]!) : undefined;
      return { n: (previous?.n ?? 0) + 1 };
    },
    artifacts: name === 'dataset' ? (output) => ({ datasetVersion: `ds-${String(output.n)}` }) : undefined,
  }));
}

function services(db: ReturnType<typeof makeDb>, now: () => number): PipelineServices {
  return { db, now } as unknown as PipelineServices;
}

function newRun(pipelineId: string, steps: StepDefinition[], now: number): PipelineRunRow {
  return { id: 'run-1', pipelineId, model: 'sentiment', status: 'running', trigger: { kind: 'manual', detail: 'test' }, queuedAt: now, startedAt: now, dataUntil: now, steps: pendingSteps(steps), artifacts: {} };
}

describe('executeRun', () => {
  it('runs the steps in order, passing outputs along, and records statuses, times, logs and artifacts', async () => {
    const db = makeDb();
    const clock = fakeClock();
    const pipeline = await storePipeline(db, makePipeline());
    const calls: StepName[] = [];
    const steps = recordingSteps(calls);
    const done = await executeRun(db, pipeline, newRun(pipeline.id, steps, clock.now()), steps, services(db, () => clock.advance(1000)));
    expect(calls).toEqual(['collect', 'validate', 'dataset', 'train', 'evaluate', 'register', 'gate', 'deploy']);
    expect(done.status).toBe('completed');
    expect(done.steps.map((s) => s.output?.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(done.steps.every((s) => s.status === 'completed' && s.endedAt! > s.startedAt! && s.log[0] === `ran ${s.name}`)).toBe(true);
    expect(done.artifacts.datasetVersion).toBe('ds-3');
    expect(await db.pipelineRuns.get('run-1')).toMatchObject({ status: 'completed', artifacts: { datasetVersion: 'ds-3' } });
    // A completed run moves the pipeline's data watermark to the time the run took its data.
    expect((await db.pipelines.get(pipeline.id))?.state?.watermark).toBe(done.dataUntil);
  });

  it('skips turned-off steps and those whose needs did not run, saying why', async () => {
    const db = makeDb();
    const clock = fakeClock();
    const pipeline = await storePipeline(db, makePipeline({}, { steps: { data: true, evaluate: false, register: true, gate: true, deploy: true } }));
    const calls: StepName[] = [];
    const steps = recordingSteps(calls, { needs: { register: ['train'] }, skipDeploy: true });
    const done = await executeRun(db, pipeline, newRun(pipeline.id, steps, clock.now()), steps, services(db, clock.now));
    expect(calls).toEqual(['collect', 'validate', 'dataset', 'train', 'register', 'gate']);
    const byName = Object.fromEntries(done.steps.map((s) => [s.name, s]));
    expect(byName.evaluate).toMatchObject({ status: 'skipped', log: ['skipped: turned off in the pipeline config'] });
    expect(byName.deploy).toMatchObject({ status: 'skipped', log: ['skipped: the gate rejected it'] });
    expect(done.status).toBe('completed');
  });

  it('records a failed step with its reason and runs nothing after it; the watermark stays', async () => {
    const db = makeDb();
    const clock = fakeClock();
    const pipeline = await storePipeline(db, makePipeline());
    const calls: StepName[] = [];
    const steps = recordingSteps(calls, { fail: 'train' });
    const done = await executeRun(db, pipeline, newRun(pipeline.id, steps, clock.now()), steps, services(db, clock.now));
    expect(calls).toEqual(['collect', 'validate', 'dataset', 'train']);
    expect(done.status).toBe('failed');
    expect(done.error).toBe('train: train broke: the disk is full');
    expect(done.steps.find((s) => s.name === 'train')).toMatchObject({ status: 'failed', error: 'train broke: the disk is full' });
    expect(done.steps.filter((s) => s.status === 'skipped').map((s) => s.name)).toEqual(['evaluate', 'register', 'gate', 'deploy']);
    expect((await db.pipelines.get(pipeline.id))?.state?.watermark).toBeUndefined();
  });

  it('resumes an interrupted run at the step it was in, without repeating completed steps', async () => {
    const db = makeDb();
    const clock = fakeClock();
    const pipeline = await storePipeline(db, makePipeline());
    const calls: StepName[] = [];
    const steps = recordingSteps(calls);
    // As a reload leaves it: three steps completed, the fourth running with a partial output.
    const run = newRun(pipeline.id, steps, clock.now());
    run.steps.slice(0, 3).forEach((record, i) => Object.assign(record, { status: 'completed', startedAt: clock.now(), endedAt: clock.now(), output: { n: i + 1 } }));
    Object.assign(run.steps[3]!, { status: 'running', startedAt: clock.now(), output: { runId: 'r-1' } });
    await db.pipelineRuns.put(run);

    const stored = (await db.pipelineRuns.get('run-1'))!;
    const done = await executeRun(db, pipeline, stored, steps, services(db, () => clock.advance(10)));
    expect(calls).toEqual(['train', 'evaluate', 'register', 'gate', 'deploy']);
    const trainStep = done.steps[3]!;
    expect(trainStep.output).toEqual({ runId: 'r-1', n: 4 }); // the partial output survived the resume
    expect(trainStep.log[0]).toMatch(/^resumed at .* after an interruption$/);
    expect(done.steps.map((s) => s.output?.n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(done.status).toBe('completed');
  });

  it('stops between steps when cancelled', async () => {
    const db = makeDb();
    const clock = fakeClock();
    const pipeline = await storePipeline(db, makePipeline());
    const calls: StepName[] = [];
    const controller = new AbortController();
    const steps = recordingSteps(calls).map((step) => (step.name === 'dataset' ? { ...step, run: async () => (controller.abort(), { n: 3 }) } : step));
    const done = await executeRun(db, pipeline, newRun(pipeline.id, steps, clock.now()), steps, services(db, clock.now), { signal: controller.signal });
    expect(calls).toEqual(['collect', 'validate']);
    expect(done.status).toBe('cancelled');
    expect(done.steps.slice(3).every((s) => s.status === 'skipped')).toBe(true);
  });
});
