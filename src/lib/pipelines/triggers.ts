import type { AlertRow, PipelineRow } from '$lib/db/types';
import { stateOf } from './config';
import { describeSchedule, nextFireAfter } from './schedule';
import type { PipelineState, RunTrigger } from './types';

/** What the scheduler observed for one pipeline at one tick. */
export interface TriggerFacts {
  /** New labelled samples (imports + feedback) since the pipeline's watermark; undefined when not counted this tick. */
  newLabelled?: number;
  /** Firing alerts of this model whose rule's action is `retrain`. */
  retrainAlerts: AlertRow[];
  /** A run of this pipeline is queued or running (the data trigger waits for it: that run takes the data). */
  busy: boolean;
}

export interface TriggerDecision {
  /** Triggers that fire now, most specific first (alert, data, schedule); empty: nothing to do. */
  triggers: RunTrigger[];
  /** The pipeline's state after this tick (schedule advanced, alerts marked handled). */
  state: PipelineState;
  /** Whether `state` differs from the stored one. */
  changed: boolean;
}

/** Alert ids remembered per pipeline; older ones are forgotten (they are resolved long since). */
const MAX_HANDLED_ALERTS = 200;

/**
 * Decides which triggers of a pipeline fire at `now`. A schedule that came due several times while no
 * tab was open fires once, and the next time is counted from now. A paused pipeline fires nothing.
 * @example evaluateTriggers(pipeline, { retrainAlerts: [], busy: false }, Date.now()).triggers
 */
export function evaluateTriggers(pipeline: PipelineRow, facts: TriggerFacts, now: number, timeZone?: string): TriggerDecision {
  const before = stateOf(pipeline);
  const state: PipelineState = { ...before };
  const triggers: RunTrigger[] = [];
  if (pipeline.paused) return { triggers, state, changed: false };
  const { schedule, minNewSamples, onAlert } = pipeline.config.triggers;

  if (onAlert) {
    const handled = new Set(state.handledAlerts ?? []);
    const fresh = facts.retrainAlerts.filter((alert) => alert.state === 'firing' && !handled.has(alert.id));
    if (fresh.length > 0) {
      triggers.push({
        kind: 'alert',
        alertId: fresh[0]!.id,
        detail: fresh.map((alert) => `alert ${alert.summary ?? alert.rule} (${alert.id})`).join('; '),
      });
      state.handledAlerts = [...(state.handledAlerts ?? []), ...fresh.map((alert) => alert.id)].slice(-MAX_HANDLED_ALERTS);
    }
  }

  if (minNewSamples > 0 && !facts.busy && facts.newLabelled !== undefined && facts.newLabelled >= minNewSamples) {
    triggers.push({ kind: 'data', detail: `${facts.newLabelled} new labelled samples (threshold ${minNewSamples})` });
  }

  const last = state.lastScheduledAt ?? pipeline.createdAt;
  const due = nextFireAfter(schedule, last, timeZone);
  if (due !== undefined && due <= now) {
    const missed = countMissed(pipeline, last, now, timeZone);
    triggers.push({ kind: 'schedule', detail: `${describeSchedule(schedule)}${missed > 1 ? ` (${missed} scheduled times passed while closed; run once)` : ''}` });
    state.lastScheduledAt = now;
  }

  const changed = state.lastScheduledAt !== before.lastScheduledAt || (state.handledAlerts ?? []).length !== (before.handledAlerts ?? []).length;
  return { triggers, state, changed };
}

/** How many times the schedule came due in (last, now], counting at most 1000. */
function countMissed(pipeline: PipelineRow, last: number, now: number, timeZone?: string): number {
  let count = 0;
  for (let t = nextFireAfter(pipeline.config.triggers.schedule, last, timeZone); t !== undefined && t <= now && count < 1000; count++) {
    t = nextFireAfter(pipeline.config.triggers.schedule, t, timeZone);
  }
  return count;
}

/** When the schedule fires next (for the page), or undefined without a schedule or while paused. */
export function nextScheduledRun(pipeline: PipelineRow, timeZone?: string): number | undefined {
  if (pipeline.paused) return undefined;
  const state = stateOf(pipeline);
  return nextFireAfter(pipeline.config.triggers.schedule, state.lastScheduledAt ?? pipeline.createdAt, timeZone);
}
