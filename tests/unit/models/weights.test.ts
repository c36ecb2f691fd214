import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackbone } from '../../../models/backbones/index';
import type { Backbone } from '../../../models/backbones/types';
import { PARAM_LAYOUTS, torchShapeOf } from '../../../models/weights/layout';
import { loadTorchWeights, loadTorchWeightsFrom, readSafetensors, WeightImportError } from '../../../models/weights/loader';
import type { SafetensorsFile } from '../../../models/weights/safetensors';
import { encodeSafetensors, f32Bytes, torchCheckpoint } from './factories';

let backbone: Backbone;

beforeAll(async () => {
  await tf.setBackend('cpu');
  backbone = createBackbone('mobilenetv3-small', { inputSize: 32 });
});

afterAll(() => backbone.model.dispose());

function weight(layer: string, name: string): Float32Array {
  const variable = backbone.model.getLayer(layer).weights.find((w) => w.originalName.endsWith(`/${name}`))!;
  return variable.read().dataSync() as Float32Array;
}

function without(file: SafetensorsFile, name: string): SafetensorsFile {
  const tensors = new Map(file.tensors);
  tensors.delete(name);
  return { ...file, tensors };
}

describe('torch → tfjs layouts', () => {
  it('inverts each permutation to give the torch shape', () => {
    expect(torchShapeOf([3, 3, 16, 32], PARAM_LAYOUTS.conv[0]!.perm)).toEqual([32, 16, 3, 3]); // OIHW
    expect(torchShapeOf([5, 5, 96, 1], PARAM_LAYOUTS.depthwise[0]!.perm)).toEqual([96, 1, 5, 5]); // O1HW
    expect(torchShapeOf([576, 1024], PARAM_LAYOUTS.linear[0]!.perm)).toEqual([1024, 576]); // [out, in]
    expect(torchShapeOf([64])).toEqual([64]);
  });
});

describe('loadTorchWeights', () => {
  it('transposes conv OIHW → HWIO, depthwise O1HW → HWC1 and copies BN statistics', () => {
    const file = torchCheckpoint(backbone, 'torchvision', 11);
    loadTorchWeights(backbone, file);

    // Stem conv: torch [16, 3, 3, 3] at [o=5, i=2, h=1, w=0] → tfjs [h=1, w=0, i=2, o=5].
    const stem = file.tensors.get('features.0.0.weight')!.data;
    expect(weight('features_0_0', 'kernel')[((1 * 3 + 0) * 3 + 2) * 16 + 5]).toBe(stem[((5 * 3 + 2) * 3 + 1) * 3 + 0]);
    // Depthwise 5×5 of block 4 (96 channels): torch [96, 1, 5, 5] at [c=40, 0, h=3, w=2] → tfjs [3, 2, 40, 0].
    const dw = file.tensors.get('features.4.block.1.0.weight')!.data;
    expect(weight('features_4_block_1_0', 'depthwise_kernel')[(3 * 5 + 2) * 96 + 40]).toBe(dw[40 * 25 + 3 * 5 + 2]);
    // SE fc1 (a 1×1 conv with bias): torch [24, 96, 1, 1] → [1, 1, 96, 24].
    const fc1 = file.tensors.get('features.4.block.2.fc1.weight')!.data;
    expect(weight('features_4_block_2_fc1', 'kernel')[7 * 24 + 3]).toBe(fc1[3 * 96 + 7]);
    expect([...weight('features_4_block_2_fc1', 'bias')]).toEqual([...file.tensors.get('features.4.block.2.fc1.bias')!.data]);
    expect([...weight('features_12_1', 'moving_variance')]).toEqual([...file.tensors.get('features.12.1.running_var')!.data]);
    expect([...weight('features_12_1', 'beta')]).toEqual([...file.tensors.get('features.12.1.bias')!.data]);
  });

  it('loads timm-named checkpoints (auto-detected) into the same weights', () => {
    const torchvision = torchCheckpoint(backbone, 'torchvision', 21);
    const timm = torchCheckpoint(backbone, 'timm', 21); // same seeds in the same module order → same values
    expect(timm.tensors.has('blocks.2.0.conv_pwl.weight')).toBe(true);
    expect(timm.tensors.has('conv_stem.weight')).toBe(true);
    timm.tensors.set('conv_head.weight', { dtype: 'F32', shape: [1024, 576, 1, 1], data: new Float32Array(1024 * 576) });

    loadTorchWeights(backbone, torchvision);
    const expected = backbone.model.getWeights().map((w) => w.dataSync().slice());
    loadTorchWeights(backbone, torchCheckpoint(backbone, 'torchvision', 99)); // something else in between
    loadTorchWeights(backbone, timm);
    const actual = backbone.model.getWeights().map((w) => w.dataSync());
    expect(actual).toHaveLength(expected.length);
    actual.forEach((values, i) => expect(values).toEqual(expected[i]));
  });

  it('reads a prefixed checkpoint (e.g. a backbone inside a bigger model)', () => {
    const file = torchCheckpoint(backbone, 'torchvision', 31);
    const prefixed: SafetensorsFile = { ...file, tensors: new Map([...file.tensors].map(([k, v]) => [`backbone.${k}`, v])) };
    prefixed.tensors.set('head.weight', { dtype: 'F32', shape: [2], data: new Float32Array(2) });
    loadTorchWeights(backbone, prefixed, { prefix: 'backbone.' });
    expect([...weight('features_0_1', 'gamma')]).toEqual([...file.tensors.get('features.0.1.weight')!.data]);
  });

  it('names a missing tensor with its expected shape, and changes nothing', () => {
    loadTorchWeights(backbone, torchCheckpoint(backbone, 'torchvision', 41));
    const before = weight('features_0_0', 'kernel').slice();
    const file = without(torchCheckpoint(backbone, 'torchvision', 42), 'features.9.block.2.fc2.bias');
    expect(() => loadTorchWeights(backbone, file)).toThrow(WeightImportError);
    expect(() => loadTorchWeights(backbone, file)).toThrow(/missing tensor 'features\.9\.block\.2\.fc2\.bias' \(expected shape \[288\]\)/);
    expect(weight('features_0_0', 'kernel')).toEqual(before);
  });

  it('names a mis-shaped tensor with both shapes', () => {
    const file = torchCheckpoint(backbone, 'torchvision', 51);
    file.tensors.set('features.1.block.0.0.weight', { dtype: 'F32', shape: [16, 1, 5, 5], data: new Float32Array(400) });
    expect(() => loadTorchWeights(backbone, file)).toThrow(
      /tensor 'features\.1\.block\.0\.0\.weight' has shape \[16, 1, 5, 5\], expected \[16, 1, 3, 3\] for layer 'features_1_block_0_0' depthwise_kernel/,
    );
  });

  it('names an unexpected tensor', () => {
    const file = torchCheckpoint(backbone, 'torchvision', 61);
    file.tensors.set('features.13.0.weight', { dtype: 'F32', shape: [8, 576, 1, 1], data: new Float32Array(8 * 576) });
    expect(() => loadTorchWeights(backbone, file)).toThrow(/unexpected tensor 'features\.13\.0\.weight' with shape \[8, 576, 1, 1\]/);
  });

  it('rejects a checkpoint of the other architecture with a list of problems', () => {
    const resnet = createBackbone('resnet18', { inputSize: 32 });
    try {
      const file = torchCheckpoint(resnet, 'torchvision', 71);
      expect(() => loadTorchWeights(backbone, file)).toThrow(/cannot load torchvision weights into mobilenetv3-small: \d+ problem\(s\)[\s\S]*missing tensor 'features\.0\.0\.weight'[\s\S]*… and \d+ more/);
    } finally {
      resnet.model.dispose();
    }
  });

  it('rejects integer tensors where floats belong', () => {
    const file = torchCheckpoint(backbone, 'torchvision', 81);
    file.tensors.set('features.0.1.running_mean', { dtype: 'I64', shape: [16], data: new Int32Array(16) });
    expect(() => loadTorchWeights(backbone, file)).toThrow(/tensor 'features\.0\.1\.running_mean' has dtype I64, expected a float dtype/);
  });

  it('does not leak tensors', () => {
    const file = torchCheckpoint(backbone, 'torchvision', 91);
    const start = tf.memory().numTensors;
    loadTorchWeights(backbone, file);
    expect(tf.memory().numTensors).toBe(start);
  });
});

