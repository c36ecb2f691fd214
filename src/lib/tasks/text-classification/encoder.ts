import * as tf from '@tensorflow/tfjs';
import type { LoupeDb } from '$lib/db/db';
import type { SampleRow } from '$lib/db/types';
import type { EncoderHeadSpec } from '$lib/db/specs';
import { cachedEmbeddings } from '$lib/text/encoder/embedding-cache';
import { modelKey, ModelSourceError, type ModelRef } from '$lib/text/encoder/source';
import { preprocessTweet } from '$lib/text/preprocess';
import { classificationScores, decodeProbabilities, labelIndex, oneHotTargets } from '../classification';
import type { TaskDefinition, TrainableModel } from '../types';
import { probabilityCrossEntropy } from '../losses';

/**
 * The two transformers.js sentiment models as task plug-ins:
 * - `transformer`: a sequence classifier run as-is (the cardiffnlp baseline). Its tfjs model is only
 *   the identity over the classifier's probabilities, so evaluation, registry, gate and serving treat it
 *   like any other model; the ONNX weights stay where the source says (cached for offline use).
 * - `encoder-head`: a frozen encoder's pooled hidden states (cached per text) into a head trained in tfjs.
 */

export type { EncoderHeadSpec, HeadKind, TransformerSpec } from '$lib/db/specs';

export interface EncoderHeadConfig extends Omit<EncoderHeadSpec, 'architecture'> {
  labels: string[];
  seed: number;
}

/** Where head models keep their embedding cache; the worker's database unless a test passes one. */
export interface EncoderDeps {
  db?: LoupeDb;
}

const texts = (rows: SampleRow[]) => rows.map((row) => preprocessTweet(row.text ?? ''));

async function defaultDb(deps: EncoderDeps): Promise<LoupeDb> {
  return deps.db ?? (await import('$lib/db/db')).getDb();
}

// transformers.js and ONNX Runtime load only where a text model runs (the workers), not with every page.
const inference = () => import('$lib/text/encoder/inference');

/** The parts every text classifier shares: targets, decoding, metrics. */
function classifierParts(labels: string[], task: TaskDefinition) {
  const target = (row: SampleRow) => labelIndex(row.label, labels, `sample ${row.path}`);
  return {
    task,
    labels: [...labels],
    loss: probabilityCrossEntropy,
    toTargets: (rows: SampleRow[]) => oneHotTargets(rows.map(target), labels.length),
    decode: (output: tf.Tensor) => decodeProbabilities(output, labels),
    target,
    metrics: (rows: SampleRow[], predictions: Parameters<typeof classificationScores>[1]) => classificationScores(rows.map(target), predictions, labels),
  };
}

/** Column of each task label among the model's own labels; throws when the model lacks one. */
export function labelColumns(modelLabels: string[], labels: string[], model: string): number[] {
  return labels.map((label) => {
    const column = modelLabels.indexOf(label.toLowerCase());
    if (column < 0) throw new ModelSourceError(`${model} predicts ${modelLabels.join(', ')}, which does not include the task's label "${label}"`);
    return column;
  });
}

/**
 * The transformers.js classifier as a trainable model of the task (evaluate, register, serve; there is
 * nothing to train).
 * @example const baseline = transformerClassifier({ source: { kind: 'hub', modelId: SENTIMENT_BASELINE_ID }, quantized: true }, ['negative', 'neutral', 'positive']);
 */
export function transformerClassifier(ref: ModelRef, labels: string[], task: TaskDefinition, loaded?: tf.LayersModel): TrainableModel {
  const model =
    loaded ?? tf.sequential({ name: 'transformer_probabilities', layers: [tf.layers.activation({ activation: 'linear', inputShape: [labels.length], name: 'probabilities' })] });
  const metadata = { task: task.name, architecture: 'transformer', model: ref, labels: [...labels] };
  model.setUserDefinedMetadata({ loupe: metadata });
  return {
    ...classifierParts(labels, task),
    model,
    metadata,
    runtime: 'wasm', // the whole classifier runs in ONNX Runtime's WebAssembly
    async toInputs(rows) {
      const { labels: modelLabels, probabilities } = await (await inference()).classifyTexts(ref, texts(rows));
      const columns = labelColumns(modelLabels, labels, modelKey(ref));
      const values = new Float32Array(rows.length * labels.length);
      probabilities.forEach((p, i) => columns.forEach((column, c) => (values[i * labels.length + c] = p[column]!)));
      return tf.tensor2d(values, [rows.length, labels.length]);
    },
    dispose: () => model.dispose(),
  };
}

