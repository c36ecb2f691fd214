import * as tf from '@tensorflow/tfjs';
import { createBackbone } from './backbones/index';
import type { Backbone, BackboneKind } from './backbones/types';
import { check, checkVisionConfig, type ProjectionConfig, TASK_BATCH_NORM_MOMENTUM, type VisionModelConfig } from './config';
import { head } from './head';

export const DEFAULT_DAMAGE_LABELS = ['minor', 'moderate', 'major'] as const;
export const DEFAULT_DAMAGE_INPUTS = ['image'] as const;

export interface DamageClassifierConfig extends VisionModelConfig {
  /** Class names, in output order; any list of ≥ 2 distinct names. Default minor / moderate / major. */
  labels?: string[];
  /** Input name. Default ['image']. */
  inputs?: string[];
}

/** What `createDamageClassifier` stores in model.json's `userDefinedMetadata.loupe`. */
export interface DamageClassifierMetadata {
  architecture: 'damage-classifier';
  backbone: BackboneKind;
  inputSize: number;
  inputs: string[];
  labels: string[];
  projection: ProjectionConfig | null;
  dropout: number;
}

export interface DamageClassifier {
  /** Input [batch, size, size, 3] ImageNet-normalized; output [batch, labels.length] probabilities. */
  model: tf.LayersModel;
  backbone: Backbone;
  metadata: DamageClassifierMetadata;
}

/**
 * Single-image classifier: backbone features, optional projection, dropout, softmax over the labels.
 * @example
 * const { model } = createDamageClassifier({ backbone: 'resnet18', inputSize: 224 });
 * model.compile({ optimizer: tf.train.adam(1e-4), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
 */
export function createDamageClassifier(config: DamageClassifierConfig): DamageClassifier {
  const common = checkVisionConfig(config, config.inputs ?? [...DEFAULT_DAMAGE_INPUTS], 1);
  const labels = config.labels ?? [...DEFAULT_DAMAGE_LABELS];
  check(Array.isArray(labels) && labels.length >= 2, 'labels', 'a list of at least 2 labels', labels);
  check(labels.every((l) => typeof l === 'string' && l.length > 0), 'labels', 'non-empty strings', labels);
  check(new Set(labels).size === labels.length, 'labels', 'distinct labels', labels);

  const image = tf.input({ shape: [common.inputSize, common.inputSize, 3], name: common.inputs[0] });
  const backbone = createBackbone(common.backbone, { inputSize: common.inputSize, seed: common.seed, batchNormMomentum: TASK_BATCH_NORM_MOMENTUM, batchNormEpsilon: common.batchNormEpsilon });
  const features = backbone.model.apply(image) as tf.SymbolicTensor;
  const probabilities = head(features, { ...common, units: labels.length, activation: 'softmax', name: 'probabilities' });

  const model = tf.model({ inputs: image, outputs: probabilities, name: 'car_damage' });
  const metadata: DamageClassifierMetadata = {
    architecture: 'damage-classifier',
    backbone: common.backbone,
    inputSize: common.inputSize,
    inputs: common.inputs,
    labels: [...labels],
    projection: common.projection,
    dropout: common.dropout,
  };
  model.setUserDefinedMetadata({ loupe: metadata });
  return { model, backbone, metadata };
}

/** The metadata a damage classifier carries (also after `loadFromBlobs`); throws for other models. */
export function damageClassifierMetadata(model: tf.LayersModel): DamageClassifierMetadata {
  const metadata = (model.getUserDefinedMetadata() as { loupe?: DamageClassifierMetadata & { task?: string } } | undefined)?.loupe;
  // Versions saved before image classification was generic say `task: 'car-damage'` instead.
  if (metadata?.architecture !== 'damage-classifier' && metadata?.task !== 'car-damage') {
    throw new Error(`model '${model.name}' carries no image-classifier metadata (userDefinedMetadata.loupe)`);
  }
  return { ...metadata, architecture: 'damage-classifier' };
}

export interface DamagePrediction {
  label: string;
  /** Probability of `label`. */
  score: number;
  probabilities: Record<string, number>;
}

/**
 * Classifies a batch and frees every intermediate tensor.
 * @example const [{ label, score }] = await classifyDamage(model, images); // 'moderate', 0.81
 */
export async function classifyDamage(model: tf.LayersModel, images: tf.Tensor4D): Promise<DamagePrediction[]> {
  const { labels, inputSize } = damageClassifierMetadata(model);
  if (images.rank !== 4 || images.shape[1] !== inputSize || images.shape[2] !== inputSize || images.shape[3] !== 3) {
    throw new RangeError(`images must be [batch, ${inputSize}, ${inputSize}, 3], got [${images.shape.join(', ')}]`);
  }
  const output = model.predict(images) as tf.Tensor2D;
  let values: Float32Array;
  try {
    values = (await output.data()) as Float32Array;
  } finally {
    output.dispose();
  }
  const predictions: DamagePrediction[] = [];
  for (let row = 0; row < images.shape[0]; row++) {
    const p = values.subarray(row * labels.length, (row + 1) * labels.length);
    let best = 0;
    for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
    predictions.push({ label: labels[best]!, score: p[best]!, probabilities: Object.fromEntries(labels.map((l, i) => [l, p[i]!])) });
  }
  return predictions;
}
