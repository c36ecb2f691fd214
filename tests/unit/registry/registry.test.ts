import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import {
  ClassSetMismatch,
  ConcurrentPromotionError,
  GateEvaluationError,
  InvalidRegistryInput,
  ModelVersionNotFound,
  PromotionRejected,
  StatusChangeRefused,
} from '../../../src/lib/registry/errors';
import { recordedMetricsEvaluator } from '../../../src/lib/registry/evaluators';
import { DEFAULT_GATE_RULES } from '../../../src/lib/registry/gate';
import { PRODUCTION, registryLockName } from '../../../src/lib/registry/registry';
import type { LockFn } from '../../../src/lib/registry/types';
import { makeDb, makeRun } from '../factories';
import { fakeArtifacts, imageInputsTopology, makeRegistry, registerInput, tableCounts, tableEvaluator } from './helpers';

const EVAL = 'eval-ds-1';

describe('registering versions', () => {
  it('numbers versions 1, 2, 3 per model name, independently across names', async () => {
    const registry = makeRegistry();
    const a1 = await registry.register(registerInput());
    const a2 = await registry.register(registerInput());
    const b1 = await registry.register(registerInput({ name: 'sentiment', lineage: { task: 'sentiment' } }));
    const a3 = await registry.register(registerInput());
    expect([a1.version, a2.version, a3.version, b1.version]).toEqual([1, 2, 3, 1]);
    expect(a1).toMatchObject({ id: 'coin-year@1', status: 'candidate', runId: 'run-1' });
    expect((await registry.versions('coin-year')).map((v) => v.version)).toEqual([1, 2, 3]);
  });

  it('gives concurrent registrations distinct consecutive numbers', async () => {
    const registry = makeRegistry();
    const rows = await Promise.all(Array.from({ length: 6 }, () => registry.register(registerInput())));
    expect(rows.map((r) => r.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('never reuses the number of an archived or rejected version', async () => {
    const registry = makeRegistry();
    await registry.register(registerInput());
    await registry.archive({ name: 'coin-year', version: 1 });
    await expect(registry.register(registerInput())).resolves.toMatchObject({ version: 2 });
  });

  it('stores weights, signature, example input, metrics, lineage, an auto-filled card and the task tag', async () => {
    const registry = makeRegistry();
    const artifacts = fakeArtifacts([1, 2, 3], imageInputsTopology(64));
    const row = await registry.register(registerInput(artifacts));
    const stored = await registry.get('coin-year', 1);
    expect(stored.modelJson).toBe(artifacts.modelJson);
    expect(new Float32Array(await stored.shards![0]!.arrayBuffer())).toEqual(new Float32Array([1, 2, 3]));
    expect(stored.metrics).toEqual({ val_mae: 14, val_rmse: 18, mae: 9 });
    expect(stored.lineage).toMatchObject({ runId: 'run-1', datasetVersion: 'ds-1', backend: 'cpu', gitCommit: 'abc1234', registeredWith: { appVersion: '9.9.9', gitCommit: 'feedbee' } });
    expect(stored.tags).toEqual({ task: 'coin-year' });
    // The REST columns a request carries, then the tensors of the saved model's own inputs (64 px here, not a default).
    expect(stored.signature).toEqual({
      inputs: [
        { name: 'front_image_base64', type: 'string' },
        { name: 'back_image_base64', type: 'string' },
        { name: 'front', type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 64, 64, 3] } },
        { name: 'back', type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 64, 64, 3] } },
      ],
      outputs: [{ name: 'year', type: 'double' }],
    });
    expect(stored.exampleInput).toEqual({ inputs: [{ front_image_base64: expect.any(String), back_image_base64: expect.any(String) }] });
    for (const section of ['## Intended use', '## Data', '## Metrics', '## Limits', '- mae: 14', '- rmse: 18', '`ds-1`']) expect(row.card).toContain(section);
    expect(row.card).not.toContain('- mae: 9'); // training metrics are not the held-out ones
  });

  it('signs each task with its REST columns and the tensor shapes its model.json declares, or columns only when it declares none', async () => {
    const registry = makeRegistry();
    const damage = await registry.register(registerInput({ name: 'car-damage', ...fakeArtifacts(undefined, imageInputsTopology(96, ['image'])), lineage: { task: 'image-classification' } }));
    expect(damage.tags).toEqual({ task: 'image-classification' });
    expect(damage.signature?.inputs).toEqual([
      { name: 'image_base64', type: 'string' },
      { name: 'image', type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 96, 96, 3] } },
    ]);
    expect(damage.exampleInput).toEqual({ inputs: [{ image_base64: expect.any(String) }] });
    const text = await registry.register(registerInput({ name: 'sentiment', lineage: { task: 'sentiment' } }));
    expect(text.signature?.inputs).toEqual([{ name: 'text', type: 'string' }]);
    const unsaid = await registry.register(registerInput());
    expect(unsaid.signature?.inputs).toEqual([
      { name: 'front_image_base64', type: 'string' },
      { name: 'back_image_base64', type: 'string' },
    ]);
  });

  it('fills lineage from a completed run', async () => {
    const db = makeDb();
    const registry = makeRegistry({}, db);
    const run = makeRun({ id: 'r7', backend: 'wasm', adapter: 'SIMD', gitCommit: '0123abc', metrics: { val_mae: 12.5 }, trainedOn: { targetRange: { min: 1850, max: 2020 } }, params: { task: 'coin-year', datasetId: 'abc123', model: { architecture: 'coin-regressor', backbone: 'resnet18' }, epochs: 5 } });
    await db.runs.add(run);
    await db.datasets.add({ id: 'abc123', name: 'coins 2024', task: 'coin-year', createdAt: 1, sampleCount: 120, splits: { train: 100, val: 20 } });
    const row = await registry.registerFromRun('r7', { weights: fakeArtifacts() });
    expect(row).toMatchObject({ name: 'coin-year', version: 1, metrics: { val_mae: 12.5 }, runId: 'r7' });
    expect(row.lineage).toMatchObject({ runId: 'r7', task: 'coin-year', datasetVersion: 'abc123', datasetName: 'coins 2024', params: run.params, seed: 42, backend: 'wasm', adapter: 'SIMD', appVersion: '0.1.0', gitCommit: '0123abc', trainedOn: { targetRange: { min: 1850, max: 2020 } } });
    expect(row.card).toContain('coins 2024');
    await db.runs.put({ ...run, id: 'r8', status: 'failed' });
    await expect(registry.registerFromRun('r8', { weights: fakeArtifacts() })).rejects.toThrow(/failed; only completed runs/);
  });

  it('registers a run once per model: a second registration returns the existing version and says so', async () => {
    const db = makeDb();
    const registry = makeRegistry({}, db);
    await db.runs.add(makeRun({ id: 'r7' }));
    const first = await registry.registerFromRun('r7', { weights: fakeArtifacts() });
    expect(first).toMatchObject({ name: 'coin-year', version: 1, alreadyRegistered: false });
    const before = await tableCounts(db);
    const again = await registry.registerFromRun('r7', { weights: fakeArtifacts() });
    expect(again).toMatchObject({ id: first.id, version: 1, alreadyRegistered: true });
    expect(await tableCounts(db)).toEqual(before); // no version, no audit row
    // Under another name it is another model's first version; a plain register() always adds one.
    await expect(registry.registerFromRun('r7', { name: 'coins-b', weights: fakeArtifacts() })).resolves.toMatchObject({ name: 'coins-b', version: 1, alreadyRegistered: false });
    await expect(registry.register(registerInput({ lineage: { runId: 'r7' } }))).resolves.toMatchObject({ version: 2 });
  });

  it('two tabs registering the same run at once make one version', async () => {
    const factory = new IDBFactory();
    const tabA = makeRegistry({}, makeDb(undefined, factory, 'shared'));
    const tabB = makeRegistry({}, makeDb(undefined, factory, 'shared'));
    await tabA.db.runs.add(makeRun({ id: 'r9' }));
    const rows = await Promise.all([tabA.registerFromRun('r9', { weights: fakeArtifacts() }), tabB.registerFromRun('r9', { weights: fakeArtifacts() })]);
    expect(rows.map((r) => r.version)).toEqual([1, 1]);
    expect(rows.map((r) => r.alreadyRegistered).sort()).toEqual([false, true]);
    expect(await tabA.versions('coin-year')).toHaveLength(1);
    expect((await tabA.audit('coin-year')).filter((e) => e.kind === 'register')).toHaveLength(1);
  });

  it.each([
    ['a bad model name', registerInput({ name: '../etc' }), /not a model name/],
    ['a non-finite metric', registerInput({ metrics: { mae: Number.POSITIVE_INFINITY } }), /metrics\.mae: must be finite/],
    ['weights that do not match model.json', registerInput({ shards: [new Blob([new Uint8Array(8)])] }), /hold 8 bytes but the manifest's shapes × dtypes need 12/],
    ['model.json without a topology', registerInput({ modelJson: '{"weightsManifest":[]}' }), /model\.json: modelTopology/],
    ['a malformed signature', registerInput({ signature: { inputs: [{ type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-2] } }] } as never }), /inputs\[0\]\.tensor-spec\.shape\[0\]: must be ≥ -1/],
  ])('refuses %s and writes nothing', async (_, input, message) => {
    const registry = makeRegistry();
    const before = await tableCounts(registry.db);
    await expect(registry.register(input)).rejects.toThrow(InvalidRegistryInput);
    await expect(registry.register(input)).rejects.toThrow(message);
    expect(await tableCounts(registry.db)).toEqual(before);
  });
});

