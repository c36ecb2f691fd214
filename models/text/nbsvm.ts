import * as tf from '@tensorflow/tfjs';
import type { CustomGradientFunc } from '@tensorflow/tfjs-core/dist/engine';

/** NB-SVM's settings (Wang & Manning 2012), with a logistic (softmax) loss instead of the hinge. */
export interface NbSvmConfig {
  /** Hash buckets of word n-grams. */
  buckets: number;
  /** Longest word n-gram (2 = words and bigrams, the paper's best on sentences). */
  wordNgrams: number;
  /** Character n-gram lengths inside `<word>`, as fastText's; [0, 0] (or absent, in models saved before) for none. */
  charNgrams?: [number, number];
  /** Distinct n-grams kept per text. */
  maxFeatures: number;
  /** Smoothing of the n-gram counts behind the log-count ratios (the paper's α). */
  alpha: number;
  /**
   * Interpolation at prediction: w' = (1 − β)·w̄ + β·w, w̄ the mean magnitude of the learned weights. β = 1 is
   * the trained classifier as is; smaller β leans towards multinomial naive Bayes (the paper used 0.25).
   */
  beta: number;
  /** Inverse regularisation strength, as in LIBLINEAR and scikit-learn: the penalty is ‖w‖² / (2·C·n) on the mean loss. */
  C: number;
  labels: string[];
  seed?: number;
}

// Character n-grams 3–5 since issue #28's second round: +0.3 to +2 points 10-fold on each UCI source (docs/quality.md).
// 512 features keep every word n-gram and nearly all character n-grams of a sentence (the median has 117).
export const DEFAULT_NBSVM: Omit<NbSvmConfig, 'labels'> = { buckets: 1 << 18, wordNgrams: 2, charNgrams: [3, 5], maxFeatures: 512, alpha: 1, beta: 1, C: 10 };

export class NbSvmConfigError extends Error {
  override name = 'NbSvmConfigError';
}

function check(condition: boolean, field: string, expected: string, got: unknown): void {
  if (!condition) throw new NbSvmConfigError(`${field} must be ${expected}, got ${JSON.stringify(got)}`);
}

/** Throws NbSvmConfigError naming the first setting out of range. */
export function checkNbSvmConfig(config: NbSvmConfig): void {
  check(Number.isInteger(config.buckets) && config.buckets > 0, 'buckets', 'a positive integer', config.buckets);
  check(Number.isInteger(config.wordNgrams) && config.wordNgrams >= 1, 'wordNgrams', 'an integer ≥ 1', config.wordNgrams);
  check(Number.isInteger(config.maxFeatures) && config.maxFeatures > 0, 'maxFeatures', 'a positive integer', config.maxFeatures);
  const [minN, maxN] = config.charNgrams ?? [0, 0];
  const charsOff = minN === 0 && maxN === 0;
  check(charsOff || (Number.isInteger(minN) && Number.isInteger(maxN) && minN >= 1 && minN <= maxN), 'charNgrams', '[0, 0] (none) or [min, max] with 1 ≤ min ≤ max', config.charNgrams);
  check(config.alpha > 0, 'alpha', 'a number > 0', config.alpha);
  check(config.beta >= 0 && config.beta <= 1, 'beta', 'a number in [0, 1]', config.beta);
  check(config.C > 0, 'C', 'a number > 0', config.C);
  check(Array.isArray(config.labels) && config.labels.length >= 2, 'labels', 'a list of at least 2 labels', config.labels);
}

export interface NbLinearArgs {
  /** Rows of the ratio and weight tables (buckets + 1: row 0 is padding). */
  inputDim: number;
  classes: number;
  beta: number;
  name?: string;
}

/**
 * The linear part of NB-SVM: inputs `[ids [batch, n] int32, mask [batch, n]]` (1 for a present n-gram, 0
 * for padding) → logits [batch, classes] = Σ mask · r[id] · w[id] + b. The log-count ratios `r` are a
 * non-trainable weight fitted on the training split before training (`setRatios`), so a saved model keeps
 * them; `w` starts at 0 and `b` is the threshold. Outside training the weights are interpolated with β.
 * As in EmbeddingBag, the gradient of the weight table is one scatterND (tfjs's gather gradient is slow on cpu).
 */
export class NbLinear extends tf.layers.Layer {
  static readonly className = 'NbLinear';
  readonly inputDim: number;
  readonly classes: number;
  readonly beta: number;
  ratios!: tf.LayerVariable;
  table!: tf.LayerVariable;
  private bias!: tf.LayerVariable;

  constructor(args: NbLinearArgs) {
    super({ name: args.name });
    this.inputDim = args.inputDim;
    this.classes = args.classes;
    this.beta = args.beta;
  }

