import { shortVersion } from '$lib/datasets/version';
import { PromotionRejected } from '$lib/registry/errors';
import { markInterruptedRuns, type TrainJobSpec } from '$lib/training/job';
import { describeProgress } from '$lib/progress';
import { addToBase, baseDataset, collectNewData, validateNewData, type CollectedData, type NewVersion } from './data';
import type { StepContext, StepDefinition } from './runner';
import type { TrainHooks } from './services';

/**
 * The pipeline's steps: collect → validate → dataset → train → evaluate → register → gate → deploy.
 * Each can run again after an interruption and reach the same result.
 */

type Output = Record<string, unknown>;

const collect: StepDefinition = {
  name: 'collect',
  kind: 'collect',
  needs: [],
  enabled: (config) => config.steps.data,
  async run(ctx) {
    const since = ctx.pipeline.state?.watermark ?? ctx.pipeline.createdAt;
    const until = ctx.run.dataUntil ?? ctx.services.now();
    const data = await collectNewData(ctx.services.db, ctx.pipeline, since, until);
    ctx.log(
      `base ${data.base.name} (${shortVersion(data.base.id)}, ${data.base.samples} samples); since ${new Date(since).toISOString()}: ` +
        `${data.sampleIds.length} new imported sample(s) from ${data.imports.length} version(s), ${data.logIds.length} feedback-labelled log row(s)`,
    );
    return { ...data };
  },
};

const validate: StepDefinition = {
  name: 'validate',
  kind: 'validate',
  needs: ['collect'],
  enabled: (config) => config.steps.data,
  async run(ctx) {
    const collected = ctx.outputOf<CollectedData>('collect')!;
    const { candidates, report } = await validateNewData(ctx.services.db, ctx.pipeline.task, collected);
    ctx.log(`${candidates.length} accepted, ${report.length} skipped`);
    for (const skipped of report.slice(0, 20)) ctx.log(`skipped ${skipped.item}: ${skipped.reason}`);
    if (report.length > 20) ctx.log(`… and ${report.length - 20} more skipped`);
    // Candidates hold blobs: the dataset step reads them again from the accepted ids.
    return { accepted: candidates.length, skipped: report.length, report: report.slice(0, 200) };
  },
};

const dataset: StepDefinition = {
  name: 'dataset',
  kind: 'dataset',
  needs: ['validate'],
  enabled: (config) => config.steps.data,
  async run(ctx) {
    const collected = ctx.outputOf<CollectedData>('collect')!;
    const data = await validateNewData(ctx.services.db, ctx.pipeline.task, collected);
    const version: NewVersion = await addToBase(ctx.services.db, ctx.pipeline, collected.base.id, data, {
      seed: ctx.pipeline.config.train.recipe.seed,
      onProgress: (event) => (event.kind === 'progress' ? ctx.progress({ label: event.label, done: event.done, total: event.total }) : undefined),
    });
    ctx.log(
      version.added > 0
        ? `new version ${version.name} (${shortVersion(version.datasetId)}): ${version.added} sample(s) added${version.existed ? ' (stored already)' : ''}`
        : `nothing new to add: training on ${version.name} (${shortVersion(version.datasetId)}) as it is`,
    );
    return { datasetId: version.datasetId, name: version.name, added: version.added, existed: version.existed };
  },
  artifacts: (output) => ({ datasetVersion: String(output.datasetId) }),
};

/** The dataset version training uses: the dataset step's, else (data steps off) the base. */
async function trainingDataset(ctx: StepContext): Promise<string> {
  const made = ctx.outputOf<{ datasetId: string }>('dataset');
  if (made) return made.datasetId;
  return (await baseDataset(ctx.services.db, ctx.pipeline)).id;
}

function hooks(ctx: StepContext): TrainHooks {
  return {
    onRunCreated: (runId) => void ctx.checkpoint({ runId }).catch(() => {}),
    onProgress: (event) => {
      if (event.kind === 'epoch') {
        ctx.progress({ label: 'epochs', done: event.epoch, total: event.epochs });
        ctx.log(describeProgress(event));
      } else if (event.kind === 'log' || event.kind === 'failed') ctx.log(describeProgress(event));
    },
    signal: ctx.signal,
  };
}

/**
 * Trains with the saved recipe (kind `train`). On resume it continues the run it had started: a
 * completed run is taken as it is, an interrupted one resumes from its checkpoint.
 */
