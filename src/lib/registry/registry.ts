import type { LoupeDb } from '$lib/db/db';
import type { AliasRow, GateDecisionRow, ModelVersionRow, TaskName } from '$lib/db/types';
import { withLock } from '$lib/locks';
import { savedModelLabels } from '$lib/tasks/labels';
import { canonicalTask, TASKS, taskOfVersion } from '$lib/tasks/registry';
import { exampleInputOf, signatureOf } from '$lib/tasks/signature';
import { APP_VERSION, GIT_COMMIT } from '$lib/version';
import * as v from 'valibot';
import { checkShards, inspectModelJson, MetricsSchema, validateSignature } from './artifacts';
import { defaultModelCard } from './card';
import {
  ClassSetMismatch,
  ConcurrentPromotionError,
  GateEvaluationError,
  InvalidBundleError,
  InvalidRegistryInput,
  ModelVersionNotFound,
  PromotionRejected,
  StatusChangeRefused,
} from './errors';
import { classSetConflict, decide, defaultRule, describeIssue, heldOutMetrics, validateRule } from './gate';
import type { GateEvaluator, GateRule, Lineage, LockFn, ModelArtifacts, RegisterInput } from './types';

/** The alias serving reads. It moves only through the gate or a rollback. */
export const PRODUCTION = 'production';

/** Model names: they appear in URLs, lock names and file names. */
export const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** User aliases (MLflow: letters, digits, `_`, `-`; `latest` and `v<N>` are reserved). */
export const ALIAS_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** Name of the Web Lock that serializes status and alias changes of one model across tabs. */
export const registryLockName = (name: string) => `loupe-registry-${name}`;

/** Settings key of a model's gate rule. */
export const gateRuleKey = (name: string) => `registry.gateRule.${name}`;

export interface RegistryOptions {
  /** Defaults to the Web Locks API (an in-process mutex where it is missing). */
  lock?: LockFn;
  now?: () => number;
  appVersion?: string;
  gitCommit?: string;
}

export interface PromoteRequest {
  name: string;
  version: number;
  /** The dataset version whose held-out split both versions are measured on. */
  evalDataVersion: string;
  evaluate: GateEvaluator;
  /** How `evaluate` measures (shown in the audit trail). */
  evaluator?: string;
  /** Defaults to the model's stored rule, else its task's default. */
  rule?: GateRule;
  trigger?: 'manual' | 'pipeline';
  /**
   * The id of the newest gate decision about this version that the caller had seen when it asked (the
   * dialog opening), `null` for none; by default, the newest one when `promote` is called. A newer one
   * found under the model's lock is the decision of a gate run that was already under way (another tab,
   * a pipeline): it is the answer, and the gate does not run twice.
   */
  knownDecision?: string | null;
  /** Called when the answer is the decision of a gate run that was already under way (see `knownDecision`). */
  onJoined?: (decision: GateDecisionRow) => void;
}

export interface StatusRequest {
  name: string;
  version: number;
  /** Why, in the user's words (kept in the audit trail). */
  reason?: string;
  trigger?: 'manual' | 'pipeline';
}

export interface RegisterFromRunOptions {
  name?: string;
  weights: ModelArtifacts;
  signature?: RegisterInput['signature'];
  exampleInput?: unknown;
  card?: string;
  tags?: Record<string, string>;
  trigger?: 'manual' | 'pipeline';
}

/** A version registered from a run; `alreadyRegistered` when the run was this model's version already. */
export type RunRegistration = ModelVersionRow & { alreadyRegistered: boolean };

export interface ModelSummary {
  name: string;
  task?: TaskName;
  versions: number;
  latest: number;
  production?: number;
  /** The production version's (else the latest's) held-out metrics. */
  metrics: Record<string, number>;
  updatedAt: number;
}

let decisionCounter = 0;

/**
 * The model registry (MLflow semantics): integer versions per name, aliases (one alias → one
 * version), statuses, tags, model cards, and the promotion gate. Every change of statuses or aliases
 * is one IndexedDB transaction, taken under the model's Web Lock, and recorded in the audit trail.
 * @example
 * const registry = new ModelRegistry(getDb());
 * const v = await registry.registerFromRun(runId, { name: 'coin-year', weights: await saveToBlobs(model) });
 * await registry.promote({ name: 'coin-year', version: v.version, evalDataVersion, evaluate });
 */
