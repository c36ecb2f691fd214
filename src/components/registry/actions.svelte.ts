import { getDb } from '$lib/db/db';
import type { GateDecisionRow, ModelVersionRow } from '$lib/db/types';
import { PromotionRejected } from '$lib/registry/errors';
import { gateEvaluatorsFor, recordedEvalSets, type NamedEvaluator } from '$lib/registry/evaluators';
import { ModelRegistry } from '$lib/registry/registry';
import { taskOfVersion } from '$lib/tasks/names';
import { notify } from '$lib/ui/notifications.svelte';

/** The registry of the page's database. */
export function pageRegistry(): ModelRegistry {
  return new ModelRegistry(getDb());
}

export type PendingAction =
  | {
      kind: 'promote';
      row: ModelVersionRow;
      production?: number;
      evalDataVersion: string;
      evalSets: string[];
      evaluators: NamedEvaluator[];
      evaluator: number;
      /** The newest gate decision about the version when the dialog opened (a newer one is another tab's). */
      knownDecision: string | null;
    }
  | { kind: 'rollback'; row: ModelVersionRow; production: number; reason: string }
  | { kind: 'archive'; row: ModelVersionRow; reason: string };

/**
 * Promote, roll back and archive, each behind a confirmation: `ask` opens the dialog, `confirm` runs
 * the action. The outcome (the decision, or the reason it was refused) stays visible until the next one.
 */
export class RegistryActions {
  pending = $state<PendingAction>();
  busy = $state(false);
  /** The last refusal or failure, shown in an alert. */
  error = $state<string>();
  /** The last decision recorded. */
  decision = $state.raw<GateDecisionRow>();
  /** Set when that decision is another gate run's, which was already under way for the version. */
  joined = $state<string>();

  async ask(kind: PendingAction['kind'], row: ModelVersionRow): Promise<void> {
    this.error = undefined;
    const registry = pageRegistry();
    const production = await registry.production(row.name);
    if (kind === 'promote') {
      const evalSets = recordedEvalSets(row);
      const knownDecision = (await registry.latestGateDecision(row.name, row.version))?.id ?? null;
      this.pending = { kind, row, production, evalDataVersion: evalSets[0] ?? '', evalSets, evaluators: gateEvaluatorsFor(taskOfVersion(row)), evaluator: 0, knownDecision };
    } else if (kind === 'rollback') {
      if (production === undefined) {
        this.error = `${row.name} has no production version to roll back from.`;
        return;
      }
      if (!(await registry.rollbackTargets(row.name)).includes(row.version)) {
        this.error = `${row.name} v${row.version} was never production, so production cannot roll back to it; send it through the gate instead.`;
        return;
      }
      this.pending = { kind, row, production, reason: '' };
    } else this.pending = { kind, row, reason: '' };
  }

  cancel(): void {
    this.pending = undefined;
  }

  async confirm(): Promise<void> {
    const action = this.pending;
    if (!action || this.busy) return;
    this.busy = true;
    this.pending = undefined;
    this.error = undefined;
    this.joined = undefined;
    const { name, version } = action.row;
    const registry = pageRegistry();
    try {
      if (action.kind === 'promote') {
        const evaluator = action.evaluators[action.evaluator]!;
        this.decision = await registry.promote({
          name,
          version,
          evalDataVersion: action.evalDataVersion.trim(),
          evaluate: evaluator.evaluate,
          evaluator: evaluator.label,
          knownDecision: action.knownDecision,
          onJoined: () => (this.joined = `${name} v${version} was already being gated (in another tab or a pipeline): this is that gate's decision.`),
        });
        notify('ok', `${name} v${version} is now production.`);
      } else if (action.kind === 'rollback') {
        this.decision = await registry.rollback({ name, version, reason: action.reason });
        notify('ok', `Rolled ${name} back to v${version}.`);
      } else {
        this.decision = await registry.archive({ name, version, reason: action.reason });
        notify('info', `Archived ${name} v${version}.`);
      }
    } catch (error) {
      if (error instanceof PromotionRejected) this.decision = error.decision;
      this.error = error instanceof Error ? error.message : String(error);
    } finally {
      this.busy = false;
    }
  }
}