/** The head on top of the pooled vectors: softmax regression, or one hidden ReLU layer. */
export function createHead(config: EncoderHeadConfig): tf.LayersModel {
  if (!Number.isInteger(config.dim) || config.dim < 1) throw new ModelSourceError(`encoder-head dim must be the encoder's hidden size (a whole number ≥ 1), got ${config.dim}`);
  const init = (offset: number) => tf.initializers.glorotUniform({ seed: config.seed + offset });
  const model = tf.sequential({ name: 'encoder_head' });
  if (config.head === 'mlp') {
    model.add(tf.layers.dense({ inputShape: [config.dim], units: config.hidden ?? 128, activation: 'relu', kernelInitializer: init(1), name: 'head_hidden' }));
    if (config.dropout) model.add(tf.layers.dropout({ rate: config.dropout, seed: config.seed + 2 }));
    model.add(tf.layers.dense({ units: config.labels.length, activation: 'softmax', kernelInitializer: init(3), name: 'head_out' }));
  } else if (config.head === 'linear') {
    model.add(tf.layers.dense({ inputShape: [config.dim], units: config.labels.length, activation: 'softmax', kernelInitializer: init(1), name: 'head_out' }));
  } else {
    throw new ModelSourceError(`encoder-head head must be linear or mlp, got ${JSON.stringify(config.head)}`);
  }
  return model;
}

/**
 * A classification head trained in tfjs over a frozen transformers.js encoder. Inputs are the pooled
 * hidden states, read from the IndexedDB cache keyed by (encoder, text hash) and embedded only when new.
 * @example const trainable = encoderHeadClassifier({ encoder, dim: 384, head: 'linear', labels, seed: 1 });
 */
export function encoderHeadClassifier(config: EncoderHeadConfig, task: TaskDefinition, loaded?: tf.LayersModel, deps: EncoderDeps = {}): TrainableModel {
  const model = loaded ?? createHead(config);
  const metadata = { task: task.name, architecture: 'encoder-head', ...config, labels: [...config.labels] };
  model.setUserDefinedMetadata({ loupe: metadata });
  const encoder = modelKey(config.encoder);
  return {
    ...classifierParts(config.labels, task),
    model,
    metadata,
    runtime: 'wasm', // the encoder, where the time goes, runs in ONNX Runtime's WebAssembly (the head on tfjs)
    async toInputs(rows) {
      const db = await defaultDb(deps);
      const { encodeTexts } = await inference();
      const { vectors } = await cachedEmbeddings(db, encoder, texts(rows), (batch) => encodeTexts(config.encoder, batch));
      const values = new Float32Array(rows.length * config.dim);
      vectors.forEach((vector, i) => {
        if (vector.length !== config.dim) {
          throw new ModelSourceError(`the encoder ${encoder} gives ${vector.length}-wide vectors but the head expects ${config.dim}: set dim to ${vector.length}`);
        }
        values.set(vector, i * config.dim);
      });
      return tf.tensor2d(values, [rows.length, config.dim]);
    },
    dispose: () => model.dispose(),
  };
}

/** A saved transformer or encoder-head model from its `loupe` metadata; undefined for other architectures. */
export function loadEncoderModel(metadata: Record<string, unknown>, model: tf.LayersModel, task: TaskDefinition): TrainableModel | undefined {
  if (metadata.architecture === 'transformer') return transformerClassifier(metadata.model as ModelRef, metadata.labels as string[], task, model);
  if (metadata.architecture === 'encoder-head') return encoderHeadClassifier(metadata as unknown as EncoderHeadConfig, task, model);
  return undefined;
}
