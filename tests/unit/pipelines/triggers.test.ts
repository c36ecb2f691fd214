import { describe, expect, it } from 'vitest';
import type { AlertRow } from '../../../src/lib/db/types';
import { describeSchedule, nextFireAfter, ScheduleError, validateSchedule } from '../../../src/lib/pipelines/schedule';
import { evaluateTriggers, nextScheduledRun } from '../../../src/lib/pipelines/triggers';
import { PipelineConfigError, validateConfig, defaultConfig } from '../../../src/lib/pipelines/config';
import type { Schedule } from '../../../src/lib/pipelines/types';
import { fakeClock, makePipeline, T0 } from './helpers';

const every = (n: number, unit: 'seconds' | 'minutes' | 'hours' | 'days'): Schedule => ({ kind: 'interval', every: n, unit });
const quiet = { retrainAlerts: [], busy: false };
const alert = (id: string, state: AlertRow['state'] = 'firing'): AlertRow => ({ id, rule: 'rule-1', state, since: T0, firedAt: T0, labels: { model: 'sentiment' }, summary: 'accuracy dropped' });

describe('schedules', () => {
  it('computes the next time of intervals and cron expressions', () => {
    expect(nextFireAfter(every(2, 'hours'), T0)).toBe(T0 + 7_200_000);
    expect(nextFireAfter(every(30, 'seconds'), T0)).toBe(T0 + 30_000);
    // 10:00 UTC → the next 03:00 is tomorrow
    expect(nextFireAfter({ kind: 'cron', expression: '0 3 * * *' }, T0, 'UTC')).toBe(Date.UTC(2026, 10, 24, 3, 0, 0));
    expect(nextFireAfter({ kind: 'cron', expression: '*/15 * * * *' }, T0 + 1000, 'UTC')).toBe(T0 + 15 * 60_000);
    expect(nextFireAfter({ kind: 'cron', expression: '*/5 * * * * *' }, T0, 'UTC')).toBe(T0 + 5000);
    expect(nextFireAfter({ kind: 'none' }, T0)).toBeUndefined();
    expect(describeSchedule(every(1, 'days'))).toBe('every day');
    expect(describeSchedule(every(5, 'minutes'))).toBe('every 5 minutes');
  });

  it('rejects bad schedules naming the field and what is expected', () => {
    expect(() => validateSchedule(every(0, 'minutes'))).toThrow(/schedule\.every must be a whole number ≥ 1, got 0/);
    expect(() => validateSchedule(every(2, 'seconds'))).toThrow(/shorter than the minimum of 5 seconds/);
    expect(() => validateSchedule({ kind: 'cron', expression: '0 3 * *' })).toThrow(/has 4 fields; expected 5/);
    expect(() => validateSchedule({ kind: 'cron', expression: '99 3 * * *' })).toThrow(ScheduleError);
    expect(() => validateSchedule({ kind: 'cron', expression: ' ' })).toThrow(/expression is empty/);
    expect(validateSchedule({ kind: 'cron', expression: ' 0 3 * * 1 ' })).toEqual({ kind: 'cron', expression: '0 3 * * 1' });
    const config = defaultConfig('text-classification');
    config.triggers.schedule = every(1, 'seconds');
    expect(() => validateConfig(config, 'text-classification')).toThrow(PipelineConfigError);
    expect(() => validateConfig({ ...defaultConfig('text-classification'), steps: { ...config.steps, gate: false } }, 'text-classification')).toThrow(/steps\.deploy/);
    expect(() => validateConfig(defaultConfig('coin-year'), 'text-classification')).toThrow(/train\.recipe\.model\.architecture must be one of "nbsvm", "fasttext", "lexicon-fasttext", "transformer", "encoder-head" for text-classification/);
  });
});

