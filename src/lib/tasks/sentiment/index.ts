import { DEFAULT_FASTTEXT, type FastTextConfig } from '$models/text/fasttext';
import { DEFAULT_LEXICON_FASTTEXT } from '$models/text/lexicon-fasttext';
import { CLASSIFIER_GATE, CLASSIFIER_OUTPUTS } from '../classification';
import { UnsupportedModelError } from '../errors';
import { SWEEP_EXAMPLES } from './sweep-examples';
import type { TaskDefinition, TrainableModel } from '../types';
import { encoderHeadClassifier, loadEncoderModel, transformerClassifier } from './encoder';
import { fastTextClassifier } from './fasttext';
import { lexiconClassifier, type LexiconClassifierConfig } from './lexicon';
import { DEFAULT_NBSVM, type NbSvmConfig } from '$models/text/nbsvm';
import { nbSvmClassifier } from './nbsvm';

/** Tweet sentiment as tweet_eval labels it: the preset that names and orders `0`, `1`, `2`. */
export const TWEET_SENTIMENT_PRESET = {
  id: 'sentiment',
  title: 'Tweet sentiment',
  labels: ['negative', 'neutral', 'positive'],
  summary: 'text → negative / neutral / positive',
  numbering: 'tweet_eval',
} as const;

/**
 * Text classification. Its class names come from each dataset (stored on the dataset version and in
 * the model's metadata): 3-class tweet sentiment is the preset, binary review sentiment works as well.
 */
export const SENTIMENT: TaskDefinition = {
  name: 'sentiment',
  title: 'Text classification (sentiment preset)',
  summary: 'text → negative / neutral / positive, or any classes',
  input: 'text',
  kind: 'classification',
  primaryMetric: 'accuracy',
  greaterIsBetter: true,
  guardMetrics: ['macroF1'],
  metricNames: ['accuracy', 'macroF1'],
  gate: CLASSIFIER_GATE,
  presets: [TWEET_SENTIMENT_PRESET],
  architectures: ['nbsvm', 'fasttext', 'lexicon-fasttext', 'transformer', 'encoder-head'],
  defaults: {
    // NB-SVM since issue #28: better than fastText on the UCI sentences both within and across sources (docs/quality.md).
    model: { architecture: 'nbsvm', C: 10, beta: 1 },
    epochs: 10,
    batchSize: 32,
    learningRate: 0.02,
    patience: 3,
    pipeline: { model: { architecture: 'nbsvm', C: 10, beta: 1 }, epochs: 10, patience: 3 },
  },
  dataset: {
    columns: ['text', 'label'],
    formats:
      'CSV, TSV, JSON or JSONL with columns text and label or class (0/1/2 or negative/neutral/positive; 0/1 only: negative/positive; or any class names), or tweet_eval files (*_text.txt + *_labels.txt)',
    unit: { one: 'text', many: 'texts' },
  },
  serving: {
    fields: [{ name: 'text', kind: 'text', key: 'text', label: 'text', prompt: 'Text' }],
    outputs: CLASSIFIER_OUTPUTS,
    example: { text: 'Beautiful post!!!' },
  },
  sweepExamples: SWEEP_EXAMPLES,
  card: {
    intendedUse:
      'Labels the sentiment of a short English text (a tweet) as negative, neutral or positive, with a score. It is meant for aggregate trends, not for judging individual people.',
    limits: ['Sarcasm, irony, slang and languages other than English are often misread.', 'Scores are not calibrated probabilities unless the run says so.'],
  },
  createTrainable(spec, context) {
    const labels = context.labels ?? [...TWEET_SENTIMENT_PRESET.labels];
    switch (spec.architecture) {
      case 'fasttext': {
        const { architecture: _, ...settings } = spec;
        return fastTextClassifier({ ...DEFAULT_FASTTEXT, ...settings, labels, seed: context.seed }, SENTIMENT);
      }
      case 'lexicon-fasttext': {
        const { architecture: _, ...settings } = spec;
        return lexiconClassifier({ ...DEFAULT_LEXICON_FASTTEXT, ...settings, labels, seed: context.seed }, SENTIMENT);
      }
      case 'nbsvm': {
        const { architecture: _, ...settings } = spec;
        return nbSvmClassifier({ ...DEFAULT_NBSVM, ...settings, labels, seed: context.seed }, SENTIMENT, undefined, context.trainingTexts);
      }
      case 'transformer':
        return transformerClassifier(spec.model, labels, SENTIMENT);
      case 'encoder-head': {
        const { architecture: _, ...config } = spec;
        return encoderHeadClassifier({ ...config, labels, seed: context.seed }, SENTIMENT);
      }
      default:
        throw new UnsupportedModelError(`sentiment takes ${SENTIMENT.architectures.join(', ')}, not ${spec.architecture}`);
    }
  },
  loadTrainable(metadata, model): TrainableModel {
    if (metadata.architecture === 'fasttext') return fastTextClassifier(metadata as unknown as FastTextConfig, SENTIMENT, model);
    if (metadata.architecture === 'lexicon-fasttext') return lexiconClassifier(metadata as unknown as LexiconClassifierConfig, SENTIMENT, model);
    if (metadata.architecture === 'nbsvm') return nbSvmClassifier(metadata as unknown as NbSvmConfig, SENTIMENT, model);
    const encoderModel = loadEncoderModel(metadata, model, SENTIMENT);
    if (encoderModel) return encoderModel;
    throw new UnsupportedModelError(`a sentiment model of architecture ${JSON.stringify(metadata.architecture)} is not one this version of Loupe knows`);
  },
};
