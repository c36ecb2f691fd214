import * as tf from '@tensorflow/tfjs';
import type { ProjectionConfig } from './config';

export interface HeadArgs {
  projection: ProjectionConfig | null;
  dropout: number;
  seed: number;
  /** The output layer. */
  units: number;
  activation: 'linear' | 'softmax';
  name: string;
}

/** pooled features → [Dense projection + activation] → [Dropout] → Dense output. */
export function head(features: tf.SymbolicTensor, args: HeadArgs): tf.SymbolicTensor {
  let x = features;
  if (args.projection) {
    x = tf.layers
      .dense({
        units: args.projection.units,
        activation: args.projection.activation ?? 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: args.seed + 101 }),
        name: 'projection',
      })
      .apply(x) as tf.SymbolicTensor;
  }
  if (args.dropout > 0) {
    x = tf.layers.dropout({ rate: args.dropout, seed: args.seed + 102, name: 'dropout' }).apply(x) as tf.SymbolicTensor;
  }
  return tf.layers
    .dense({
      units: args.units,
      activation: args.activation,
      kernelInitializer: tf.initializers.glorotUniform({ seed: args.seed + 103 }),
      name: args.name,
    })
    .apply(x) as tf.SymbolicTensor;
}