describe('evaluateTriggers', () => {
  it('fires an interval schedule when due, then counts from the firing time', () => {
    const clock = fakeClock();
    let pipeline = makePipeline({}, { triggers: { schedule: every(10, 'minutes'), minNewSamples: 0, onAlert: false } });
    clock.advance(9 * 60_000);
    expect(evaluateTriggers(pipeline, quiet, clock.now()).triggers).toEqual([]);
    clock.advance(60_000);
    const due = evaluateTriggers(pipeline, quiet, clock.now());
    expect(due.triggers).toEqual([{ kind: 'schedule', detail: 'every 10 minutes' }]);
    expect(due.state.lastScheduledAt).toBe(clock.now());
    pipeline = { ...pipeline, state: due.state };
    expect(nextScheduledRun(pipeline)).toBe(clock.now() + 10 * 60_000);
    clock.advance(5 * 60_000);
    expect(evaluateTriggers(pipeline, quiet, clock.now()).triggers).toEqual([]);
  });

  it('runs missed schedules once on the next open, not once per missed time', () => {
    const pipeline = makePipeline({}, { triggers: { schedule: every(1, 'hours'), minNewSamples: 0, onAlert: false } });
    const later = T0 + 5 * 3_600_000 + 120_000; // the studio was closed for five scheduled times
    const first = evaluateTriggers(pipeline, quiet, later);
    expect(first.triggers).toHaveLength(1);
    expect(first.triggers[0]!.detail).toMatch(/5 scheduled times passed while closed; run once/);
    const again = evaluateTriggers({ ...pipeline, state: first.state }, quiet, later + 1000);
    expect(again.triggers).toEqual([]);
  });

  it('fires a cron schedule at its time (time zone given)', () => {
    const pipeline = makePipeline({}, { triggers: { schedule: { kind: 'cron', expression: '30 10 * * *' }, minNewSamples: 0, onAlert: false } });
    expect(evaluateTriggers(pipeline, quiet, T0 + 29 * 60_000, 'UTC').triggers).toEqual([]);
    expect(evaluateTriggers(pipeline, quiet, T0 + 30 * 60_000, 'UTC').triggers.map((t) => t.kind)).toEqual(['schedule']);
  });

  it('fires the data trigger at the threshold, and not while a run is taking the data', () => {
    const pipeline = makePipeline({}, { triggers: { schedule: { kind: 'none' }, minNewSamples: 20, onAlert: false } });
    expect(evaluateTriggers(pipeline, { ...quiet, newLabelled: 19 }, T0).triggers).toEqual([]);
    expect(evaluateTriggers(pipeline, { ...quiet, newLabelled: 20 }, T0).triggers).toEqual([{ kind: 'data', detail: '20 new labelled samples (threshold 20)' }]);
    expect(evaluateTriggers(pipeline, { ...quiet, newLabelled: 50, busy: true }, T0).triggers).toEqual([]);
    expect(evaluateTriggers(pipeline, { ...quiet, newLabelled: undefined }, T0).triggers).toEqual([]);
  });

  it('starts one run per firing alert id, and remembers it', () => {
    const pipeline = makePipeline({}, { triggers: { schedule: { kind: 'none' }, minNewSamples: 0, onAlert: true } });
    const first = evaluateTriggers(pipeline, { ...quiet, retrainAlerts: [alert('a-1'), alert('a-0', 'resolved')] }, T0);
    expect(first.triggers).toEqual([{ kind: 'alert', alertId: 'a-1', detail: 'alert accuracy dropped (a-1)' }]);
    expect(first.changed).toBe(true);
    const handled = { ...pipeline, state: first.state };
    expect(evaluateTriggers(handled, { ...quiet, retrainAlerts: [alert('a-1')] }, T0 + 1000).triggers).toEqual([]);
    expect(evaluateTriggers(handled, { ...quiet, retrainAlerts: [alert('a-1'), alert('a-2')] }, T0 + 2000).triggers.map((t) => t.alertId)).toEqual(['a-2']);
    const off = makePipeline({}, { triggers: { schedule: { kind: 'none' }, minNewSamples: 0, onAlert: false } });
    expect(evaluateTriggers(off, { ...quiet, retrainAlerts: [alert('a-1')] }, T0).triggers).toEqual([]);
  });

  it('fires nothing while paused', () => {
    const pipeline = makePipeline({ paused: true }, { triggers: { schedule: every(1, 'minutes'), minNewSamples: 1, onAlert: true } });
    const decision = evaluateTriggers(pipeline, { retrainAlerts: [alert('a-1')], busy: false, newLabelled: 10 }, T0 + 3_600_000);
    expect(decision).toMatchObject({ triggers: [], changed: false });
    expect(nextScheduledRun(pipeline)).toBeUndefined();
  });
});
