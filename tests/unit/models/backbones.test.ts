import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HardSigmoid, HardSwish } from '../../../models/backbones/activations';
import { BACKBONE_KINDS, createBackbone, IMAGENET_MEAN, IMAGENET_STD, normalizeImageNet, UnknownBackboneError } from '../../../models/backbones/index';
import { makeDivisible, MOBILENETV3_SMALL_BLOCKS, squeezeChannels } from '../../../models/backbones/mobilenetv3-small/constants';
import { countParameters } from '../../../models/backbones/params';
import type { Backbone, BackboneKind } from '../../../models/backbones/types';

/** torchvision's parameter counts without the classifier, and its BN running statistics (buffers). */
const TORCHVISION: Record<BackboneKind, { params: number; buffers: number; features: number; bnEpsilon: number; bnMomentum: number }> = {
  resnet18: { params: 11_176_512, buffers: 9_600, features: 512, bnEpsilon: 1e-5, bnMomentum: 0.9 },
  'mobilenetv3-small': { params: 927_008, buffers: 12_112, features: 576, bnEpsilon: 1e-3, bnMomentum: 0.99 },
};

const layersOf = (backbone: Backbone, className: string) => backbone.model.layers.filter((l) => l.getClassName() === className);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.each(BACKBONE_KINDS)('%s', (kind) => {
  let backbone: Backbone;
  const expected = TORCHVISION[kind];

  beforeAll(() => {
    backbone = createBackbone(kind, { inputSize: 32 });
  });
  afterAll(() => backbone.model.dispose());

  it("has torchvision's parameter count without the classifier", () => {
    expect(countParameters(backbone.model)).toEqual({ trainable: expected.params, nonTrainable: expected.buffers });
  });

  it('keeps exactly the BN running means and variances non-trainable', () => {
    const batchNorms = layersOf(backbone, 'BatchNormalization');
    const names = backbone.model.nonTrainableWeights.map((w) => w.originalName.split('/').pop());
    expect(names).toHaveLength(2 * batchNorms.length);
    expect(new Set(names)).toEqual(new Set(['moving_mean', 'moving_variance']));
  });

  it("uses torchvision's BatchNorm epsilon and momentum (tfjs momentum = 1 − torch momentum)", () => {
    for (const layer of layersOf(backbone, 'BatchNormalization')) {
      const config = layer.getConfig();
      expect(config.epsilon).toBe(expected.bnEpsilon);
      expect(config.momentum).toBeCloseTo(expected.bnMomentum, 12);
    }
  });

  it('has no conv bias before a BatchNorm, and pads every strided k×k conv symmetrically (torch padding)', () => {
    for (const layer of [...layersOf(backbone, 'Conv2D'), ...layersOf(backbone, 'DepthwiseConv2D')]) {
      const config = layer.getConfig();
      const isSqueezeExcite = /_fc[12]$/.test(layer.name);
      expect(config.useBias, layer.name).toBe(isSqueezeExcite);
      const [kernel] = config.kernelSize as number[];
      const [stride] = config.strides as number[];
      if (stride === 2 && kernel! > 1) {
        expect(config.padding, layer.name).toBe('valid');
        expect(config.symmetricPadding, layer.name).toBe(Math.floor(kernel! / 2));
      }
    }
  });

  it('has the same parameter count at another input size', () => {
    const larger = createBackbone(kind, { inputSize: 64 });
    try {
      expect(countParameters(larger.model)).toEqual(countParameters(backbone.model));
    } finally {
      larger.model.dispose();
    }
  });

  it('maps images to pooled features, without leaking tensors', () => {
    const images = tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 7);
    const start = tf.memory().numTensors;
    const features = backbone.model.predict(images) as tf.Tensor;
    expect(features.shape).toEqual([2, expected.features]);
    expect(backbone.featureDim).toBe(expected.features);
    expect(Array.from(features.dataSync()).every(Number.isFinite)).toBe(true);
    features.dispose();
    expect(tf.memory().numTensors).toBe(start);
    images.dispose();
  });

  it('maps every weight from exactly one torchvision tensor', () => {
    const { modules } = backbone.weightMap('torchvision');
    const layers = new Set(modules.map((m) => m.layer));
    expect(layers.size).toBe(modules.length);
    const withWeights = backbone.model.layers.filter((l) => l.weights.length > 0).map((l) => l.name);
    expect(new Set(withWeights)).toEqual(layers);
  });
});

