import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { LATEST_SCHEMA_VERSION, SCHEMA_VERSIONS } from '../../../src/lib/db/schema';
import { createHash } from 'node:crypto';
import { datasetVersionId } from '../../../src/lib/datasets/version';
import { validateSweep } from '../../../src/lib/sweeps/definition';
import { taskOfVersion } from '../../../src/lib/tasks/names';
import { makeDb, makeLogRow, makeRun } from '../factories';
import { makePipeline } from '../pipelines/helpers';

const DESIGN_TABLES = [
  'datasets',
  'samples',
  'runs',
  'metricPoints',
  'checkpoints',
  'modelVersions',
  'aliases',
  'inferenceLog',
  'pipelines',
  'pipelineRuns',
  'alerts',
  'settings',
];

describe('LoupeDb schema', () => {
  it('has every table of the design, at the latest version', async () => {
    const db = makeDb();
    await db.open();
    expect(db.tables.map((t) => t.name)).toEqual(expect.arrayContaining(DESIGN_TABLES));
    expect(db.verno).toBe(LATEST_SCHEMA_VERSION);
    db.close();
  });

  it('indexes what the studio queries by range', async () => {
    const db = makeDb();
    await db.open();
    expect(db.inferenceLog.schema.idxByName['[model+ts]']).toBeDefined();
    expect(db.metricPoints.schema.idxByName['[runId+step]']).toBeDefined();
    expect(db.modelVersions.schema.idxByName['[name+version]']?.unique).toBe(true);
    db.close();
  });

  it('refuses two rows for the same model version', async () => {
    const db = makeDb();
    const row = { id: 'a', name: 'coin-year', version: 1, status: 'candidate' as const, createdAt: 1, metrics: {} };
    await db.modelVersions.add(row);
    await expect(db.modelVersions.add({ ...row, id: 'b' })).rejects.toThrow(/ConstraintError|unique/i);
    db.close();
  });

  it('range-queries the inference log by model and time', async () => {
    const db = makeDb();
    await db.inferenceLog.bulkAdd([
      makeLogRow({ model: 'sentiment', ts: 10 }),
      makeLogRow({ model: 'sentiment', ts: 20 }),
      makeLogRow({ model: 'coin-year', ts: 15 }),
      makeLogRow({ model: 'sentiment', ts: 30 }),
    ]);
    const rows = await db.inferenceLog.where('[model+ts]').between(['sentiment', 15], ['sentiment', 30], true, true).toArray();
    expect(rows.map((r) => r.ts)).toEqual([20, 30]);
    db.close();
  });
});

