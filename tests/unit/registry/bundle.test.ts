import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import { strFromU8, strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadFromBlobs, saveToBlobs } from '../../../models/io';
import { exportBundle, importBundle, readBundle } from '../../../src/lib/registry/bundle';
import { InvalidBundleError } from '../../../src/lib/registry/errors';
import { taskOfVersion } from '../../../src/lib/tasks/names';
import { fakeArtifacts, imageInputsTopology, makeRegistry, registerInput, tableCounts } from './helpers';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

async function exportedBytes(): Promise<{ bytes: Uint8Array; registry: ReturnType<typeof makeRegistry> }> {
  const registry = makeRegistry();
  await registry.register(registerInput({ ...fakeArtifacts(undefined, imageInputsTopology(64)), tags: { owner: 'ana' } }));
  const row = await registry.get('coin-year', 1);
  return { bytes: new Uint8Array(await (await exportBundle(row)).arrayBuffer()), registry };
}

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Re-zips edited files; with `fixChecksums` the checksum file is recomputed so deeper checks are reached. */
function rezip(files: Record<string, Uint8Array>, fixChecksums = true): Uint8Array {
  const out: Zippable = { ...files };
  if (fixChecksums) {
    const lines = Object.entries(files)
      .filter(([name]) => name !== 'checksums.sha256')
      .map(([name, data]) => `${sha(data)}  ${name}`);
    out['checksums.sha256'] = strToU8(`${lines.join('\n')}\n`);
  }
  return zipSync(out);
}

function editJson(files: Record<string, Uint8Array>, name: string, edit: (json: Record<string, unknown>) => void): Record<string, Uint8Array> {
  const json = JSON.parse(strFromU8(files[name]!)) as Record<string, unknown>;
  edit(json);
  return { ...files, [name]: strToU8(JSON.stringify(json)) };
}

/** Offsets of an entry's central-directory record and local header in a zip. */
function headers(zip: Uint8Array, name: string): { central: number; local: number } {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  for (let i = 0; i < zip.length - 46; i++) {
    if (view.getUint32(i, true) !== 0x02014b50) continue;
    const length = view.getUint16(i + 28, true);
    if (strFromU8(zip.subarray(i + 46, i + 46 + length)) === name) return { central: i, local: view.getUint32(i + 42, true) };
  }
  throw new Error(`no entry ${name}`);
}

function patch(zip: Uint8Array, edit: (view: DataView) => void): Uint8Array {
  const copy = zip.slice();
  edit(new DataView(copy.buffer));
  return copy;
}

describe('bundle export', () => {
  it('writes model.json, the shards, MLmodel (JSON), metrics, lineage, card, example and checksums of every file', async () => {
    const { bytes } = await exportedBytes();
    const files = unzipSync(bytes);
    expect(Object.keys(files).sort()).toEqual(
      ['MLmodel', 'README.md', 'checksums.sha256', 'group1-shard1of1.bin', 'input_example.json', 'lineage.json', 'metrics.json', 'model.json'].sort(),
    );
    const sums = strFromU8(files['checksums.sha256']!).trim().split('\n');
    expect(sums).toHaveLength(7);
    for (const line of sums) {
      const [digest, name] = line.split('  ') as [string, string];
      expect(digest).toBe(sha(files[name]!));
    }
    const mlmodel = JSON.parse(strFromU8(files.MLmodel!)) as { flavors: { tfjs: { model_json: string } }; signature: { inputs: string; outputs: string }; loupe: Record<string, unknown> };
    expect(mlmodel.flavors.tfjs.model_json).toBe('model.json');
    expect(JSON.parse(mlmodel.signature.inputs)).toEqual([
      { name: 'front_image_base64', type: 'string' },
      { name: 'back_image_base64', type: 'string' },
      { name: 'front', type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 64, 64, 3] } },
      { name: 'back', type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 64, 64, 3] } },
    ]);
    expect(JSON.parse(mlmodel.signature.outputs)).toEqual([{ name: 'year', type: 'double' }]);
    expect(mlmodel.loupe).toMatchObject({ format: 'loupe-model-bundle', formatVersion: 1, name: 'coin-year', version: 1, status: 'candidate', tags: { task: 'coin-year', owner: 'ana' } });
    expect(JSON.parse(strFromU8(files['metrics.json']!))).toEqual({ val_mae: 14, val_rmse: 18, mae: 9 });
    expect(JSON.parse(strFromU8(files['lineage.json']!))).toMatchObject({ runId: 'run-1', datasetVersion: 'ds-1', gitCommit: 'abc1234' });
    expect(strFromU8(files['README.md']!)).toContain('## Intended use');
  });
});