const train: StepDefinition = {
  name: 'train',
  kind: 'train',
  needs: [],
  enabled: () => true,
  async run(ctx) {
    const { db } = ctx.services;
    const datasetId = await trainingDataset(ctx);
    const started = typeof ctx.record.output?.runId === 'string' ? ctx.record.output.runId : undefined;
    if (started) {
      await markInterruptedRuns(db);
      const previous = await db.runs.get(started);
      if (previous?.status === 'completed') {
        ctx.log(`run ${started} had completed before the interruption`);
        return { runId: started, datasetId, metrics: previous.metrics ?? {} };
      }
      if (previous?.resumable) {
        ctx.log(`resuming run ${started} from its last checkpoint`);
        const result = await ctx.services.resume(started, hooks(ctx));
        return { runId: result.runId, datasetId, metrics: result.metrics };
      }
      ctx.log(`run ${started} cannot be resumed (${previous?.status ?? 'gone'}): training again`);
    }
    const { config } = ctx.pipeline;
    switch (config.train.kind) {
      case 'train': {
        const spec: TrainJobSpec = { ...structuredClone(config.train.recipe), task: ctx.pipeline.task, datasetId, name: `${ctx.pipeline.name} · ${new Date(ctx.services.now()).toISOString().slice(0, 16).replace('T', ' ')}` };
        if (config.train.from === 'production') {
          const production = await ctx.services.registry.production(ctx.pipeline.model);
          if (production === undefined) ctx.log(`nothing of ${ctx.pipeline.model} is in production yet: starting as the recipe says`);
          else {
            spec.init = `version:${ctx.pipeline.model}@${production}`;
            ctx.log(`continuing from production: a warm start from ${ctx.pipeline.model} v${production}`);
          }
        }
        ctx.log(`training ${spec.model.architecture} for ${spec.epochs} epoch(s) on ${shortVersion(datasetId)}`);
        const result = await ctx.services.train(spec, hooks(ctx));
        return { runId: result.runId, datasetId, metrics: result.metrics, ...(spec.init ? { init: spec.init } : {}) };
      }
      default:
        throw new Error(`train.kind ${JSON.stringify((config.train as { kind: unknown }).kind)} is not supported; valid: train`);
    }
  },
  artifacts: (output) => ({ runId: String(output.runId) }),
};

async function runWeights(ctx: StepContext, runId: string) {
  const weights = await ctx.services.runModel(runId);
  if (!weights) throw new Error(`run ${runId} saved no final model (tfjs model.json with its topology)`);
  return weights;
}

/** Measures the trained model on the held-out split (test, else val) of the dataset it trained on. */
const evaluate: StepDefinition = {
  name: 'evaluate',
  kind: 'evaluate',
  needs: ['train'],
  enabled: (config) => config.steps.evaluate,
  async run(ctx) {
    const { runId, datasetId } = ctx.outputOf<{ runId: string; datasetId: string }>('train')!;
    const metrics = await ctx.services.evaluate({ ...(await runWeights(ctx, runId)), name: ctx.pipeline.model }, datasetId);
    const bad = Object.entries(metrics).filter(([, value]) => !Number.isFinite(value));
    if (bad.length) throw new Error(`the trained model's ${bad.map(([k]) => k).join(', ')} is not finite on the held-out split`);
    ctx.log(`held-out ${Object.entries(metrics).map(([k, v]) => `${k} ${Number(v.toPrecision(4))}`).join(', ')}`);
    return { metrics, datasetId };
  },
};

/** Registers the run as the model's next version, or finds the version an interrupted attempt registered. */
const register: StepDefinition = {
  name: 'register',
  kind: 'register',
  needs: ['train'],
  enabled: (config) => config.steps.register,
  async run(ctx) {
    const { registry } = ctx.services;
    const { runId } = ctx.outputOf<{ runId: string }>('train')!;
    const existing = (await registry.versions(ctx.pipeline.model)).find((row) => row.runId === runId);
    if (existing) {
      ctx.log(`run ${runId} is already v${existing.version}`);
      return { version: existing.version };
    }
    const row = await registry.registerFromRun(runId, {
      name: ctx.pipeline.model,
      weights: await runWeights(ctx, runId),
      trigger: 'pipeline',
      tags: { pipeline: ctx.pipeline.id, pipelineRun: ctx.run.id },
    });
    ctx.log(`registered ${row.name} v${row.version} (candidate)`);
    return { version: row.version };
  },
  artifacts: (output) => ({ modelVersion: Number(output.version) }),
};

