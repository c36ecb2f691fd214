import * as tf from '@tensorflow/tfjs';
import { check } from './config';

/**
 * A small convolutional classifier for small images (28–64 px, grey or colour): per block a 3×3 conv
 * (+ ReLU) and a 2×2 max pool, then a dense layer, dropout and softmax. Trains in minutes on the wasm
 * backend where MobileNetV3 or ResNet18 would take hours (docs/quality.md).
 */
export interface SmallCnnConfig {
  /** Class names, in output order (≥ 2, distinct). */
  labels: string[];
  /** Square input side in pixels. Default 28. */
  inputSize?: number;
  /** 1: grey (RGB averaged), 3: RGB. Default 1. */
  channels?: 1 | 3;
  /** Filters of each conv block. Default [32, 64]. */
  filters?: number[];
  /** Units of the dense layer before the output. Default 128. */
  dense?: number;
  /** Dropout before the output. Default 0.3. */
  dropout?: number;
  seed?: number;
}

/** What the model carries in model.json's `userDefinedMetadata.loupe`. */
export interface SmallCnnMetadata {
  architecture: 'small-cnn';
  labels: string[];
  inputSize: number;
  channels: 1 | 3;
  filters: number[];
  dense: number;
  dropout: number;
}

export const DEFAULT_SMALL_CNN = { inputSize: 28, channels: 1, filters: [32, 64], dense: 128, dropout: 0.3 } as const;

/**
 * Builds the classifier; its input is [batch, size, size, channels] scaled to [0, 1].
 * @example const { model } = createSmallCnn({ labels: ['cat', 'dog'], inputSize: 32, channels: 3 });
 */
export function createSmallCnn(config: SmallCnnConfig): { model: tf.LayersModel; metadata: SmallCnnMetadata } {
  const { labels } = config;
  const inputSize = config.inputSize ?? DEFAULT_SMALL_CNN.inputSize;
  const channels = config.channels ?? DEFAULT_SMALL_CNN.channels;
  const filters = config.filters ?? [...DEFAULT_SMALL_CNN.filters];
  const dense = config.dense ?? DEFAULT_SMALL_CNN.dense;
  const dropout = config.dropout ?? DEFAULT_SMALL_CNN.dropout;
  const seed = config.seed ?? 42;
  check(Array.isArray(labels) && labels.length >= 2 && new Set(labels).size === labels.length, 'labels', 'at least 2 distinct labels', labels);
  check(channels === 1 || channels === 3, 'channels', '1 (grey) or 3 (RGB)', channels);
  check(Array.isArray(filters) && filters.length >= 1 && filters.every((f) => Number.isInteger(f) && f > 0), 'filters', 'a list of positive whole numbers', filters);
  // Each block halves the side: the last one must still have at least one pixel.
  check(Number.isInteger(inputSize) && inputSize >= 2 ** filters.length, 'inputSize', `a whole number ≥ ${2 ** filters.length} for ${filters.length} blocks`, inputSize);
  check(Number.isInteger(dense) && dense >= 0, 'dense', 'a whole number ≥ 0 (0: no dense layer)', dense);
  check(dropout >= 0 && dropout < 1, 'dropout', 'a rate in [0, 1)', dropout);

  const init = (i: number) => tf.initializers.heNormal({ seed: seed + i });
  const input = tf.input({ shape: [inputSize, inputSize, channels], name: 'image' });
  let x: tf.SymbolicTensor = input;
  filters.forEach((n, i) => {
    x = tf.layers.conv2d({ filters: n, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(i), name: `conv${i + 1}` }).apply(x) as tf.SymbolicTensor;
    x = tf.layers.maxPooling2d({ poolSize: 2, name: `pool${i + 1}` }).apply(x) as tf.SymbolicTensor;
  });
  x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
  if (dense > 0) x = tf.layers.dense({ units: dense, activation: 'relu', kernelInitializer: init(50), name: 'dense' }).apply(x) as tf.SymbolicTensor;
  if (dropout > 0) x = tf.layers.dropout({ rate: dropout, seed: seed + 51, name: 'dropout' }).apply(x) as tf.SymbolicTensor;
  const output = tf.layers
    .dense({ units: labels.length, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 52 }), name: 'probabilities' })
    .apply(x) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: output, name: 'small_cnn' });
  const metadata: SmallCnnMetadata = { architecture: 'small-cnn', labels: [...labels], inputSize, channels, filters: [...filters], dense, dropout };
  model.setUserDefinedMetadata({ loupe: metadata });
  return { model, metadata };
}

/** The metadata a small CNN carries (also after loading); throws for other models. */
export function smallCnnMetadata(model: tf.LayersModel): SmallCnnMetadata {
  const metadata = (model.getUserDefinedMetadata() as { loupe?: SmallCnnMetadata } | undefined)?.loupe;
  if (metadata?.architecture !== 'small-cnn') throw new Error(`model '${model.name}' carries no small-cnn metadata (userDefinedMetadata.loupe)`);
  return metadata;
}