export class ModelRegistry {
  readonly #lock: LockFn;
  readonly #now: () => number;
  readonly #appVersion: string;
  readonly #gitCommit: string;

  constructor(
    readonly db: LoupeDb,
    options: RegistryOptions = {},
  ) {
    this.#lock = options.lock ?? withLock;
    this.#now = options.now ?? Date.now;
    this.#appVersion = options.appVersion ?? APP_VERSION;
    this.#gitCommit = options.gitCommit ?? GIT_COMMIT;
  }

  /**
   * Registers weights as the next version (1, 2, …) of `name`, status `candidate`. The version number
   * is taken in the same transaction as the write, so concurrent registrations never collide.
   */
  async register(input: RegisterInput): Promise<ModelVersionRow> {
    return (await this.#register(input, false)).row;
  }

  /** `reuseRun`: a version of the same model from the same run is returned instead of adding another. */
  async #register(input: RegisterInput, reuseRun: boolean): Promise<{ row: ModelVersionRow; existing: boolean }> {
    checkModelName(input.name);
    const metrics = parseInput(MetricsSchema, input.metrics, 'metrics');
    try {
      checkShards(inspectModelJson(input.modelJson), input.shards.map((s) => s.size));
    } catch (error) {
      if (error instanceof InvalidBundleError) throw new InvalidRegistryInput(`the weights are not a valid tfjs model: ${error.message}`);
      throw error;
    }
    const lineage: Lineage = { ...input.lineage, registeredWith: { appVersion: this.#appVersion, ...(this.#gitCommit ? { gitCommit: this.#gitCommit } : {}) } };
    const task = taskOfVersion({ name: input.name, tags: input.tags, lineage });
    let signature = input.signature;
    if (signature) {
      try {
        signature = validateSignature(signature);
      } catch (error) {
        throw new InvalidRegistryInput((error as Error).message);
      }
    } else if (task) signature = signatureOf(TASKS[task], input.modelJson, savedModelLabels(input.modelJson));
    // A bundle from before a task was renamed tags it by its earlier name (`car-damage`): store today's.
    const taggedTask = canonicalTask(input.tags?.task);
    const tags = { ...(task ? { task } : {}), ...input.tags, ...(taggedTask ? { task: taggedTask } : {}) };
    for (const [key, value] of Object.entries(tags)) checkTag(key, value);
    const dataset = lineage.datasetVersion ? await this.db.datasets.get(lineage.datasetVersion) : undefined;
    if (dataset && !lineage.datasetName) lineage.datasetName = dataset.name;
    const now = this.#now();

    return this.db.transaction('rw', this.db.modelVersions, this.db.gateDecisions, async () => {
      // Looked up in the transaction that adds the row, so two tabs registering one run make one version.
      const runId = lineage.runId;
      const existing = reuseRun && runId ? await this.db.modelVersions.where('name').equals(input.name).filter((row) => row.runId === runId).first() : undefined;
      if (existing) return { row: existing, existing: true };
      const last = await this.db.modelVersions.where('[name+version]').between([input.name, -Infinity], [input.name, Infinity]).last();
      const version = (last?.version ?? 0) + 1;
      const row: ModelVersionRow = {
        id: `${input.name}@${version}`,
        name: input.name,
        version,
        status: 'candidate',
        createdAt: now,
        statusChangedAt: now,
        ...(lineage.runId ? { runId: lineage.runId } : {}),
        metrics,
        signature,
        exampleInput: input.exampleInput ?? (task ? exampleInputOf(TASKS[task]) : undefined),
        modelJson: input.modelJson,
        shards: input.shards,
        card: input.card ?? defaultModelCard({ name: input.name, version, task, lineage, metrics, dataset }),
        lineage,
        tags,
        ...(input.importedFrom ? { importedFrom: input.importedFrom } : {}),
      };
      await this.db.modelVersions.add(row);
      await this.db.gateDecisions.add(
        this.#record(input.name, now, {
          kind: 'register',
          outcome: 'registered',
          trigger: input.trigger ?? 'manual',
          version,
          reason: input.importedFrom
            ? `Imported from a bundle of ${input.importedFrom.name} v${input.importedFrom.version} (SHA-256 ${input.importedFrom.bundleSha256.slice(0, 12)}…).`
            : lineage.runId
              ? `Registered from run ${lineage.runId}.`
              : 'Registered.',
        }),
      );
      return { row, existing: false };
    });
  }