describe('bundle round trip', () => {
  it('imports what it exported: identical model.json, shards, metrics, card, signature, lineage', async () => {
    const { bytes, registry } = await exportedBytes();
    const original = await registry.get('coin-year', 1);
    const target = makeRegistry();
    const imported = await importBundle(target, bytes);
    expect(imported).toMatchObject({ name: 'coin-year', version: 1, status: 'candidate' });
    expect(imported.modelJson).toBe(original.modelJson);
    expect(new Uint8Array(await imported.shards![0]!.arrayBuffer())).toEqual(new Uint8Array(await original.shards![0]!.arrayBuffer()));
    expect(imported.metrics).toEqual(original.metrics);
    expect(imported.card).toBe(original.card);
    expect(imported.signature).toEqual(original.signature);
    expect(imported.exampleInput).toEqual(original.exampleInput);
    expect(imported.tags).toEqual(original.tags);
    const { registeredWith: _a, ...lineage } = imported.lineage!;
    const { registeredWith: _b, ...originalLineage } = original.lineage!;
    expect(lineage).toEqual(originalLineage);
    expect(imported.importedFrom).toMatchObject({ name: 'coin-year', version: 1, bundleSha256: sha(bytes) });
    // Into the same registry it becomes the next version, under another name if asked.
    await expect(importBundle(registry, bytes)).resolves.toMatchObject({ version: 2 });
    await expect(importBundle(registry, bytes, { name: 'coins-eu' })).resolves.toMatchObject({ name: 'coins-eu', version: 1 });
    expect((await registry.audit('coin-year')).at(-1)!.reason).toMatch(/^Imported from a bundle of coin-year v1/);
  });

  it('a tiny tf.sequential saved with models/io.ts predicts the same after export and import', async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu' }), tf.layers.dense({ units: 1 })] });
    const input = tf.tensor2d([[0.1, 0.2, 0.3, 0.4], [1, -1, 0.5, 2]]);
    const expected = await (model.predict(input) as tf.Tensor).data();
    const saved = await saveToBlobs(model, { maxShardBytes: 64 }); // several shards
    expect(saved.shards.length).toBeGreaterThan(1);
    const registry = makeRegistry();
    const row = await registry.register(registerInput({ ...saved }));
    const imported = await importBundle(makeRegistry(), await exportBundle(row));
    expect(imported.shards).toHaveLength(saved.shards.length);
    const reloaded = await loadFromBlobs({ modelJson: imported.modelJson!, shards: imported.shards! });
    const actual = await (reloaded.predict(input) as tf.Tensor).data();
    expect(Array.from(actual)).toEqual(Array.from(expected));
    model.dispose();
    reloaded.dispose();
    input.dispose();
  });
});

describe('bundles exported before image classification was generic', () => {
  it('imports a car-damage bundle (lineage and tag task car-damage) as a model of image classification', async () => {
    const registry = makeRegistry();
    const artifacts = fakeArtifacts(undefined, imageInputsTopology(64, ['image']));
    const row = await registry.register(registerInput({ name: 'car-damage', ...artifacts, metrics: { val_accuracy: 0.8 }, lineage: { runId: 'run-9', task: 'image-classification' } }));
    const files = unzipSync(new Uint8Array(await (await exportBundle(row)).arrayBuffer()));
    const legacy = editJson(
      editJson(files, 'lineage.json', (j) => (j.task = 'car-damage')),
      'MLmodel',
      (j) => ((j.loupe as { tags: Record<string, string> }).tags.task = 'car-damage'),
    );
    const target = makeRegistry();
    const imported = await importBundle(target, rezip(legacy));
    expect(imported).toMatchObject({ name: 'car-damage', version: 1, lineage: { task: 'image-classification' }, tags: { task: 'image-classification' } });
    expect(taskOfVersion(imported)).toBe('image-classification');
    expect(imported.signature).toEqual(row.signature);
    expect(imported.modelJson).toBe(artifacts.modelJson);
  });
});

