import * as tf from '@tensorflow/tfjs';

export interface BenchModel {
  /** What was benchmarked, in words (the real model, or the stand-in, clearly named). */
  name: string;
  model: tf.LayersModel;
  loss: (yTrue: tf.Tensor, yPred: tf.Tensor) => tf.Scalar;
  /** Images per sample (2 for the dual coin regressor). */
  imagesPerSample: number;
}

/**
 * The real dual MobileNetV3-Small coin-year regressor from `models/` when it can be loaded, else a
 * stand-in with the same layer types (so the benchmark runs on any checkout).
 */
export async function benchModel(inputSize: number, seed = 1): Promise<BenchModel> {
  try {
    const models = await import('../../models/index');
    const built = models.createModel({ architecture: 'coin-regressor', backbone: 'mobilenetv3-small', mode: 'dual', inputSize, seed });
    return {
      name: `coin-year regressor, dual MobileNetV3-Small (models/), ${inputSize}²`,
      model: built.model,
      loss: models.coinYearLoss('huber'),
      imagesPerSample: 2,
    };
  } catch (error) {
    console.warn(`models/ could not build the coin regressor (${error instanceof Error ? error.message : String(error)}); using the stand-in`);
    return { name: `STAND-IN dual MobileNetV3-Small-like CNN (no SE, relu6 for hard-swish), ${inputSize}²`, model: standIn(inputSize, seed), loss: (a, b) => tf.losses.huberLoss(a, b) as tf.Scalar, imagesPerSample: 2 };
  }
}

/** [kernel, expanded, out, stride] of MobileNetV3-Small's blocks. */
const BLOCKS: [number, number, number, number][] = [
  [3, 16, 16, 2], [3, 72, 24, 2], [3, 88, 24, 1], [5, 96, 40, 2], [5, 240, 40, 1], [5, 240, 40, 1],
  [5, 120, 48, 1], [5, 144, 48, 1], [5, 288, 96, 2], [5, 576, 96, 1], [5, 576, 96, 1],
];

function tower(input: tf.SymbolicTensor, prefix: string, seed: number): tf.SymbolicTensor {
  let s = seed;
  const init = () => tf.initializers.heNormal({ seed: s++ });
  const bn = (x: tf.SymbolicTensor) => tf.layers.batchNormalization({ epsilon: 1e-3 }).apply(x) as tf.SymbolicTensor;
  const act = (x: tf.SymbolicTensor) => tf.layers.activation({ activation: 'relu6' }).apply(x) as tf.SymbolicTensor;
  const conv = (x: tf.SymbolicTensor, filters: number, k: number, strides: number) =>
    tf.layers.conv2d({ filters, kernelSize: k, strides, padding: 'same', useBias: false, kernelInitializer: init() }).apply(x) as tf.SymbolicTensor;
  let x = act(bn(conv(input, 16, 3, 2)));
  let channels = 16;
  for (const [k, expanded, out, stride] of BLOCKS) {
    let y = x;
    if (expanded !== channels) y = act(bn(conv(y, expanded, 1, 1)));
    y = tf.layers.depthwiseConv2d({ kernelSize: k, strides: stride, padding: 'same', useBias: false, depthwiseInitializer: init() }).apply(y) as tf.SymbolicTensor;
    y = bn(conv(act(bn(y)), out, 1, 1));
    x = stride === 1 && out === channels ? (tf.layers.add({}).apply([x, y]) as tf.SymbolicTensor) : y;
    channels = out;
  }
  x = act(bn(conv(x, 576, 1, 1)));
  return tf.layers.globalAveragePooling2d({ name: `${prefix}pool` }).apply(x) as tf.SymbolicTensor;
}

function standIn(inputSize: number, seed: number): tf.LayersModel {
  const front = tf.input({ shape: [inputSize, inputSize, 3], name: 'front' });
  const back = tf.input({ shape: [inputSize, inputSize, 3], name: 'back' });
  const features = tf.layers.concatenate().apply([tower(front, 'front_', seed), tower(back, 'back_', seed + 100)]) as tf.SymbolicTensor;
  const year = tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed }) }).apply(features) as tf.SymbolicTensor;
  return tf.model({ inputs: [front, back], outputs: year, name: 'stand_in_dual_mobilenetv3_small' });
}