  /**
   * Registers a completed run's model, with its lineage (run, dataset version, params, backend, app version, commit).
   * A run that is already a version of the model is not registered twice: that version is returned, with
   * `alreadyRegistered: true`.
   * @example const row = await registry.registerFromRun(runId, { weights }); if (row.alreadyRegistered) notify(`already registered as v${row.version}`);
   */
  async registerFromRun(runId: string, options: RegisterFromRunOptions): Promise<RunRegistration> {
    const run = await this.db.runs.get(runId);
    if (!run) throw new InvalidRegistryInput(`there is no run ${runId}`);
    if (run.status !== 'completed') throw new InvalidRegistryInput(`run "${run.name}" is ${run.status}; only completed runs can be registered`);
    const lineage: Lineage = {
      runId: run.id,
      task: run.task,
      datasetVersion: run.datasetVersion,
      params: run.params,
      seed: run.seed,
      ...(run.initialWeights ? { initialWeights: run.initialWeights } : {}),
      ...(run.backend ? { backend: run.backend } : {}),
      ...(run.adapter ? { adapter: run.adapter } : {}),
      appVersion: run.appVersion,
      ...(run.gitCommit ? { gitCommit: run.gitCommit } : {}),
      ...(run.trainedOn ? { trainedOn: run.trainedOn } : {}),
    };
    // A run on a preset's data (car damage) registers under the preset's name unless told otherwise.
    const preset = (await this.db.datasets.get(run.datasetVersion))?.preset;
    const { row, existing } = await this.#register(
      {
        name: options.name ?? preset ?? run.task,
        ...options.weights,
        metrics: run.metrics ?? {},
        signature: options.signature,
        exampleInput: options.exampleInput,
        lineage,
        card: options.card,
        tags: { task: run.task, ...options.tags },
        trigger: options.trigger,
      },
      true,
    );
    return { ...row, alreadyRegistered: existing };
  }

  /** One version, or `ModelVersionNotFound`. */
  async get(name: string, version: number): Promise<ModelVersionRow> {
    const row = await this.db.modelVersions.where('[name+version]').equals([name, version]).first();
    if (!row) throw new ModelVersionNotFound(name, version);
    return row;
  }

  /** Every version of a model, oldest first. */
  versions(name: string): Promise<ModelVersionRow[]> {
    return this.db.modelVersions.where('[name+version]').between([name, -Infinity], [name, Infinity]).toArray();
  }

  aliases(name: string): Promise<AliasRow[]> {
    return this.db.aliases.where('name').equals(name).toArray();
  }

  /** The version `production` points to, if any. */
  async production(name: string): Promise<number | undefined> {
    return (await this.db.aliases.get([name, PRODUCTION]))?.version;
  }

  /** The audit trail of one model (or all), oldest first. */
  async audit(name?: string): Promise<GateDecisionRow[]> {
    const rows = name === undefined
      ? await this.db.gateDecisions.orderBy('ts').toArray()
      : await this.db.gateDecisions.where('[name+ts]').between([name, -Infinity], [name, Infinity]).toArray();
    return rows.sort((a, b) => a.ts - b.ts || a.id.localeCompare(b.id));
  }

  /** The newest gate decision about one version (promoted, rejected or failed), if the gate ever ran for it. */
  async latestGateDecision(name: string, version: number): Promise<GateDecisionRow | undefined> {
    return (await this.audit(name)).filter((row) => row.kind === 'gate' && row.version === version).at(-1);
  }

  /**
   * The versions production can roll back to: those that were production before (the audit trail
   * records production before and after every change), older than production now and still registered.
   */
  async rollbackTargets(name: string): Promise<number[]> {
    const production = await this.production(name);
    if (production === undefined) return [];
    const [audit, versions] = await Promise.all([this.audit(name), this.versions(name)]);
    const registered = new Set(versions.map((row) => row.version));
    return [...formerProduction(audit)].filter((v) => v < production && registered.has(v)).sort((a, b) => b - a);
  }

  /** The model's gate rule: the one stored for it, else its task's default. */
  async gateRule(name: string): Promise<GateRule> {
    const stored = await this.db.settings.get(gateRuleKey(name));
    if (stored) return validateRule(stored.value);
    const any = await this.db.modelVersions.where('name').equals(name).first();
    const task = taskOfVersion(any ?? { name });
    if (!task) throw new InvalidRegistryInput(`${name} does not say which task it serves, so it has no default gate rule: set one`);
    return defaultRule(task);
  }

  async setGateRule(name: string, rule: GateRule): Promise<void> {
    checkModelName(name);
    await this.db.settings.put({ key: gateRuleKey(name), value: validateRule(rule) });
  }

  /** Whether the model has a gate rule of its own (else `gateRule` is its task's default). */
  async hasOwnGateRule(name: string): Promise<boolean> {
    return (await this.db.settings.get(gateRuleKey(name))) !== undefined;
  }

  /** Forgets the model's own gate rule: the gate judges it by its task's default rule again. */
  async clearGateRule(name: string): Promise<void> {
    await this.db.settings.delete(gateRuleKey(name));
  }

  /**
   * Runs the promotion gate: under the model's lock, measures the champion (production) and the
   * challenger with the same evaluator on the same evaluation data, decides with the rule, and in one
   * transaction either moves `production` to the challenger (the champion becomes `archived`) or
   * marks the challenger `rejected` with the reason. The decision is recorded either way.
   * @returns the decision when the challenger was promoted
   * @throws PromotionRejected (with both metric sets) when it was not
   */
  async promote(request: PromoteRequest): Promise<GateDecisionRow> {
    const { name, version, evalDataVersion, evaluate } = request;
    const trigger = request.trigger ?? 'manual';
    const evaluator = request.evaluator ?? 'evaluator';
    if (!evalDataVersion) throw new InvalidRegistryInput('the gate needs the evaluation dataset version');
    const known = request.knownDecision !== undefined ? request.knownDecision : ((await this.latestGateDecision(name, version))?.id ?? null);
    const rule = request.rule ? validateRule(request.rule) : await this.gateRule(name);
    return this.#lock(registryLockName(name), async () => {
      // One gate decision per version at a time: a caller that queued behind a gate run of the same
      // version gets that run's decision instead of measuring again and writing a second, equal row.
      const latest = await this.latestGateDecision(name, version);
      if (latest && latest.id !== known) {
        request.onJoined?.(latest);
        if (latest.outcome === 'promoted') return latest;
        if (latest.outcome === 'rejected') throw new PromotionRejected(latest);
        throw new GateEvaluationError(latest.reason);
      }
      const candidate = await this.get(name, version);
      const alias = await this.db.aliases.get([name, PRODUCTION]);
      if (alias?.version === version) throw new StatusChangeRefused(`${name} v${version} is already production`);
      const champion = alias ? await this.get(name, alias.version) : undefined;
      const record = (reason: string) =>
        this.#record(name, this.#now(), {
          kind: 'gate',
          outcome: 'failed',
          trigger,
          version,
          productionBefore: alias?.version,
          productionAfter: alias?.version,
          evalDataVersion,
          evaluator,
          rule,
          reason,
        });

      // Models of different classes are not measured at all: their figures would not be comparable.
      const candidateLabels = candidate.modelJson ? savedModelLabels(candidate.modelJson) : undefined;
      const championLabels = champion?.modelJson ? savedModelLabels(champion.modelJson) : undefined;
      const conflict = champion && classSetConflict({ name: `v${version}`, labels: candidateLabels }, { name: `production v${champion.version}`, labels: championLabels });
      if (conflict) {
        const reason = `The gate refused to compare: ${conflict}. A model with other classes is served under a name of its own.`;
        await this.db.gateDecisions.add(record(reason));
        throw new ClassSetMismatch(`${name}: ${reason}`, candidateLabels!, championLabels!);
      }

      let candidateMetrics: Record<string, number>;
      let championMetrics: Record<string, number> | undefined;
      try {
        // Champion and challenger: one evaluator, one evaluation set, one gate run.
        candidateMetrics = checkEvaluated(await evaluate(candidate, evalDataVersion), `v${version}`);
        championMetrics = champion ? checkEvaluated(await evaluate(champion, evalDataVersion), `v${champion.version}`) : undefined;
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        await this.db.gateDecisions.add(record(`The gate could not evaluate: ${message}`));
        throw error instanceof GateEvaluationError ? error : new GateEvaluationError(`The gate could not evaluate ${name}: ${message}`);
      }

      const verdict = decide(rule, candidateMetrics, championMetrics);
      const now = this.#now();
      const decision = this.#record(name, now, {
        kind: 'gate',
        outcome: verdict.passed ? 'promoted' : 'rejected',
        trigger,
        version,
        productionBefore: alias?.version,
        productionAfter: verdict.passed ? version : alias?.version,
        evalDataVersion,
        evaluator,
        rule,
        candidateMetrics,
        ...(championMetrics ? { championMetrics } : {}),
        // Name the champion in every sentence the user will read.
        checks: champion ? verdict.checks.map((c) => ({ ...c, failures: c.failures.map((f) => f.replaceAll('the champion', `production v${champion.version}`)) })) : verdict.checks,
        reason: champion ? verdict.reason.replaceAll('the champion', `production v${champion.version}`) : verdict.reason,
      });

      await this.db.transaction('rw', this.db.modelVersions, this.db.aliases, this.db.gateDecisions, async () => {
        const current = await this.db.aliases.get([name, PRODUCTION]);
        if (current?.version !== alias?.version) {
          throw new ConcurrentPromotionError(
            `production of ${name} moved from ${alias ? `v${alias.version}` : 'none'} to ${current ? `v${current.version}` : 'none'} during the gate; run it again`,
          );
        }
        await cacheEvaluation(this.db, candidate.id, evalDataVersion, candidateMetrics);
        if (champion && championMetrics) await cacheEvaluation(this.db, champion.id, evalDataVersion, championMetrics);
        if (verdict.passed) {
          await this.db.aliases.put({ name, alias: PRODUCTION, version, updatedAt: now });
          await this.db.modelVersions.update(candidate.id, { status: 'production', statusChangedAt: now, rejectionReason: undefined });
          if (champion) await this.db.modelVersions.update(champion.id, { status: 'archived', statusChangedAt: now });
        } else {
          await this.db.modelVersions.update(candidate.id, { status: 'rejected', statusChangedAt: now, rejectionReason: decision.reason });
        }
        await this.db.gateDecisions.add(decision);
      });
      if (!verdict.passed) throw new PromotionRejected(decision);
      return decision;
    });
  }

  /**
   * Moves `production` back to an earlier version in one action (no gate: it is the way out of a bad
   * promotion). The version that was production becomes `archived`; the rollback is recorded.
   */
  async rollback(request: StatusRequest): Promise<GateDecisionRow> {
    const { name, version } = request;
    return this.#lock(registryLockName(name), async () => {
      const target = await this.get(name, version);
      const alias = await this.db.aliases.get([name, PRODUCTION]);
      if (!alias) throw new StatusChangeRefused(`${name} has no production version to roll back from; promote one through the gate`);
      if (alias.version === version) throw new StatusChangeRefused(`${name} v${version} is already production`);
      if (version > alias.version) {
        throw new StatusChangeRefused(`v${version} is newer than production v${alias.version}: a newer version reaches production through the gate, not a rollback`);
      }
      if (!formerProduction(await this.audit(name)).has(version)) {
        throw new StatusChangeRefused(
          `${name} v${version} was never production, so production cannot roll back to it (its status is ${target.status}); a version reaches production for the first time through the gate`,
        );
      }
      const previous = await this.get(name, alias.version);
      const now = this.#now();
      const note = request.reason?.trim();
      const decision = this.#record(name, now, {
        kind: 'rollback',
        outcome: 'rolled-back',
        trigger: request.trigger ?? 'manual',
        version,
        productionBefore: alias.version,
        productionAfter: version,
        reason: `Rolled back production from v${alias.version} to v${version}${target.status === 'rejected' ? ' (a version the gate had rejected)' : ''}${note ? `: ${note}` : '.'}`,
      });
      await this.db.transaction('rw', this.db.modelVersions, this.db.aliases, this.db.gateDecisions, async () => {
        await this.db.aliases.put({ name, alias: PRODUCTION, version, updatedAt: now });
        await this.db.modelVersions.update(target.id, { status: 'production', statusChangedAt: now });
        await this.db.modelVersions.update(previous.id, { status: 'archived', statusChangedAt: now });
        await this.db.gateDecisions.add(decision);
      });
      return decision;
    });
  }

  /** Archives a version that is not production (it stays, with its weights, and can go through the gate again). */
  async archive(request: StatusRequest): Promise<GateDecisionRow> {
    const { name, version } = request;
    return this.#lock(registryLockName(name), async () => {
      const row = await this.get(name, version);
      if ((await this.production(name)) === version) {
        throw new StatusChangeRefused(`${name} v${version} is production: roll back or promote another version before archiving it`);
      }
      if (row.status === 'archived') throw new StatusChangeRefused(`${name} v${version} is already archived`);
      const now = this.#now();
      const note = request.reason?.trim();
      const decision = this.#record(name, now, {
        kind: 'archive',
        outcome: 'archived',
        trigger: request.trigger ?? 'manual',
        version,
        reason: `Archived v${version} (was ${row.status})${note ? `: ${note}` : '.'}`,
      });
      await this.db.transaction('rw', this.db.modelVersions, this.db.gateDecisions, async () => {
        await this.db.modelVersions.update(row.id, { status: 'archived', statusChangedAt: now });
        await this.db.gateDecisions.add(decision);
      });
      return decision;
    });
  }

  /** Points a user alias at a version, moving it if it pointed elsewhere (one alias → one version). */
  async setAlias(name: string, alias: string, version: number): Promise<GateDecisionRow> {
    checkAlias(alias);
    return this.#lock(registryLockName(name), async () => {
      await this.get(name, version);
      const now = this.#now();
      return this.db.transaction('rw', this.db.aliases, this.db.gateDecisions, async () => {
        const before = await this.db.aliases.get([name, alias]);
        await this.db.aliases.put({ name, alias, version, updatedAt: now });
        const decision = this.#record(name, now, {
          kind: 'alias',
          outcome: 'alias-set',
          trigger: 'manual',
          version,
          alias,
          reason: before && before.version !== version ? `Moved @${alias} from v${before.version} to v${version}.` : `Set @${alias} to v${version}.`,
        });
        await this.db.gateDecisions.add(decision);
        return decision;
      });
    });
  }

  async removeAlias(name: string, alias: string): Promise<void> {
    if (alias === PRODUCTION) throw new InvalidRegistryInput('production cannot be removed, only moved: promote another version or roll back');
    await this.#lock(registryLockName(name), async () => {
      await this.db.transaction('rw', this.db.aliases, this.db.gateDecisions, async () => {
        const before = await this.db.aliases.get([name, alias]);
        if (!before) return;
        await this.db.aliases.delete([name, alias]);
        await this.db.gateDecisions.add(
          this.#record(name, this.#now(), { kind: 'alias', outcome: 'alias-removed', trigger: 'manual', version: before.version, alias, reason: `Removed @${alias} (was v${before.version}).` }),
        );
      });
    });
  }

  /** Replaces a version's model card (Markdown). */
  async updateCard(name: string, version: number, card: string): Promise<void> {
    if (card.length > 200_000) throw new InvalidRegistryInput('the model card is longer than 200,000 characters');
    const row = await this.get(name, version);
    await this.db.modelVersions.update(row.id, { card });
  }

  /** Replaces a version's tags. */
  async setTags(name: string, version: number, tags: Record<string, string>): Promise<void> {
    for (const [key, value] of Object.entries(tags)) checkTag(key, value);
    const row = await this.get(name, version);
    await this.db.modelVersions.update(row.id, { tags });
  }

  #record(name: string, ts: number, entry: Omit<GateDecisionRow, 'id' | 'name' | 'ts'>): GateDecisionRow {
    // Ids sort like the timestamps, so equal timestamps keep their order within a tab.
    const id = `${String(ts).padStart(15, '0')}-${String(++decisionCounter).padStart(6, '0')}-${crypto.randomUUID().slice(0, 8)}`;
    return { id, name, ts, ...entry };
  }
}