describe('readSafetensors', () => {
  const bytes = encodeSafetensors({ 'bn1.running_mean': { dtype: 'F32', shape: [2], bytes: f32Bytes([0.5, -0.5]) } });

  it('reads a Blob/File and bytes', async () => {
    const fromBlob = await readSafetensors(new Blob([bytes]));
    expect([...fromBlob.tensors.get('bn1.running_mean')!.data]).toEqual([0.5, -0.5]);
    const fromBuffer = await readSafetensors(bytes.slice().buffer);
    expect(fromBuffer.tensors.get('bn1.running_mean')!.shape).toEqual([2]);
  });

  it('fetches a URL, and reports an HTTP error with the URL', async () => {
    const requested: string[] = [];
    const fakeFetch = (async (url: string | URL) => {
      requested.push(String(url));
      return String(url).endsWith('missing.safetensors') ? new Response('nope', { status: 404, statusText: 'Not Found' }) : new Response(bytes);
    }) as typeof fetch;
    const file = await readSafetensors('https://example.org/w.safetensors', { fetch: fakeFetch });
    expect([...file.tensors.keys()]).toEqual(['bn1.running_mean']);
    await expect(readSafetensors('https://example.org/missing.safetensors', { fetch: fakeFetch })).rejects.toThrow(
      /GET https:\/\/example\.org\/missing\.safetensors failed: HTTP 404 Not Found/,
    );
    expect(requested).toEqual(['https://example.org/w.safetensors', 'https://example.org/missing.safetensors']);
  });

  it('loads a backbone straight from a URL', async () => {
    const checkpoint = torchCheckpoint(backbone, 'torchvision', 101);
    const raw = Object.fromEntries(
      [...checkpoint.tensors].map(([name, t]) => [name, { dtype: t.dtype, shape: t.shape, bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) }]),
    );
    // I64 step counters are 8 bytes each: re-encode them as such.
    for (const [name, t] of Object.entries(raw)) if (t.dtype === 'I64') raw[name] = { ...t, bytes: new Uint8Array(new BigInt64Array([7n]).buffer) };
    const body = encodeSafetensors(raw);
    await loadTorchWeightsFrom(backbone, 'https://example.org/m.safetensors', { fetch: (async () => new Response(body)) as typeof fetch });
    expect([...weight('features_0_1', 'moving_mean')]).toEqual([...checkpoint.tensors.get('features.0.1.running_mean')!.data]);
  });
});