describe('aliases', () => {
  it('points one alias at one version and moves it when reassigned', async () => {
    const registry = makeRegistry();
    for (let i = 0; i < 3; i++) await registry.register(registerInput());
    await registry.setAlias('coin-year', 'champion-candidate', 1);
    await registry.setAlias('coin-year', 'shadow', 2);
    await registry.setAlias('coin-year', 'champion-candidate', 3);
    const aliases = await registry.aliases('coin-year');
    expect(aliases.map((a) => [a.alias, a.version]).sort()).toEqual([['champion-candidate', 3], ['shadow', 2]]);
    const audit = await registry.audit('coin-year');
    expect(audit.filter((e) => e.kind === 'alias').map((e) => e.reason)).toEqual([
      'Set @champion-candidate to v1.',
      'Set @shadow to v2.',
      'Moved @champion-candidate from v1 to v3.',
    ]);
    await registry.removeAlias('coin-year', 'shadow');
    expect((await registry.aliases('coin-year')).map((a) => a.alias)).toEqual(['champion-candidate']);
  });

  it('keeps production out of reach of plain alias moves, and refuses reserved or odd aliases', async () => {
    const registry = makeRegistry();
    await registry.register(registerInput());
    await expect(registry.setAlias('coin-year', PRODUCTION, 1)).rejects.toThrow(/only through the promotion gate or a rollback/);
    await expect(registry.setAlias('coin-year', 'latest', 1)).rejects.toThrow(/reserved/);
    await expect(registry.setAlias('coin-year', 'v2', 1)).rejects.toThrow(/reserved/);
    await expect(registry.setAlias('coin-year', 'a b', 1)).rejects.toThrow(/not an alias/);
    await expect(registry.setAlias('coin-year', 'shadow', 9)).rejects.toThrow(ModelVersionNotFound);
    await expect(registry.removeAlias('coin-year', PRODUCTION)).rejects.toThrow(/cannot be removed/);
  });
});