/** Every version the audit trail shows as production before or after one of its entries. */
export function formerProduction(audit: readonly GateDecisionRow[]): Set<number> {
  const versions = new Set<number>();
  for (const row of audit) {
    if (row.productionBefore !== undefined) versions.add(row.productionBefore);
    if (row.productionAfter !== undefined) versions.add(row.productionAfter);
  }
  return versions;
}

async function cacheEvaluation(db: LoupeDb, id: string, evalDataVersion: string, metrics: Record<string, number>): Promise<void> {
  const row = await db.modelVersions.get(id);
  if (row) await db.modelVersions.update(id, { evaluations: { ...row.evaluations, [evalDataVersion]: metrics } });
}

function checkEvaluated(metrics: unknown, who: string): Record<string, number> {
  const parsed = v.safeParse(MetricsSchema, metrics);
  if (!parsed.success) throw new GateEvaluationError(`the evaluator returned bad metrics for ${who}: ${describeIssue(parsed.issues[0])}`);
  return parsed.output;
}

function parseInput<T extends v.GenericSchema>(schema: T, value: unknown, field: string): v.InferOutput<T> {
  const parsed = v.safeParse(schema, value);
  if (!parsed.success) throw new InvalidRegistryInput(`${field}.${describeIssue(parsed.issues[0])}`);
  return parsed.output;
}

