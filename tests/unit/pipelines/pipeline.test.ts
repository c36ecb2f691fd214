import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, newPipeline, validateConfig } from '../../../src/lib/pipelines/config';
import { encodePng } from '../../../src/lib/datasets/png';
import { mulberry32 } from '../../../src/lib/random';
import { PipelineExecutor } from '../../../src/lib/pipelines/executor';
import type { PipelineRunRow } from '../../../src/lib/db/types';
import { makeDb, makeLogRow, seedSentimentDataset } from '../factories';
import { nodeServices } from './node-services';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const stepStatuses = (run: PipelineRunRow) => Object.fromEntries(run.steps.map((s) => [s.name, s.status]));

async function runNow(executor: PipelineExecutor, pipelineId: string): Promise<PipelineRunRow> {
  const outcome = await executor.request(pipelineId, { kind: 'manual', detail: 'Run now' });
  if (outcome.status !== 'started') throw new Error(outcome.message);
  return outcome.done;
}

describe('a sentiment pipeline end to end (cpu, in-process)', () => {
  it('adds feedback to a new dataset version, trains, registers, promotes and deploys; a worse recipe is rejected and production stays', async () => {
    const db = makeDb();
    const baseId = await seedSentimentDataset(db);
    const created = Date.now() - 60_000;
    const config = defaultConfig('text-classification');
    config.train.recipe = { ...config.train.recipe, model: { architecture: 'fasttext', dim: 16, buckets: 4096 }, epochs: 6, batchSize: 16, learningRate: 0.05, earlyStopping: undefined };
    const pipeline = newPipeline('sentiment', 'text-classification', created, config);
    await db.pipelines.add(pipeline);
    // Feedback since the pipeline was created: two usable rows, one with a label the task does not know.
    await db.inferenceLog.bulkAdd([
      makeLogRow({ ts: created + 1, input: { text: 'what a wonderful sunny morning' }, feedback: 'positive', feedbackAt: created + 10 }),
      makeLogRow({ ts: created + 2, input: { text: 'the update is scheduled for tuesday' }, feedback: 'neutral', feedbackAt: created + 11 }),
      makeLogRow({ ts: created + 3, input: { text: 'meh' }, feedback: 'maybe', feedbackAt: created + 12 }),
      makeLogRow({ ts: created + 4, input: { text: 'no label on this one' } }),
    ]);
    const deployed: string[] = [];
    const executor = new PipelineExecutor(nodeServices(db, deployed));

    const first = await runNow(executor, pipeline.id);
    expect(first.error).toBeUndefined();
    expect(first.status).toBe('completed');
    expect(stepStatuses(first)).toEqual({ collect: 'completed', validate: 'completed', dataset: 'completed', train: 'completed', evaluate: 'completed', register: 'completed', gate: 'completed', deploy: 'completed' });
    const validate = first.steps.find((s) => s.name === 'validate')!;
    expect(validate.output).toMatchObject({ accepted: 2, skipped: 1 });
    expect(validate.log.join('\n')).toMatch(/skipped inference log row \d+ \(sentiment v1\): feedback: unknown label "maybe"; expected one of negative, neutral, positive/);
    const made = await db.datasets.get(first.artifacts.datasetVersion!);
    expect(made).toMatchObject({ parentId: baseId, sampleCount: 92, origin: 'addition' });
    expect(await db.samples.where('datasetId').equals(made!.id).filter((s) => s.source?.startsWith('feedback:') ?? false).count()).toBe(2);
    expect(first.artifacts).toMatchObject({ modelVersion: 1, gate: 'promoted', production: 1 });
    expect(first.steps.find((s) => s.name === 'evaluate')!.output?.metrics).toHaveProperty('accuracy');
    const v1 = await db.modelVersions.get('sentiment@1');
    expect(v1).toMatchObject({ status: 'production', runId: first.artifacts.runId, tags: { pipeline: pipeline.id, pipelineRun: first.id } });
    expect(deployed).toEqual(['sentiment@1']);
    const afterFirst = await db.pipelines.get(pipeline.id);
    expect(afterFirst?.state).toMatchObject({ datasetId: made!.id, watermark: first.dataUntil });

    // An untrained recipe (learning rate 1e-9): registered, rejected by the gate, production stays v1.
    await db.pipelines.update(pipeline.id, { config: { ...config, train: { kind: 'train', recipe: { ...config.train.recipe, epochs: 1, learningRate: 1e-9 } } } });
    const second = await runNow(executor, pipeline.id);
    expect(second.status).toBe('completed');
    expect(second.steps.find((s) => s.name === 'dataset')!.log[0]).toMatch(/^nothing new to add: training on .* as it is$/);
    expect(second.artifacts).toMatchObject({ datasetVersion: made!.id, modelVersion: 2, gate: 'rejected', production: 1 });
    expect(second.artifacts.gateReason).toMatch(/accuracy .* is not better than production v1's/);
    expect(stepStatuses(second).deploy).toBe('skipped');
    expect(second.steps.find((s) => s.name === 'deploy')!.log).toEqual(['skipped: the gate rejected the new version; production stays v1']);
    expect((await db.modelVersions.get('sentiment@2'))?.status).toBe('rejected');
    expect((await db.aliases.get(['sentiment', 'production']))?.version).toBe(1);
    expect(deployed).toEqual(['sentiment@1']);
    expect((await db.gateDecisions.where('name').equals('sentiment').toArray()).filter((d) => d.kind === 'gate').map((d) => [d.outcome, d.trigger])).toEqual([
      ['promoted', 'pipeline'],
      ['rejected', 'pipeline'],
    ]);
  }, 120_000);

  it('a resumed run finds the version and gate decision it had made instead of repeating them', async () => {
    const db = makeDb();
    await seedSentimentDataset(db);
    const config = defaultConfig('text-classification');
    config.train.recipe = { ...config.train.recipe, model: { architecture: 'fasttext', dim: 16, buckets: 4096 }, epochs: 3, batchSize: 16, learningRate: 0.05, earlyStopping: undefined };
    const pipeline = newPipeline('sentiment', 'text-classification', Date.now() - 1000, config);
    await db.pipelines.add(pipeline);
    const executor = new PipelineExecutor(nodeServices(db));
    const done = await runNow(executor, pipeline.id);
    expect(done.artifacts.gate).toBe('promoted');

    // As if the tab had reloaded while the gate step was finishing: it is marked running again.
    const interrupted = structuredClone(done);
    Object.assign(interrupted, { id: 'pr-interrupted', status: 'running', endedAt: undefined });
    interrupted.steps.filter((s) => s.name === 'register' || s.name === 'gate' || s.name === 'deploy').forEach((s) => Object.assign(s, { status: s.name === 'register' ? 'running' : 'pending' }));
    await db.pipelineRuns.put(interrupted);
    // The first run's tab drains the model's queue when its lock frees; drainAll covers the other order.
    await executor.drainAll();
    for (let i = 0; i < 200 && (await db.pipelineRuns.get('pr-interrupted'))?.status === 'running'; i++) await new Promise((r) => setTimeout(r, 25));
    const resumed = (await db.pipelineRuns.get('pr-interrupted'))!;
    expect(resumed).toMatchObject({ status: 'completed', resumes: 1, artifacts: { modelVersion: 1, gate: 'promoted' } });
    expect(resumed.steps.find((s) => s.name === 'register')!.log.at(-1)).toMatch(/is already v1$/);
    expect(resumed.steps.find((s) => s.name === 'gate')!.log.at(-1)).toMatch(/^the gate had decided before the interruption: Promoted/);
    expect(await db.modelVersions.count()).toBe(1);
  }, 120_000);

  it('rolls production back when the promoted version cannot be deployed', async () => {
    const db = makeDb();
    await seedSentimentDataset(db);
    const config = defaultConfig('text-classification');
    const recipe = { ...config.train.recipe, model: { architecture: 'fasttext' as const, dim: 16, buckets: 4096 }, epochs: 1, batchSize: 16, learningRate: 1e-9, earlyStopping: undefined };
    config.train.recipe = recipe;
    const pipeline = newPipeline('sentiment', 'text-classification', Date.now() - 1000, config);
    await db.pipelines.add(pipeline);
    const services = nodeServices(db);
    // A lenient rule, so that an untrained first version becomes production.
    await services.registry.setGateRule('sentiment', { primary: 'accuracy', metrics: { accuracy: { greaterIsBetter: true, threshold: 0, minAbsoluteChange: 0.005 } } });
    const executor = new PipelineExecutor({ ...services, deploy: async (model, version) => {
      if (version > 1) throw new Error('the inference worker ran out of memory');
      return `${model} v${version} loaded`;
    } });
    expect((await runNow(executor, pipeline.id)).artifacts).toMatchObject({ gate: 'promoted', production: 1 });

    await db.pipelines.update(pipeline.id, { config: { ...config, train: { kind: 'train', recipe: { ...recipe, epochs: 6, learningRate: 0.05 } } } });
    const second = await runNow(executor, pipeline.id);
    expect(second.status).toBe('failed');
    expect(second.artifacts).toMatchObject({ modelVersion: 2, gate: 'promoted' });
    expect(second.error).toBe('deploy: v2 could not be loaded for serving (the inference worker ran out of memory); production rolled back to v1');
    expect((await db.aliases.get(['sentiment', 'production']))?.version).toBe(1);
    const rollback = (await db.gateDecisions.where('name').equals('sentiment').toArray()).find((d) => d.kind === 'rollback');
    expect(rollback).toMatchObject({ trigger: 'pipeline', productionBefore: 2, productionAfter: 1 });
    expect(rollback?.reason).toMatch(/v2 could not be deployed: the inference worker ran out of memory/);
  }, 120_000);
});

describe('an image pipeline that continues from production (cpu, in-process)', () => {
  it('trains its first run as the recipe says, then warm-starts each retraining from the production version, recorded in the lineage', async () => {
    const db = makeDb();
    const classes = ['dark', 'bright'];
    const samples = Array.from({ length: 12 }, (_, i) => {
      const random = mulberry32(i);
      const png = encodePng({ width: 16, height: 16, channels: 1, data: Uint8Array.from({ length: 256 }, () => Math.round(40 + (i % 2) * 150 + random() * 30)) }, 1);
      return { id: `p${i}`, datasetId: 'photos', split: i % 4 === 0 ? ('val' as const) : ('train' as const), label: classes[i % 2]!, hash: `h${i}`, path: `${classes[i % 2]}/${i}.png`, blobs: [new Blob([png as BlobPart], { type: 'image/png' })] };
    });
    await db.datasets.add({ id: 'photos', name: 'photos', task: 'image-classification', createdAt: 1, sampleCount: samples.length, labels: classes });
    await db.samples.bulkAdd(samples);
    const config = defaultConfig('image-classification');
    config.steps = { data: false, evaluate: true, register: true, gate: true, deploy: false };
    config.train = {
      kind: 'train',
      from: 'production',
      recipe: { ...config.train.recipe, model: { architecture: 'damage-classifier', backbone: 'mobilenetv3-small', inputSize: 32, projection: null, dropout: 0, augmentation: 'none', fineTune: { freezeEpochs: 1 } }, epochs: 1, batchSize: 6, earlyStopping: undefined },
    };
    expect(() => validateConfig({ ...config, train: { ...config.train, recipe: { ...config.train.recipe, model: { architecture: 'small-cnn' } } } }, 'image-classification')).toThrow(
      /train\.from must be "recipe" for small-cnn \(continuing from production warm-starts an image model's backbone\)/,
    );
    const pipeline = newPipeline('photos', 'image-classification', Date.now() - 1000, validateConfig(config, 'image-classification'));
    await db.pipelines.add(pipeline);
    const services = nodeServices(db);
    await services.registry.setGateRule('photos', { primary: 'accuracy', metrics: { accuracy: { greaterIsBetter: true, threshold: 0, minAbsoluteChange: 0 } } });
    const executor = new PipelineExecutor(services);

    const first = await runNow(executor, pipeline.id);
    expect(first.error).toBeUndefined();
    expect(first.steps.find((s) => s.name === 'train')!.log.join('\n')).toContain('nothing of photos is in production yet: starting as the recipe says');
    expect(first.artifacts).toMatchObject({ modelVersion: 1, production: 1 });

    const second = await runNow(executor, pipeline.id);
    expect(second.error).toBeUndefined();
    const train = second.steps.find((s) => s.name === 'train')!;
    expect(train.log.join('\n')).toContain('continuing from production: a warm start from photos v1');
    expect(train.output).toMatchObject({ init: 'version:photos@1' });
    const v2 = await db.modelVersions.get('photos@2');
    expect(v2?.lineage?.params).toMatchObject({ init: 'version:photos@1' });
    expect(v2?.lineage?.initialWeights).toMatchObject({ kind: 'version', name: 'photos', version: 1, head: true });
    db.close();
  }, 120_000);
});