describe('promotion gate', () => {
  async function threeVersions() {
    const registry = makeRegistry();
    for (let i = 0; i < 3; i++) await registry.register(registerInput());
    return registry;
  }

  it('promotes the first version that clears the absolute threshold (no champion)', async () => {
    const registry = await threeVersions();
    const evaluate = tableEvaluator({ 1: { mae: 30, rmse: 40 } });
    const decision = await registry.promote({ name: 'coin-year', version: 1, evalDataVersion: EVAL, evaluate, evaluator: 'table' });
    expect(decision).toMatchObject({ kind: 'gate', outcome: 'promoted', version: 1, productionAfter: 1, evalDataVersion: EVAL, evaluator: 'table', trigger: 'manual' });
    expect(decision.productionBefore).toBeUndefined();
    expect(decision.championMetrics).toBeUndefined();
    expect(evaluate.calls).toEqual([[1, EVAL]]);
    expect(await registry.production('coin-year')).toBe(1);
    expect((await registry.get('coin-year', 1)).status).toBe('production');
  });

  it('rejects a first version that misses the absolute threshold', async () => {
    const registry = await threeVersions();
    const error = await registry.promote({ name: 'coin-year', version: 1, evalDataVersion: EVAL, evaluate: tableEvaluator({ 1: { mae: 80, rmse: 90 } }) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PromotionRejected);
    expect((error as PromotionRejected).message).toMatch(/mae 80 misses the threshold \(at most 50\)/);
    expect(await registry.production('coin-year')).toBeUndefined();
    expect(await registry.get('coin-year', 1)).toMatchObject({ status: 'rejected', rejectionReason: expect.stringMatching(/misses the threshold/) });
  });

  it('evaluates champion and challenger on the same evaluation set, promotes the better and archives the old champion', async () => {
    const registry = await threeVersions();
    const evaluate = tableEvaluator({ 1: { mae: 14, rmse: 16 }, 2: { mae: 11, rmse: 15 } });
    await registry.promote({ name: 'coin-year', version: 1, evalDataVersion: EVAL, evaluate });
    evaluate.calls.length = 0;
    const decision = await registry.promote({ name: 'coin-year', version: 2, evalDataVersion: EVAL, evaluate, trigger: 'pipeline' });
    expect(evaluate.calls).toEqual([[2, EVAL], [1, EVAL]]);
    expect(decision).toMatchObject({
      outcome: 'promoted',
      trigger: 'pipeline',
      productionBefore: 1,
      productionAfter: 2,
      candidateMetrics: { mae: 11, rmse: 15 },
      championMetrics: { mae: 14, rmse: 16 },
      rule: DEFAULT_GATE_RULES['coin-year'],
    });
    expect(decision.reason).toMatch(/mae beats production v1/);
    expect((await registry.versions('coin-year')).map((v) => v.status)).toEqual(['archived', 'production', 'candidate']);
    expect((await registry.get('coin-year', 2)).evaluations).toEqual({ [EVAL]: { mae: 11, rmse: 15 } });
  });

  it('rejects a worse challenger with both metric sets, keeps it with its reason, and leaves production alone', async () => {
    const registry = await threeVersions();
    const evaluate = tableEvaluator({ 1: { mae: 14, rmse: 16 }, 3: { mae: 15, rmse: 16 } });
    await registry.promote({ name: 'coin-year', version: 1, evalDataVersion: EVAL, evaluate });
    const error = await registry.promote({ name: 'coin-year', version: 3, evalDataVersion: EVAL, evaluate }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PromotionRejected);
    const rejected = error as PromotionRejected;
    expect(rejected.name).toBe('PromotionRejected');
    expect(rejected.candidateMetrics).toEqual({ mae: 15, rmse: 16 });
    expect(rejected.championMetrics).toEqual({ mae: 14, rmse: 16 });
    expect(rejected.message).toMatch(/mae 15 is not better than production v1's 14/);
    expect(await registry.get('coin-year', 3)).toMatchObject({ status: 'rejected', rejectionReason: rejected.message });
    expect(await registry.production('coin-year')).toBe(1);
    const last = (await registry.audit('coin-year')).at(-1)!;
    expect(last).toMatchObject({ kind: 'gate', outcome: 'rejected', version: 3, productionBefore: 1, productionAfter: 1, evalDataVersion: EVAL });
    expect(last.checks?.map((c) => [c.metric, c.passed])).toEqual([['mae', false], ['rmse', true]]);
  });

  it('refuses to compare versions that predict different classes, measuring neither, and says why', async () => {
    const registry = makeRegistry();
    const classifier = (labels: string[]) => {
      const artifacts = fakeArtifacts();
      const modelJson = JSON.stringify({ ...JSON.parse(artifacts.modelJson), userDefinedMetadata: { loupe: { task: 'sentiment', architecture: 'fasttext', labels } } });
      return registerInput({ name: 'sentiment', ...artifacts, modelJson, metrics: { val_accuracy: 0.7 }, lineage: { task: 'sentiment' } });
    };
    await registry.register(classifier(['negative', 'neutral', 'positive']));
    await registry.register(classifier(['negative', 'positive']));
    await registry.register(classifier(['positive', 'negative', 'neutral']));
    const evaluate = tableEvaluator({ 1: { accuracy: 0.7, macroF1: 0.6 }, 2: { accuracy: 0.9, macroF1: 0.9 }, 3: { accuracy: 0.8, macroF1: 0.7 } });
    await registry.promote({ name: 'sentiment', version: 1, evalDataVersion: EVAL, evaluate });
    evaluate.calls.length = 0;

    const error = await registry.promote({ name: 'sentiment', version: 2, evalDataVersion: EVAL, evaluate }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClassSetMismatch);
    expect(error).toBeInstanceOf(GateEvaluationError);
    expect(error).toMatchObject({ candidateLabels: ['negative', 'positive'], championLabels: ['negative', 'neutral', 'positive'] });
    expect((error as Error).message).toMatch(/v2 predicts negative, positive but production v1 predicts negative, neutral, positive; the gate compares only models with the same classes/);
    expect(evaluate.calls).toEqual([]);
    expect(await registry.production('sentiment')).toBe(1);
    expect((await registry.get('sentiment', 2)).status).toBe('candidate');
    expect((await registry.audit('sentiment')).at(-1)).toMatchObject({ kind: 'gate', outcome: 'failed', version: 2, productionAfter: 1, reason: expect.stringMatching(/^The gate refused to compare: v2 predicts negative, positive/) });

    // The same classes in another order compare as usual.
    const decision = await registry.promote({ name: 'sentiment', version: 3, evalDataVersion: EVAL, evaluate });
    expect(decision).toMatchObject({ outcome: 'promoted', productionAfter: 3 });
  });

  it('records a failed evaluation and changes nothing else', async () => {
    const registry = await threeVersions();
    const error = await registry
      .promote({ name: 'coin-year', version: 2, evalDataVersion: EVAL, evaluate: async () => { throw new Error('out of GPU memory'); } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GateEvaluationError);
    expect((await registry.get('coin-year', 2)).status).toBe('candidate');
    expect((await registry.audit('coin-year')).at(-1)).toMatchObject({ outcome: 'failed', reason: expect.stringMatching(/out of GPU memory/) });
    const bad = await registry.promote({ name: 'coin-year', version: 2, evalDataVersion: EVAL, evaluate: async () => ({ mae: Number.POSITIVE_INFINITY }) }).catch((e: unknown) => e);
    expect((bad as Error).message).toMatch(/bad metrics for v2: mae: must be finite/);
  });

  it('refuses to promote the production version again, or an unknown version', async () => {
    const registry = await threeVersions();
    const evaluate = tableEvaluator({ 1: { mae: 14, rmse: 16 } });
    await registry.promote({ name: 'coin-year', version: 1, evalDataVersion: EVAL, evaluate });
    await expect(registry.promote({ name: 'coin-year', version: 1, evalDataVersion: EVAL, evaluate })).rejects.toThrow(StatusChangeRefused);
    await expect(registry.promote({ name: 'coin-year', version: 7, evalDataVersion: EVAL, evaluate })).rejects.toThrow(ModelVersionNotFound);
  });

  it('uses a stored per-model rule', async () => {
    const registry = await threeVersions();
    await registry.setGateRule('coin-year', { primary: 'mae', metrics: { mae: { greaterIsBetter: false, threshold: 10 } } });
    await expect(registry.promote({ name: 'coin-year', version: 1, evalDataVersion: EVAL, evaluate: tableEvaluator({ 1: { mae: 14 } }) })).rejects.toThrow(/at most 10/);
  });

  it('clears a per-model rule: the task default judges again', async () => {
    const registry = await threeVersions();
    const own = { primary: 'mae', metrics: { mae: { greaterIsBetter: false, threshold: 10 } } };
    await registry.setGateRule('coin-year', own);
    await expect(registry.hasOwnGateRule('coin-year')).resolves.toBe(true);
    await expect(registry.gateRule('coin-year')).resolves.toEqual(own);
    await registry.clearGateRule('coin-year');
    await expect(registry.hasOwnGateRule('coin-year')).resolves.toBe(false);
    await expect(registry.gateRule('coin-year')).resolves.toEqual(DEFAULT_GATE_RULES['coin-year']);
  });

  it('with the recorded-metrics evaluator, compares only versions measured on the evaluation set', async () => {
    const registry = makeRegistry();
    await registry.register(registerInput({ metrics: { val_mae: 14, val_rmse: 16 } }));
    await registry.register(registerInput({ metrics: { val_mae: 11, val_rmse: 15 } }));
    await registry.register(registerInput({ metrics: { val_mae: 9, val_rmse: 12 }, lineage: { task: 'coin-year', datasetVersion: 'ds-2' } }));
    await registry.promote({ name: 'coin-year', version: 1, evalDataVersion: 'ds-1', evaluate: recordedMetricsEvaluator });
    await registry.promote({ name: 'coin-year', version: 2, evalDataVersion: 'ds-1', evaluate: recordedMetricsEvaluator });
    expect(await registry.production('coin-year')).toBe(2);
    await expect(registry.promote({ name: 'coin-year', version: 3, evalDataVersion: 'ds-1', evaluate: recordedMetricsEvaluator })).rejects.toThrow(
      /v3 was measured on dataset version ds-2, not ds-1; .*needs a live evaluator/,
    );
    expect((await registry.get('coin-year', 3)).status).toBe('candidate');
  });
});

describe('concurrent promotions', () => {
  async function racingSetup(lock?: LockFn) {
    const factory = new IDBFactory();
    let t = 1_700_000_000_000;
    const now = () => (t += 1000); // one wall clock for both tabs
    // Two connections to one database: two tabs.
    const tabA = makeRegistry({ now, ...(lock ? { lock } : {}) }, makeDb(undefined, factory, 'shared'));
    const tabB = makeRegistry({ now, ...(lock ? { lock } : {}) }, makeDb(undefined, factory, 'shared'));
    for (let i = 0; i < 3; i++) await tabA.register(registerInput());
    const evaluate = tableEvaluator({ 1: { mae: 14, rmse: 16 }, 2: { mae: 11, rmse: 15 }, 3: { mae: 10, rmse: 15 } }, 20);
    await tabA.promote({ name: 'coin-year', version: 1, evalDataVersion: EVAL, evaluate });
    return { tabA, tabB, evaluate };
  }

  async function expectOneProduction(registry: ReturnType<typeof makeRegistry>) {
    const versions = await registry.versions('coin-year');
    const production = versions.filter((v) => v.status === 'production');
    expect(production).toHaveLength(1);
    expect(await registry.production('coin-year')).toBe(production[0]!.version);
    return production[0]!.version;
  }

  it('two tabs promoting at once end with exactly one production version, each gate judged against the real champion', async () => {
    const { tabA, tabB, evaluate } = await racingSetup();
    evaluate.calls.length = 0;
    const results = await Promise.allSettled([
      tabA.promote({ name: 'coin-year', version: 2, evalDataVersion: EVAL, evaluate }),
      tabB.promote({ name: 'coin-year', version: 3, evalDataVersion: EVAL, evaluate }),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
    // Serialized: v2 beat v1, then v3 was measured against v2 (not against the stale v1).
    expect(evaluate.calls).toEqual([[2, EVAL], [1, EVAL], [3, EVAL], [2, EVAL]]);
    expect(await expectOneProduction(tabA)).toBe(3);
    const gates = (await tabB.audit('coin-year')).filter((e) => e.kind === 'gate');
    expect(gates.map((g) => [g.version, g.productionBefore, g.productionAfter])).toEqual([[1, undefined, 1], [2, 1, 2], [3, 2, 3]]);
  });

  it('the same version gated in two tabs at once: one gate run, one audit row, both get its decision', async () => {
    const { tabA, tabB, evaluate } = await racingSetup();
    const auditBefore = (await tabA.audit('coin-year')).length;
    evaluate.calls.length = 0;
    const joined: string[] = [];
    // v2 beats v1; then v3 (better still) against v2. Each version asked for twice, at once.
    const results = await Promise.all([
      tabA.promote({ name: 'coin-year', version: 2, evalDataVersion: EVAL, evaluate }),
      tabB.promote({ name: 'coin-year', version: 2, evalDataVersion: EVAL, evaluate, onJoined: (d) => joined.push(d.id) }),
    ]);
    expect(results[1]).toEqual(results[0]);
    expect(joined).toEqual([results[0].id]);
    expect(evaluate.calls).toEqual([[2, EVAL], [1, EVAL]]);
    expect(await tabA.audit('coin-year')).toHaveLength(auditBefore + 1);
    expect(await expectOneProduction(tabB)).toBe(2);
  });

  it('a rejection reaches the second caller too, as the same PromotionRejected, without a second gate run', async () => {
    const { tabA, tabB } = await racingSetup();
    const worse = tableEvaluator({ 1: { mae: 14, rmse: 16 }, 2: { mae: 20, rmse: 25 } }, 20);
    const [a, b] = await Promise.allSettled([
      tabA.promote({ name: 'coin-year', version: 2, evalDataVersion: EVAL, evaluate: worse }),
      tabB.promote({ name: 'coin-year', version: 2, evalDataVersion: EVAL, evaluate: worse }),
    ]);
    expect([a.status, b.status]).toEqual(['rejected', 'rejected']);
    const [ea, eb] = [(a as PromiseRejectedResult).reason as PromotionRejected, (b as PromiseRejectedResult).reason as PromotionRejected];
    expect(eb).toBeInstanceOf(PromotionRejected);
    expect(eb.decision).toEqual(ea.decision);
    expect(worse.calls).toEqual([[2, EVAL], [1, EVAL]]);
    expect((await tabA.audit('coin-year')).filter((e) => e.kind === 'gate' && e.version === 2)).toHaveLength(1);
  });

  it('a decision taken after the caller looked (the dialog opened) is the answer; asking again after it gates again', async () => {
    const { tabA, tabB } = await racingSetup();
    const worse = tableEvaluator({ 1: { mae: 14, rmse: 16 }, 2: { mae: 20, rmse: 25 } });
    const seen = (await tabB.latestGateDecision('coin-year', 2))?.id ?? null; // tab B opens its dialog
    expect(seen).toBeNull();
    await expect(tabA.promote({ name: 'coin-year', version: 2, evalDataVersion: EVAL, evaluate: worse })).rejects.toThrow(PromotionRejected);
    await expect(tabB.promote({ name: 'coin-year', version: 2, evalDataVersion: EVAL, evaluate: worse, knownDecision: seen })).rejects.toThrow(PromotionRejected);
    expect(worse.calls).toHaveLength(2); // tab A's gate run only: champion and challenger
    // Asked with the rejection in view (e.g. after changing the rule), the gate runs again.
    const better = tableEvaluator({ 1: { mae: 14, rmse: 16 }, 2: { mae: 11, rmse: 15 } });
    await expect(tabB.promote({ name: 'coin-year', version: 2, evalDataVersion: EVAL, evaluate: better })).resolves.toMatchObject({ outcome: 'promoted' });
    expect((await tabA.audit('coin-year')).filter((e) => e.kind === 'gate' && e.version === 2).map((e) => e.outcome)).toEqual(['rejected', 'promoted']);
  });

  it('serializes on the Web Lock named after the model', async () => {
    const names: string[] = [];
    const { tabA } = await racingSetup(async (name, body) => {
      names.push(name);
      return body();
    });
    expect(names).toContain(registryLockName('coin-year'));
    expect(registryLockName('coin-year')).toBe('loupe-registry-coin-year');
    await expectOneProduction(tabA);
  });

  it('without the lock, the transaction still refuses the stale gate instead of a second production', async () => {
    const noLock: LockFn = (_name, body) => body();
    const { tabA, tabB, evaluate } = await racingSetup(noLock);
    const results = await Promise.allSettled([
      tabA.promote({ name: 'coin-year', version: 2, evalDataVersion: EVAL, evaluate }),
      tabB.promote({ name: 'coin-year', version: 3, evalDataVersion: EVAL, evaluate }),
    ]);
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(failures).toHaveLength(1);
    expect(failures[0]!.reason).toBeInstanceOf(ConcurrentPromotionError);
    await expectOneProduction(tabA);
  });
});

describe('rollback and archive', () => {
  async function promotedTwice() {
    const registry = makeRegistry();
    for (let i = 0; i < 3; i++) await registry.register(registerInput());
    const evaluate = tableEvaluator({ 1: { mae: 14, rmse: 16 }, 2: { mae: 11, rmse: 15 } });
    await registry.promote({ name: 'coin-year', version: 1, evalDataVersion: EVAL, evaluate });
    await registry.promote({ name: 'coin-year', version: 2, evalDataVersion: EVAL, evaluate });
    return registry;
  }

  it('rolls production back to an earlier version in one action, and records it', async () => {
    const registry = await promotedTwice();
    const decision = await registry.rollback({ name: 'coin-year', version: 1, reason: 'complaints from users' });
    expect(decision).toMatchObject({ kind: 'rollback', outcome: 'rolled-back', version: 1, productionBefore: 2, productionAfter: 1 });
    expect(decision.reason).toBe('Rolled back production from v2 to v1: complaints from users');
    expect(await registry.production('coin-year')).toBe(1);
    expect((await registry.versions('coin-year')).map((v) => v.status)).toEqual(['production', 'archived', 'candidate']);
    expect((await registry.audit('coin-year')).at(-1)).toEqual(decision);
  });

  it('refuses rollbacks that are not rollbacks', async () => {
    const registry = await promotedTwice();
    await expect(registry.rollback({ name: 'coin-year', version: 2 })).rejects.toThrow(/already production/);
    await expect(registry.rollback({ name: 'coin-year', version: 3 })).rejects.toThrow(/newer than production v2: .* through the gate/);
    const fresh = makeRegistry();
    await fresh.register(registerInput());
    await expect(fresh.rollback({ name: 'coin-year', version: 1 })).rejects.toThrow(/no production version to roll back from/);
  });

  it('rolls back only to versions that were production before, refusing the rest in the registry itself', async () => {
    const registry = makeRegistry();
    for (let i = 0; i < 4; i++) await registry.register(registerInput());
    const evaluate = tableEvaluator({ 1: { mae: 14, rmse: 16 }, 2: { mae: 20, rmse: 25 }, 3: { mae: 11, rmse: 15 } });
    await registry.promote({ name: 'coin-year', version: 1, evalDataVersion: EVAL, evaluate });
    await expect(registry.promote({ name: 'coin-year', version: 2, evalDataVersion: EVAL, evaluate })).rejects.toThrow(PromotionRejected);
    await registry.promote({ name: 'coin-year', version: 3, evalDataVersion: EVAL, evaluate });
    // v1 was production; v2 was rejected; v4 is newer than production; v3 is production.
    expect(await registry.rollbackTargets('coin-year')).toEqual([1]);
    const before = await tableCounts(registry.db);
    const refusal = await registry.rollback({ name: 'coin-year', version: 2 }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(StatusChangeRefused);
    expect((refusal as Error).message).toBe('coin-year v2 was never production, so production cannot roll back to it (its status is rejected); a version reaches production for the first time through the gate');
    expect(await tableCounts(registry.db)).toEqual(before);
    expect(await registry.production('coin-year')).toBe(3);
    await expect(registry.rollback({ name: 'coin-year', version: 1 })).resolves.toMatchObject({ productionBefore: 3, productionAfter: 1 });
    expect(await registry.rollbackTargets('coin-year')).toEqual([]); // v3 is newer than production now
    expect(await makeRegistry().rollbackTargets('coin-year')).toEqual([]);
  });

  it('archives versions but never the production one', async () => {
    const registry = await promotedTwice();
    await expect(registry.archive({ name: 'coin-year', version: 2 })).rejects.toThrow(/is production: roll back or promote another/);
    const decision = await registry.archive({ name: 'coin-year', version: 3, reason: 'superseded' });
    expect(decision).toMatchObject({ kind: 'archive', outcome: 'archived', version: 3, reason: 'Archived v3 (was candidate): superseded' });
    expect((await registry.get('coin-year', 3)).status).toBe('archived');
  });

  it('keeps the audit trail in order, one entry per change', async () => {
    const registry = await promotedTwice();
    await registry.rollback({ name: 'coin-year', version: 1 });
    const audit = await registry.audit('coin-year');
    expect(audit.map((e) => `${e.kind}:${e.outcome}:v${e.version}`)).toEqual([
      'register:registered:v1',
      'register:registered:v2',
      'register:registered:v3',
      'gate:promoted:v1',
      'gate:promoted:v2',
      'rollback:rolled-back:v1',
    ]);
    expect(audit.map((e) => e.ts)).toEqual([...audit.map((e) => e.ts)].sort((a, b) => a - b));
  });
});

describe('cards and tags', () => {
  it('edits the card and tags of a version', async () => {
    const registry = makeRegistry();
    await registry.register(registerInput());
    await registry.updateCard('coin-year', 1, '# Mine\n\nEdited.');
    await registry.setTags('coin-year', 1, { task: 'coin-year', owner: 'ana' });
    expect(await registry.get('coin-year', 1)).toMatchObject({ card: '# Mine\n\nEdited.', tags: { task: 'coin-year', owner: 'ana' } });
    await expect(registry.setTags('coin-year', 1, { '=bad': 'x' })).rejects.toThrow(/tag "=bad"/);
  });
});