export function checkModelName(name: string): void {
  if (!MODEL_NAME.test(name)) {
    throw new InvalidRegistryInput(`"${name}" is not a model name: use 1–64 letters, digits, ".", "_" or "-", starting with a letter or digit`);
  }
}

export function checkAlias(alias: string): void {
  if (alias === PRODUCTION) throw new InvalidRegistryInput('production moves only through the promotion gate or a rollback');
  if (!ALIAS_NAME.test(alias)) throw new InvalidRegistryInput(`"${alias}" is not an alias: use 1–64 letters, digits, "_" or "-"`);
  if (alias.toLowerCase() === 'latest' || /^v(ersion)?\d+$/i.test(alias)) {
    throw new InvalidRegistryInput(`"${alias}" is reserved (MLflow keeps "latest" and version-like names for versions)`);
  }
}

function checkTag(key: string, value: unknown): void {
  if (!/^[A-Za-z0-9][\w.\- /]{0,249}$/.test(key)) throw new InvalidRegistryInput(`tag "${key}": a tag key is 1–250 letters, digits, _ . - / or spaces`);
  if (typeof value !== 'string' || value.length > 5000) throw new InvalidRegistryInput(`tag "${key}": the value must be text of at most 5000 characters`);
}

/** Per model: versions, latest, production and its metrics (for the models list). */
export function summarizeModels(versions: ModelVersionRow[], aliases: AliasRow[]): ModelSummary[] {
  const byName = new Map<string, ModelVersionRow[]>();
  for (const row of versions) byName.set(row.name, [...(byName.get(row.name) ?? []), row]);
  return [...byName.entries()]
    .map(([name, rows]) => {
      rows.sort((a, b) => a.version - b.version);
      const production = aliases.find((a) => a.name === name && a.alias === PRODUCTION)?.version;
      const shown = rows.find((r) => r.version === production) ?? rows.at(-1)!;
      return {
        name,
        task: taskOfVersion(shown),
        versions: rows.length,
        latest: rows.at(-1)!.version,
        production,
        metrics: heldOutMetrics(shown.metrics),
        updatedAt: Math.max(...rows.map((r) => r.statusChangedAt ?? r.createdAt)),
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}