/**
 * The registry's promotion gate: champion and challenger measured on the held-out split of the same
 * dataset version, in one gate run; `production` moves only when the challenger wins. A rejection is
 * an outcome, not a failure. On resume, a decision already taken is read back instead of repeated.
 */
const gate: StepDefinition = {
  name: 'gate',
  kind: 'gate',
  needs: ['register'],
  enabled: (config) => config.steps.gate,
  async run(ctx) {
    const { registry, db } = ctx.services;
    const { version } = ctx.outputOf<{ version: number }>('register')!;
    const { datasetId } = ctx.outputOf<{ datasetId: string }>('train')!;
    const name = ctx.pipeline.model;
    const row = await registry.get(name, version);
    if (row.status !== 'candidate') {
      const decision = (await db.gateDecisions.where('[name+ts]').between([name, -Infinity], [name, Infinity]).toArray())
        .filter((d) => d.kind === 'gate' && d.version === version && d.outcome !== 'failed')
        .at(-1);
      if (decision) {
        ctx.log(`the gate had decided before the interruption: ${decision.reason}`);
        return { outcome: decision.outcome, reason: decision.reason, decisionId: decision.id, production: decision.productionAfter, productionBefore: decision.productionBefore };
      }
    }
    const evaluator = ctx.services.gateEvaluator(ctx.pipeline.task);
    ctx.log(`gate: ${evaluator.label}, on ${shortVersion(datasetId)}`);
    try {
      const decision = await registry.promote({ name, version, evalDataVersion: datasetId, evaluate: evaluator.evaluate, evaluator: evaluator.label, trigger: 'pipeline' });
      ctx.log(decision.reason);
      return { outcome: 'promoted', reason: decision.reason, decisionId: decision.id, production: decision.productionAfter, productionBefore: decision.productionBefore };
    } catch (error) {
      if (!(error instanceof PromotionRejected)) throw error;
      ctx.log(error.decision.reason);
      return { outcome: 'rejected', reason: error.decision.reason, decisionId: error.decision.id, production: error.decision.productionAfter };
    }
  },
  artifacts: (output) => ({
    gate: output.outcome as 'promoted' | 'rejected',
    gateReason: String(output.reason),
    decisionId: String(output.decisionId),
    ...(typeof output.production === 'number' ? { production: output.production } : {}),
  }),
};

/**
 * Loads the new production version where predictions are served (the next request uses it). If it
 * cannot be loaded, production rolls back to the version before, so serving never points at a model
 * that does not load.
 */
const deploy: StepDefinition = {
  name: 'deploy',
  kind: 'deploy',
  needs: ['gate'],
  enabled: (config) => config.steps.deploy,
  skipReason(ctx) {
    const decision = ctx.outputOf<{ outcome: string; production?: number }>('gate');
    if (decision?.outcome !== 'promoted') {
      return `skipped: the gate rejected the new version; production stays ${decision?.production === undefined ? 'unset' : `v${decision.production}`}`;
    }
    return undefined;
  },
  async run(ctx) {
    const { version } = ctx.outputOf<{ version: number }>('register')!;
    const production = await ctx.services.registry.production(ctx.pipeline.model);
    if (production !== version) throw new Error(`production of ${ctx.pipeline.model} is ${production === undefined ? 'unset' : `v${production}`}, not v${version}: it moved since the gate`);
    try {
      const note = await ctx.services.deploy(ctx.pipeline.model, version);
      ctx.log(note);
      return { version, note } satisfies Output;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      const before = ctx.outputOf<{ productionBefore?: number }>('gate')?.productionBefore;
      if (before === undefined) throw error;
      await ctx.services.registry.rollback({ name: ctx.pipeline.model, version: before, reason: `v${version} could not be deployed: ${reason}`, trigger: 'pipeline' });
      throw new Error(`v${version} could not be loaded for serving (${reason}); production rolled back to v${before}`);
    }
  },
};

/** The pipeline's steps in order. */
export const PIPELINE_STEPS: readonly StepDefinition[] = [collect, validate, dataset, train, evaluate, register, gate, deploy];