  override build(): void {
    this.ratios = this.addWeight('ratios', [this.inputDim, this.classes], 'float32', tf.initializers.zeros(), undefined, false);
    this.table = this.addWeight('weights', [this.inputDim, this.classes], 'float32', tf.initializers.zeros());
    this.bias = this.addWeight('bias', [this.classes], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape[]): tf.Shape {
    return [inputShape[0]![0]!, this.classes];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: { training?: boolean }): tf.Tensor {
    return tf.tidy(() => {
      const [ids, mask] = inputs as tf.Tensor[];
      if (!ids || !mask) throw new Error('NbLinear expects [ids, mask]');
      const intIds = ids.cast('int32');
      // r · x̂ of each present n-gram: data, not trained.
      const scaled = tf.mul(tf.gather(this.ratios.read(), intIds), mask.expandDims(2)); // [b, n, classes]
      const table = kwargs.training || this.beta >= 1 ? this.table.read() : this.interpolated();
      const classes = this.classes;
      const inputDim = this.inputDim;
      const dot = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
        const [weights, idTensor, values, save] = args as [tf.Tensor, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
        save([idTensor, values]);
        const value = tf.sum(tf.mul(tf.gather(weights, idTensor), values), 1); // [b, classes]
        return {
          value,
          gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
            const [savedIds, savedValues] = saved as [tf.Tensor, tf.Tensor];
            const [batch, n] = savedIds.shape as [number, number];
            const updates = tf.mul(savedValues, dy.expandDims(1)).reshape([batch * n, classes]);
            const gradTable = tf.scatterND(savedIds.reshape([batch * n, 1]), updates, [inputDim, classes]);
            return [gradTable, tf.zerosLike(savedIds), tf.zerosLike(savedValues)];
          },
        };
      }) as CustomGradientFunc<tf.Tensor>);
      return tf.add(dot(table, intIds, scaled), this.bias.read());
    });
  }

  /** w' = (1 − β)·w̄ + β·w per class, w̄ the mean |w| over the weights training moved (the n-grams it saw). */
  private interpolated(): tf.Tensor {
    const w = this.table.read();
    const magnitude = tf.div(tf.sum(tf.abs(w), 0), tf.maximum(tf.sum(tf.notEqual(w, 0).cast('float32'), 0), 1));
    return tf.add(tf.mul(w, this.beta), tf.mul(magnitude, 1 - this.beta));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), inputDim: this.inputDim, classes: this.classes, beta: this.beta };
  }
}

tf.serialization.registerClass(NbLinear);

/**
 * An NB-SVM classifier: log-count-ratio-scaled binary n-gram features, a linear layer, softmax. Inputs
 * `ids` [batch, maxFeatures] (int32, 0 = padding) and `mask` [batch, maxFeatures]. Its ratios are 0 until
 * `setRatios` gives it the training split's.
 * @example createNbSvm({ ...DEFAULT_NBSVM, labels: ['negative', 'positive'] })
 */
export function createNbSvm(config: NbSvmConfig): tf.LayersModel {
  checkNbSvmConfig(config);
  const ids = tf.input({ shape: [config.maxFeatures], dtype: 'int32', name: 'ids' });
  const mask = tf.input({ shape: [config.maxFeatures], name: 'mask' });
  const logits = new NbLinear({ inputDim: config.buckets + 1, classes: config.labels.length, beta: config.beta, name: 'nb_linear' }).apply([ids, mask]) as tf.SymbolicTensor;
  const probabilities = tf.layers.softmax({ name: 'probabilities' }).apply(logits) as tf.SymbolicTensor;
  return tf.model({ inputs: [ids, mask], outputs: probabilities, name: 'nbsvm' });
}

function nbLayer(model: tf.LayersModel): NbLinear {
  const layer = model.getLayer('nb_linear');
  if (!(layer instanceof NbLinear)) throw new NbSvmConfigError('this model has no nb_linear layer: it is not an NB-SVM');
  return layer;
}

/** Puts the log-count ratios ([buckets + 1, classes], row-major) into the model. */
export function setRatios(model: tf.LayersModel, ratios: Float32Array): void {
  const layer = nbLayer(model);
  if (ratios.length !== layer.inputDim * layer.classes) throw new NbSvmConfigError(`ratios must have ${layer.inputDim} × ${layer.classes} values, got ${ratios.length}`);
  const tensor = tf.tensor2d(ratios, [layer.inputDim, layer.classes]);
  layer.ratios.write(tensor);
  tensor.dispose();
}

/** The L2 penalty (λ/2)·‖w‖² on the n-gram weights (not the bias), to add to the mean loss. */
export function nbPenalty(model: tf.LayersModel, lambda: number): tf.Scalar {
  const w = nbLayer(model).table.read();
  return tf.mul(tf.sum(tf.square(w)), lambda / 2);
}