describe('schema upgrades', () => {
  it('opens a database written by schema v1 under the latest schema with its data intact', async () => {
    const factory = new IDBFactory();
    const v1 = makeDb(SCHEMA_VERSIONS.slice(0, 1), factory, 'upgrade');
    const run = makeRun();
    await v1.runs.add(run);
    await v1.samples.add({ id: 's1', datasetId: 'd1', split: 'train', label: 1900, hash: 'h', path: 'a.png' });
    // v1 log rows had no `source`.
    const { source: _source, ...legacyRow } = makeLogRow();
    await v1.inferenceLog.add(legacyRow as never);
    v1.close();

    const latest = makeDb(SCHEMA_VERSIONS, factory, 'upgrade');
    await latest.open();
    expect(latest.verno).toBe(LATEST_SCHEMA_VERSION);
    await expect(latest.runs.get(run.id)).resolves.toEqual(run);
    await expect(latest.samples.where('[datasetId+split]').equals(['d1', 'train']).count()).resolves.toBe(1);
    const [logRow] = await latest.inferenceLog.toArray();
    expect(logRow).toMatchObject({ ...legacyRow, source: 'ui' });
    await expect(latest.inferenceLog.where('source').equals('ui').count()).resolves.toBe(1);
    latest.close();
  });

  it('renames the car-damage task to image classification under v5, keeping the preset, model names and ids', async () => {
    const factory = new IDBFactory();
    const v4 = makeDb(SCHEMA_VERSIONS.filter((v) => v.version <= 4), factory, 'upgrade-v5');
    const legacy = 'car-damage' as never;
    await v4.datasets.add({ id: 'd-cars', name: 'cars', task: legacy, createdAt: 1, sampleCount: 3, labels: ['minor', 'moderate', 'major'] });
    await v4.runs.add(makeRun({ id: 'r-cars', task: legacy, datasetVersion: 'd-cars', params: { task: legacy, datasetId: 'd-cars', model: { architecture: 'damage-classifier', backbone: 'mobilenetv3-small' } } }));
    await v4.modelVersions.add({ id: 'car-damage@1', name: 'car-damage', version: 1, status: 'production', createdAt: 1, metrics: {}, tags: { task: 'car-damage' }, lineage: { task: legacy, runId: 'r-cars' } });
    await v4.inferenceLog.add({ ...makeLogRow(), model: 'car-damage', task: legacy });
    await v4.datasets.add({ id: 'd-coins', name: 'coins', task: 'coin-year', createdAt: 2, sampleCount: 3 });
    v4.close();

    const latest = makeDb(SCHEMA_VERSIONS, factory, 'upgrade-v5');
    await latest.open();
    await expect(latest.datasets.get('d-cars')).resolves.toMatchObject({ id: 'd-cars', task: 'image-classification', preset: 'car-damage' });
    await expect(latest.datasets.where('task').equals('image-classification').primaryKeys()).resolves.toEqual(['d-cars']);
    expect((await latest.datasets.get('d-coins'))?.preset).toBeUndefined();
    await expect(latest.runs.get('r-cars')).resolves.toMatchObject({ task: 'image-classification', params: { task: 'image-classification' } });
    await expect(latest.modelVersions.get('car-damage@1')).resolves.toMatchObject({ name: 'car-damage', tags: { task: 'image-classification' }, lineage: { task: 'image-classification' } });
    const [log] = await latest.inferenceLog.toArray();
    expect(log).toMatchObject({ model: 'car-damage', task: 'image-classification' });
    latest.close();
  });

  it('renames the sentiment task to text classification under v6, keeping the preset, model names and version ids', async () => {
    const factory = new IDBFactory();
    const v5 = makeDb(SCHEMA_VERSIONS.filter((v) => v.version <= 5), factory, 'upgrade-v6');
    const legacy = 'sentiment' as never;
    // A version id as Loupe wrote it for sentiment data: the task name, then one line per sample.
    const samples = [
      { hash: 'a1', label: 'negative', split: 'train' as const },
      { hash: 'b2', label: 'neutral', split: 'train' as const },
      { hash: 'c3', label: 'positive', split: 'val' as const },
    ];
    const lines = samples.map((x) => `${x.hash}\t${JSON.stringify(x.label)}\t${x.split}\t`).sort();
    const id = createHash('sha256').update(`loupe-dataset-version 1\nsentiment\n${lines.join('\n')}`).digest('hex');
    await v5.datasets.add({ id, name: 'tweets', task: legacy, createdAt: 1, sampleCount: 3, labels: ['negative', 'neutral', 'positive'] });
    await v5.datasets.add({ id: 'd-cars', name: 'cars', task: 'image-classification', preset: 'car-damage', createdAt: 2, sampleCount: 3 });
    await v5.runs.add(makeRun({ id: 'r-tweets', task: legacy, datasetVersion: id, params: { task: legacy, datasetId: id, model: { architecture: 'fasttext', dim: 16 } } }));
    await v5.modelVersions.add({
      id: 'sentiment@1',
      name: 'sentiment',
      version: 1,
      status: 'production',
      createdAt: 1,
      metrics: {},
      tags: { task: 'sentiment' },
      lineage: { task: legacy, runId: 'r-tweets', datasetVersion: id, params: { task: legacy, datasetId: id, model: { architecture: 'fasttext', dim: 16 } } },
    });
    await v5.inferenceLog.add({ ...makeLogRow(), model: 'sentiment', task: legacy });
    await v5.pipelines.add({ ...makePipeline(), id: 'pl-old', task: legacy });
    const source = 'method: grid\ntask: sentiment\nparameters:\n  dim: {values: [8, 16]}\n';
    await v5.sweeps.add({ id: 'sw-old', name: 'old sweep', task: legacy, datasetId: id, status: 'completed', createdAt: 1, source, definition: { ...validateSweep(source).definition, task: legacy }, trials: [] });
    v5.close();

    const latest = makeDb(SCHEMA_VERSIONS, factory, 'upgrade-v6');
    await latest.open();
    await expect(latest.datasets.get(id)).resolves.toMatchObject({ task: 'text-classification', preset: 'sentiment', labels: ['negative', 'neutral', 'positive'] });
    await expect(latest.datasets.where('task').equals('text-classification').primaryKeys()).resolves.toEqual([id]);
    await expect(latest.datasets.get('d-cars')).resolves.toMatchObject({ task: 'image-classification', preset: 'car-damage' });
    // The same samples hash to the stored id under the new task name: runs, lineage and exports still point at it.
    expect(await datasetVersionId('text-classification', samples, ['negative', 'neutral', 'positive'])).toBe(id);
    await expect(latest.runs.get('r-tweets')).resolves.toMatchObject({ task: 'text-classification', params: { task: 'text-classification' } });
    const version = (await latest.modelVersions.get('sentiment@1'))!;
    expect(version).toMatchObject({ name: 'sentiment', tags: { task: 'text-classification' }, lineage: { task: 'text-classification', params: { task: 'text-classification' } } });
    expect(taskOfVersion(version)).toBe('text-classification');
    await expect(latest.inferenceLog.toArray()).resolves.toMatchObject([{ model: 'sentiment', task: 'text-classification' }]);
    await expect(latest.pipelines.get('pl-old')).resolves.toMatchObject({ task: 'text-classification', model: 'sentiment' });
    const sweep = (await latest.sweeps.get('sw-old'))!;
    expect(sweep).toMatchObject({ task: 'text-classification', definition: { task: 'text-classification' } });
    // What the user wrote stays as written, and still validates.
    expect(validateSweep(sweep.source).definition.task).toBe('text-classification');
    latest.close();
  });

  it('declares versions in increasing order, each adding something', () => {
    const numbers = SCHEMA_VERSIONS.map((v) => v.version);
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
    expect(new Set(numbers).size).toBe(numbers.length);
    for (const version of SCHEMA_VERSIONS) expect(Object.keys(version.stores).length).toBeGreaterThan(0);
  });
});