describe('hostile or malformed bundles are refused with a clear message and nothing written', () => {
  let valid: Record<string, Uint8Array>;
  let validZip: Uint8Array;
  beforeAll(async () => {
    validZip = (await exportedBytes()).bytes;
    valid = unzipSync(validZip);
  });

  const without = (files: Record<string, Uint8Array>, ...names: string[]) => Object.fromEntries(Object.entries(files).filter(([n]) => !names.includes(n)));

  const cases: [string, () => Uint8Array, RegExp, { maxEntries?: number; maxTotalBytes?: number; maxArchiveBytes?: number }?][] = [
    ['not a zip', () => strToU8('{"this": "is json, not a zip"}'), /is not a zip file/],
    ['bad JSON in metrics.json', () => rezip({ ...valid, 'metrics.json': strToU8('{"mae": 12,') }), /^metrics\.json: is not valid JSON/],
    ['bad JSON in model.json', () => rezip({ ...valid, 'model.json': strToU8('not json') }), /^model\.json: is not valid JSON/],
    ['a missing file', () => rezip(without(valid, 'README.md')), /the bundle has no README\.md/],
    ['a missing checksum file', () => rezip(without(valid, 'checksums.sha256'), false), /the bundle has no checksums\.sha256/],
    ['a missing weight shard', () => rezip(without(valid, 'group1-shard1of1.bin')), /model\.json: weightsManifest: lists the weight shard group1-shard1of1\.bin, which the bundle lacks/],
    [
      'wrong shapes (shape × dtype ≠ bytes)',
      () => rezip(editJson(valid, 'model.json', (j) => ((j as { weightsManifest: { weights: { shape: number[] }[] }[] }).weightsManifest[0]!.weights[0]!.shape = [3, 1]))),
      /model\.json: weightsManifest: the weight shards hold 12 bytes but the manifest's shapes × dtypes need 16 bytes/,
    ],
    ['weight bytes that do not match the manifest', () => rezip({ ...valid, 'group1-shard1of1.bin': new Uint8Array(8) }), /the weight shards hold 8 bytes but the manifest's shapes × dtypes need 12/],
    ['an unknown dtype', () => rezip(editJson(valid, 'model.json', (j) => ((j as { weightsManifest: { weights: { dtype: string }[] }[] }).weightsManifest[0]!.weights[0]!.dtype = 'float64'))), /model\.json: weightsManifest\[0\]\.weights\[0\]\.dtype: is not a weight dtype/],
    [
      'an absurd declared weight size',
      () => rezip(editJson(valid, 'model.json', (j) => ((j as { weightsManifest: { weights: { shape: number[] }[] }[] }).weightsManifest[0]!.weights[0]!.shape = [1e9, 1e9]))),
      /model\.json: weightsManifest\[0\]\.weights\[0\]\.shape: declares more than 768 MiB of weights/,
    ],
    ['a shard path that climbs out', () => rezip(editJson(valid, 'model.json', (j) => ((j as { weightsManifest: { paths: string[] }[] }).weightsManifest[0]!.paths = ['../../evil.bin']))), /weightsManifest\[0\]\.paths\[0\]: is not a plain shard file name/],
    ['an extra, unlisted file', () => rezip({ ...valid, 'payload.exe': strToU8('MZ') }, false), /^payload\.exe: is not listed in checksums\.sha256/],
    ['an extra listed file', () => rezip({ ...valid, 'notes.txt': strToU8('hi') }), /^notes\.txt: is not part of a model bundle/],
    ['a checksum mismatch', () => rezip({ ...valid, 'metrics.json': strToU8('{"val_mae": 0.1}') }, false), /^metrics\.json: does not match its checksum/],
    ['a malformed checksum line', () => rezip({ ...valid, 'checksums.sha256': strToU8('abc  model.json\n') }, false), /checksums\.sha256: line 1 is not "<sha256 hex> {2}<file name>"/],
    ['path traversal with ..', () => rezip({ ...valid, '../evil.txt': strToU8('x') }), /entry "\.\.\/evil\.txt" climbs out of the bundle/],
    ['an absolute path', () => rezip({ ...valid, '/etc/cron.d/evil': strToU8('x') }), /has an absolute path \(path traversal\)/],
    ['a backslash path', () => rezip({ ...valid, '..\\evil.txt': strToU8('x') }), /uses a backslash/],
    ['a drive letter', () => rezip({ ...valid, 'C:evil.txt': strToU8('x') }), /names a drive letter/],
    ['a directory entry', () => rezip({ ...valid, 'weights/': new Uint8Array(0) }), /has an empty or "\." path segment/],
    ['too many entries', () => rezip({ ...valid, ...Object.fromEntries(Array.from({ length: 600 }, (_, i) => [`f${i}.txt`, strToU8('x')])) }), /has 608 entries, more than the 512/],
    ['an archive over the cap', () => validZip, /the bundle is .* more than the 1 KiB Loupe accepts/, { maxArchiveBytes: 1024 }],
    ['a total over the cap', () => validZip, /declares .* in all, more than the 2 KiB Loupe accepts/, { maxTotalBytes: 2048 }],
    [
      'an absurd declared entry size',
      () => patch(validZip, (view) => view.setUint32(headers(validZip, 'metrics.json').central + 24, 300 * 1024 * 1024, true)),
      /^metrics\.json: declares 300 MiB, more than the 256 MiB a bundle file may have/,
    ],
    [
      'a real size larger than declared (zip bomb)',
      () => {
        const bomb = rezip({ ...valid, 'README.md': strToU8(`${'A'.repeat(200_000)}\n`) });
        return patch(bomb, (view) => view.setUint32(headers(bomb, 'README.md').central + 24, 100, true));
      },
      /^README\.md: inflates to more than the 100 bytes it declares/,
    ],
    [
      'a real size smaller than declared',
      () => patch(validZip, (view) => view.setUint32(headers(validZip, 'metrics.json').central + 24, 5000, true)),
      /^metrics\.json: inflates to \d+ bytes but declares 5000/,
    ],
    [
      'duplicate names',
      () => {
        const { central, local } = headers(validZip, 'lineage.json');
        return patch(validZip, (view) => {
          strToU8('metrics.json').forEach((b, k) => {
            view.setUint8(central + 46 + k, b);
            view.setUint8(local + 30 + k, b);
          });
        });
      },
      /^metrics\.json: appears twice in the zip/,
    ],
    [
      'a local header whose name differs from the directory',
      () => patch(validZip, (view) => view.setUint8(headers(validZip, 'lineage.json').local + 30, 'L'.charCodeAt(0))),
      /^lineage\.json: has a different name in its local header/,
    ],
    [
      'overlapping entries',
      () =>
        patch(validZip, (view) => {
          const at = headers(validZip, 'model.json').central + 20;
          view.setUint32(at, view.getUint32(at, true) + 40, true); // its data now covers the next entry's header
        }),
      /^model\.json: overlaps another entry|^\S+: overlaps another entry/,
    ],
    ['an encrypted entry', () => patch(validZip, (view) => view.setUint16(headers(validZip, 'MLmodel').central + 8, 1, true)), /^MLmodel: is encrypted/],
    ['an MLmodel of another format', () => rezip(editJson(valid, 'MLmodel', (j) => ((j.loupe as Record<string, unknown>).format = 'mlflow'))), /^MLmodel: loupe\.format: must be "loupe-model-bundle"/],
    ['an MLmodel with a bad version', () => rezip(editJson(valid, 'MLmodel', (j) => ((j.loupe as Record<string, unknown>).version = 0))), /^MLmodel: loupe\.version: must be ≥ 1/],
    ['an MLmodel with a hostile name', () => rezip(editJson(valid, 'MLmodel', (j) => ((j.loupe as Record<string, unknown>).name = '../../x'))), /^MLmodel: loupe\.name: is not a model name/],
    ['an MLmodel that is YAML', () => rezip({ ...valid, MLmodel: strToU8('flavors:\n  tfjs: {}\n') }), /^MLmodel: is not valid JSON/],
    [
      'a signature that is not JSON',
      () => rezip(editJson(valid, 'MLmodel', (j) => ((j.signature as Record<string, unknown>).inputs = '[{"type":'))),
      /^MLmodel signature\.inputs: is not valid JSON/,
    ],
    [
      'a signature with a bad spec',
      () => rezip(editJson(valid, 'MLmodel', (j) => ((j.signature as Record<string, unknown>).inputs = '[{"name":"x","type":"tensor","tensor-spec":{"dtype":"float32","shape":[-1,"a"]}}]'))),
      /^MLmodel signature: inputs\[0\]\.tensor-spec\.shape\[1\]/,
    ],
    ['metrics that are not numbers', () => rezip({ ...valid, 'metrics.json': strToU8('{"val_mae": "low"}') }), /^metrics\.json: val_mae: must be a number/],
    ['lineage with an unknown backend', () => rezip(editJson(valid, 'lineage.json', (j) => (j.backend = 'tpu'))), /^lineage\.json: backend: is not a backend/],
  ];

  it.each(cases)('%s', async (_, build, message, limits) => {
    const registry = makeRegistry();
    await registry.register(registerInput()); // something to leave untouched
    const before = await tableCounts(registry.db);
    const error = await importBundle(registry, build(), { limits }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidBundleError);
    expect((error as Error).message).toMatch(message);
    expect(await tableCounts(registry.db)).toEqual(before);
  });

  it('reads the untouched bundle (the cases above fail for their own reason)', async () => {
    await expect(readBundle(validZip)).resolves.toMatchObject({ name: 'coin-year', version: 1 });
    await expect(readBundle(rezip(valid))).resolves.toMatchObject({ name: 'coin-year' });
  });
});