describe('MobileNetV3-Small details', () => {
  it('rounds channels like torchvision _make_divisible', () => {
    expect([makeDivisible(4), makeDivisible(60), makeDivisible(30), makeDivisible(36), makeDivisible(88.08), makeDivisible(10)]).toEqual([8, 64, 32, 40, 88, 16]);
  });

  it("gives each squeeze-excite block torchvision's squeeze width", () => {
    const widths = MOBILENETV3_SMALL_BLOCKS.filter((b) => b.squeezeExcite).map((b) => squeezeChannels(b.expandedChannels));
    expect(widths).toEqual([8, 24, 64, 64, 32, 40, 72, 144, 144]);
    const backbone = createBackbone('mobilenetv3-small', { inputSize: 32 });
    try {
      const fc1 = backbone.model.layers.filter((l) => l.name.endsWith('_fc1')).map((l) => l.getConfig().filters);
      expect(fc1).toEqual(widths);
    } finally {
      backbone.model.dispose();
    }
  });

  it("computes PyTorch's hardsigmoid and hardswish (not Keras's 0.2·x + 0.5)", () => {
    const x = tf.tensor1d([-4, -3, -1.5, 0, 1, 3, 4]);
    const sigmoid = new HardSigmoid({}).apply(x) as tf.Tensor;
    const swish = new HardSwish({}).apply(x) as tf.Tensor;
    const relu6 = (v: number) => Math.min(Math.max(v + 3, 0), 6) / 6;
    const xs = [-4, -3, -1.5, 0, 1, 3, 4];
    xs.forEach((v, i) => {
      expect(sigmoid.dataSync()[i]).toBeCloseTo(relu6(v), 6);
      expect(swish.dataSync()[i]).toBeCloseTo(v * relu6(v), 6);
    });
    tf.dispose([x, sigmoid, swish]);
  });
});

describe('createBackbone', () => {
  it('throws for an unknown kind, listing the valid ones', () => {
    expect(() => createBackbone('vgg16' as BackboneKind)).toThrow(UnknownBackboneError);
    expect(() => createBackbone('vgg16' as BackboneKind)).toThrow(/unknown backbone "vgg16"; valid kinds: resnet18, mobilenetv3-small/);
  });

  it('rejects input sizes that are not multiples of 32', () => {
    expect(() => createBackbone('resnet18', { inputSize: 100 })).toThrow(/inputSize must be a multiple of 32 and ≥ 32.*got 100/);
    expect(() => createBackbone('mobilenetv3-small', { inputSize: 0 })).toThrow(/got 0/);
  });

  it('prefixes layer names so two backbones fit in one model', () => {
    const front = createBackbone('mobilenetv3-small', { inputSize: 32, namePrefix: 'front_' });
    try {
      expect(front.model.layers.every((l) => l.name.startsWith('front_'))).toBe(true);
      expect(front.weightMap('torchvision').modules[0]).toEqual({ source: 'features.0.0', layer: 'front_features_0_0', kind: 'conv' });
    } finally {
      front.model.dispose();
    }
  });
});

describe('normalizeImageNet', () => {
  it("applies torchvision's ToTensor + Normalize per channel", () => {
    const pixels = tf.tensor4d([0, 128, 255, 255, 255, 255], [1, 1, 2, 3], 'int32');
    const normalized = normalizeImageNet(pixels);
    const expected = [0, 128 / 255, 1, 1, 1, 1].map((v, i) => (v - IMAGENET_MEAN[i % 3]!) / IMAGENET_STD[i % 3]!);
    Array.from(normalized.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
    expect(() => normalizeImageNet(tf.zeros([1, 2, 2, 4]) as tf.Tensor4D)).toThrow(/3 channels/);
    tf.dispose([pixels, normalized]);
  });
});
