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
  | { kind: 'promote'; row: ModelVersionRow; production?: number; evalDataVersion: string; evalSets: string[]; evaluators: NamedEvaluator[]; evaluator: number }
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

  async ask(kind: PendingAction['kind'], row: ModelVersionRow): Promise<void> {
    this.error = undefined;
    const production = await pageRegistry().production(row.name);
    if (kind === 'promote') {
      const evalSets = recordedEvalSets(row);
      this.pending = { kind, row, production, evalDataVersion: evalSets[0] ?? '', evalSets, evaluators: gateEvaluatorsFor(taskOfVersion(row)), evaluator: 0 };
    } else if (kind === 'rollback') {
      if (production === undefined) {
        this.error = `${row.name} has no production version to roll back from.`;
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
