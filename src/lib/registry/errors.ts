import type { GateDecisionRow } from '$lib/db/types';

/** Base of the registry's named errors. */
export class RegistryError extends Error {
  override name = 'RegistryError';
}

/** A model name, alias, tag or version number the registry does not accept, with what it does. */
export class InvalidRegistryInput extends RegistryError {
  override name = 'InvalidRegistryInput';
}

export class ModelVersionNotFound extends RegistryError {
  override name = 'ModelVersionNotFound';
  constructor(
    readonly model: string,
    readonly version: number,
  ) {
    super(`${model} has no version ${version}: it may never have been registered, or was erased.`);
  }
}

/** A status change the registry refuses (archiving production, rolling back to the production version…). */
export class StatusChangeRefused extends RegistryError {
  override name = 'StatusChangeRefused';
}

/**
 * The challenger did not clear the promotion gate. The version is now `rejected`; the decision
 * (both metric sets, the rule, the evaluation data version) is in the audit trail.
 */
export class PromotionRejected extends RegistryError {
  override name = 'PromotionRejected';
  readonly candidateMetrics: Record<string, number>;
  readonly championMetrics: Record<string, number> | undefined;
  constructor(readonly decision: GateDecisionRow) {
    super(decision.reason);
    this.candidateMetrics = decision.candidateMetrics ?? {};
    this.championMetrics = decision.championMetrics;
  }
}

/** The evaluator failed (or could not measure a version on the requested data); nothing changed. */
export class GateEvaluationError extends RegistryError {
  override name = 'GateEvaluationError';
}

/**
 * The gate refused to compare the challenger with production: they predict different classes. Nothing
 * changed; the decision (outcome `failed`, with the reason) is in the audit trail.
 */
export class ClassSetMismatch extends GateEvaluationError {
  override name = 'ClassSetMismatch';
  constructor(
    message: string,
    readonly candidateLabels: readonly string[],
    readonly championLabels: readonly string[],
  ) {
    super(message);
  }
}

/**
 * The production alias moved while this gate ran: someone wrote it without taking the registry's
 * lock. Nothing was written; run the gate again.
 */
export class ConcurrentPromotionError extends RegistryError {
  override name = 'ConcurrentPromotionError';
}

/** A model bundle Loupe refuses to import; `file` and `field` say where the problem is. Nothing was written. */
export class InvalidBundleError extends RegistryError {
  override name = 'InvalidBundleError';
  constructor(
    message: string,
    readonly file?: string,
    readonly field?: string,
  ) {
    super(`${file ? `${file}: ` : ''}${field ? `${field}: ` : ''}${message}`);
  }
}
