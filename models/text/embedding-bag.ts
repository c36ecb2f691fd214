import * as tf from '@tensorflow/tfjs';
import type { CustomGradientFunc } from '@tensorflow/tfjs-core/dist/engine';

export interface EmbeddingBagArgs {
  inputDim: number;
  outputDim: number;
  seed?: number;
  name?: string;
}

/**
 * The weighted sum of embedding rows: inputs `[ids [batch, n] int32, weights [batch, n]]` → [batch, dim].
 *
 * Why not Embedding + Dot: the gradient of `gather` is `unsortedSegmentSum`, which tfjs's cpu backend
 * computes with one tensor op per embedding row — a single step on 4,096 rows took over a minute here.
 * The gradient below is one `scatterND` (duplicates add up), linear in the number of ids, on every backend.
 */
export class EmbeddingBag extends tf.layers.Layer {
  static readonly className = 'EmbeddingBag';
  readonly inputDim: number;
  readonly outputDim: number;
  readonly seed: number;
  private table!: tf.LayerVariable;

  constructor(args: EmbeddingBagArgs) {
    super({ name: args.name });
    this.inputDim = args.inputDim;
    this.outputDim = args.outputDim;
    this.seed = args.seed ?? 1;
  }

  override build(): void {
    const limit = 1 / this.outputDim;
    this.table = this.addWeight(
      'embeddings',
      [this.inputDim, this.outputDim],
      'float32',
      tf.initializers.randomUniform({ minval: -limit, maxval: limit, seed: this.seed }),
    );
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape[]): tf.Shape {
    return [inputShape[0]![0]!, this.outputDim];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const [ids, weights] = inputs as tf.Tensor[];
    if (!ids || !weights) throw new Error('EmbeddingBag expects [ids, weights]');
    const bag = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [table, idTensor, weightTensor, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
      save([idTensor, weightTensor]);
      const rows = tf.gather(table, idTensor.cast('int32')); // [b, n, d]
      const value = tf.sum(tf.mul(rows, weightTensor.expandDims(2)), 1); // [b, d]
      return {
        value,
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [savedIds, savedWeights] = saved as [tf.Tensor, tf.Tensor];
          const [batch, n] = savedIds.shape as [number, number];
          // d table[id] += weight · dy[b] for every (b, t) with ids[b, t] = id.
          const updates = tf.mul(savedWeights.expandDims(2), dy.expandDims(1)).reshape([batch * n, this.outputDim]);
          const gradTable = tf.scatterND(savedIds.cast('int32').reshape([batch * n, 1]), updates, [this.inputDim, this.outputDim]);
          // ids and weights are data, never trained: their gradients are not needed.
          return [gradTable, tf.zerosLike(savedIds), tf.zerosLike(savedWeights)];
        },
      };
    }) as CustomGradientFunc<tf.Tensor>);
    return bag(this.table.read(), ids, weights) as tf.Tensor;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), inputDim: this.inputDim, outputDim: this.outputDim, seed: this.seed };
  }
}

tf.serialization.registerClass(EmbeddingBag);
