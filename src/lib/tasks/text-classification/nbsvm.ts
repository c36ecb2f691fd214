import * as tf from '@tensorflow/tfjs';
import type { SampleRow } from '$lib/db/types';
import { logCountRatios, nbFeatureIds } from '$lib/text/nbsvm';
import { preprocessTweet } from '$lib/text/preprocess';
import { checkNbSvmConfig, createNbSvm, nbPenalty, setRatios, type NbSvmConfig } from '$models/text/nbsvm';
import { labelIndex, softmaxClassifier } from '../classification';
import { probabilityCrossEntropy } from '../losses';
import { UnsupportedModelError } from '../errors';
import type { TaskDefinition, TrainableModel } from '../types';

/** What a saved NB-SVM records beyond its settings: how many texts fitted its ratios, and the L2 factor that follows. */
interface NbSvmMetadata extends NbSvmConfig {
  trainingTexts: number;
  lambda: number;
}

/**
 * NB-SVM as a trainable model: a new one fits its log-count ratios on `training` (the train split only,
 * never validation), then learns the weights; a loaded one reads ratios and weights from its model.json.
 * The loss is the cross-entropy plus the L2 penalty ‖w‖² / (2·C·n), so training and validation losses
 * are the regularised objective (as Keras reports a regularised model's).
 * @example nbSvmClassifier({ ...DEFAULT_NBSVM, labels: ['negative', 'positive'] }, task, undefined, trainRows)
 */
export function nbSvmClassifier(config: NbSvmConfig, task: TaskDefinition, loaded?: tf.LayersModel, training?: readonly Pick<SampleRow, 'text' | 'label' | 'path'>[]): TrainableModel {
  checkNbSvmConfig(config);
  const features = (text: string | undefined) => nbFeatureIds(preprocessTweet(text ?? ''), config);
  let metadata: NbSvmMetadata;
  let model: tf.LayersModel;
  if (loaded) {
    const saved = config as Partial<NbSvmMetadata>;
    metadata = { ...config, trainingTexts: saved.trainingTexts ?? 0, lambda: saved.lambda ?? 0 };
    model = loaded;
  } else {
    if (!training?.length) throw new UnsupportedModelError('an NB-SVM fits its n-gram ratios on the training texts: give it the train split');
    const targets = training.map((row) => labelIndex(row.label, config.labels, `sample ${row.path}`));
    const ratios = logCountRatios(training.map((row) => features(row.text)), targets, { classes: config.labels.length, buckets: config.buckets, alpha: config.alpha });
    model = createNbSvm(config);
    setRatios(model, ratios);
    metadata = { ...config, trainingTexts: training.length, lambda: 1 / (config.C * training.length) };
  }
  const { maxFeatures } = config;
  const trainable = softmaxClassifier({
    task,
    model,
    metadata: { task: task.name, architecture: 'nbsvm', ...metadata },
    labels: config.labels,
    async toInputs(rows) {
      const n = rows.length;
      const ids = new Int32Array(n * maxFeatures);
      const mask = new Float32Array(n * maxFeatures);
      rows.forEach((row, i) => {
        features(row.text).forEach((id, j) => {
          ids[i * maxFeatures + j] = id;
          mask[i * maxFeatures + j] = 1;
        });
      });
      return [tf.tensor2d(ids, [n, maxFeatures], 'int32'), tf.tensor2d(mask, [n, maxFeatures])];
    },
  });
  const lambda = metadata.lambda;
  return lambda > 0 ? { ...trainable, loss: (yTrue, yPred) => tf.tidy(() => tf.add(probabilityCrossEntropy(yTrue, yPred), nbPenalty(model, lambda))) } : trainable;
}
