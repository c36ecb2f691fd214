import type { SmallCnnAugmentation } from '$lib/db/specs';
import { resolveAugmentation } from '$lib/images/augment';
import { CLASSIFIER_GATE, CLASSIFIER_OUTPUTS } from '../classification';
import { UnsupportedModelError } from '../errors';
import { SWEEP_EXAMPLES } from './sweep-examples';
import type { TaskDefinition } from '../types';
import { backboneClassifier, IMAGE_AUGMENTATION, smallCnnTrainable } from './model';

/** Car-damage severity: the preset that names and orders the classes of damage photos. */
export const CAR_DAMAGE_PRESET = {
  id: 'car-damage',
  title: 'Car damage',
  labels: ['minor', 'moderate', 'major'],
  summary: 'photo → minor / moderate / major',
} as const;

/**
 * Image classification for any label set taken from the data (Fashion-MNIST, digits, car damage — a
 * preset of it): one photo in, one class out.
 * @example TASKS['image-classification'].createTrainable({ architecture: 'small-cnn', inputSize: 28, channels: 1 }, { seed: 1, labels: ['shirt', 'shoe'] })
 */
export const IMAGE_CLASSIFICATION: TaskDefinition = {
  name: 'image-classification',
  title: 'Image classification',
  summary: 'photo → any classes',
  input: 'image',
  kind: 'classification',
  primaryMetric: 'accuracy',
  greaterIsBetter: true,
  guardMetrics: ['macroF1'],
  metricNames: ['accuracy', 'macroF1'],
  gate: CLASSIFIER_GATE,
  presets: [CAR_DAMAGE_PRESET],
  architectures: ['damage-classifier', 'small-cnn'],
  defaults: {
    model: { architecture: 'damage-classifier', backbone: 'mobilenetv3-small', inputSize: 128, projection: null, dropout: 0.2 },
    epochs: 10,
    batchSize: 16,
    learningRate: 0.001,
    patience: 3,
    pipeline: {
      model: { architecture: 'damage-classifier', backbone: 'mobilenetv3-small', inputSize: 64, projection: null, dropout: 0.2 },
      epochs: 5,
      patience: 2,
    },
  },
  dataset: {
    columns: ['path', 'label'],
    formats:
      'one folder per class (any class names; preset minor/, moderate/, major/), a CSV with columns path,label, or IDX files (*-images-idx3-ubyte[.gz] + *-labels-idx1-ubyte[.gz], optional classes.txt)',
    unit: { one: 'photo', many: 'photos' },
  },
  serving: {
    fields: [{ name: 'image_base64', kind: 'image', key: 'image', label: 'image', prompt: 'Photo' }],
    outputs: CLASSIFIER_OUTPUTS,
    example: { image_base64: '<base64 JPEG or PNG of the photo>' },
  },
  sweepExamples: SWEEP_EXAMPLES,
  card: {
    intendedUse:
      'Sorts photos into the classes of its dataset, with a confidence score, to help triage or catalogue images. Where the classes grade something (such as car-damage severity), it must not decide a case on its own.',
    limits: [
      'Only sees what the photo shows: what is hidden or outside the frame is invisible to it.',
      'Learns the classes, cameras and lighting of its dataset; photos unlike them are often misclassified with high confidence.',
      'Ordered classes (minor / moderate / major) are treated as separate labels; borderline cases are common.',
    ],
  },
  augmentation: IMAGE_AUGMENTATION,
  createTrainable(spec, context) {
    const labels = context.labels ?? [...CAR_DAMAGE_PRESET.labels];
    switch (spec.architecture) {
      case 'damage-classifier': {
        const { architecture: _, fineTune: __, augmentation, ...config } = spec;
        return backboneClassifier(
          IMAGE_CLASSIFICATION,
          { ...config, labels, seed: context.seed, batchNormEpsilon: context.batchNormEpsilon },
          resolveAugmentation(augmentation, IMAGE_AUGMENTATION),
        );
      }
      case 'small-cnn': {
        const { architecture: _, augmentation, ...config } = spec;
        return smallCnnTrainable(IMAGE_CLASSIFICATION, { ...config, labels, seed: context.seed }, augmentation);
      }
      default:
        throw new UnsupportedModelError(`image-classification takes ${IMAGE_CLASSIFICATION.architectures.join(', ')}, not ${spec.architecture}`);
    }
  },
  loadTrainable(metadata, model) {
    if (metadata.architecture === 'small-cnn') return smallCnnTrainable(IMAGE_CLASSIFICATION, { labels: [] }, 'none' satisfies SmallCnnAugmentation, model);
    return backboneClassifier(IMAGE_CLASSIFICATION, { backbone: 'mobilenetv3-small' }, undefined, model);
  },
};
