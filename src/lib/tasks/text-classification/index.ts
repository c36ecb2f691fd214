import { DEFAULT_FASTTEXT, type FastTextConfig } from '$models/text/fasttext';
import { DEFAULT_LEXICON_FASTTEXT } from '$models/text/lexicon-fasttext';
import { CLASSIFIER_GATE, CLASSIFIER_OUTPUTS } from '../classification';
import { UnsupportedModelError } from '../errors';
import { SWEEP_EXAMPLES } from './sweep-examples';
import type { LabelPreset, TaskDefinition, TrainableModel } from '../types';
import { encoderHeadClassifier, loadEncoderModel, transformerClassifier } from './encoder';
import { fastTextClassifier } from './fasttext';
import { lexiconClassifier, type LexiconClassifierConfig } from './lexicon';
import { DEFAULT_NBSVM, type NbSvmConfig } from '$models/text/nbsvm';
import { nbSvmClassifier } from './nbsvm';

/**
 * Sentiment as tweet_eval labels it: the preset that names and orders `0`, `1`, `2` (and a 0/1-only
 * upload as negative/positive); its models register as `sentiment` and its card speaks of sentiment.
 */
export const SENTIMENT_PRESET = {
  id: 'sentiment',
  title: 'Sentiment',
  labels: ['negative', 'neutral', 'positive'],
  binary: ['negative', 'positive'],
  summary: 'text → negative / neutral / positive',
  numbering: 'tweet_eval',
  formats:
    'CSV, TSV, JSON or JSONL with columns text and label or class (0/1/2 or negative/neutral/positive; 0/1 only: negative/positive; or any class names), or tweet_eval files (*_text.txt + *_labels.txt)',
  card: {
    intendedUse:
      'Labels the sentiment of a short English text (a tweet) as negative, neutral or positive, with a score. It is meant for aggregate trends, not for judging individual people.',
    limits: ['Sarcasm, irony, slang and languages other than English are often misread.', 'Scores are not calibrated probabilities unless the run says so.'],
  },
  // Issue #28: on the UCI sentences the lexicon-aware model leads every label-only model, within a source and
  // (by 7–9 points) on a source it was not trained on (docs/quality.md); the lexicons only speak to sentiment.
  model: { architecture: 'lexicon-fasttext', dim: 32, ngramDropout: 0.8 },
} as const satisfies LabelPreset;

/**
 * Text classification for any label set taken from the data (topics, spam, intents; sentiment is a
 * preset of it): one text in, one class out.
 * @example TASKS['text-classification'].createTrainable({ architecture: 'fasttext', dim: 16 }, { seed: 1, labels: ['sports', 'politics', 'tech'] })
 */
export const TEXT_CLASSIFICATION: TaskDefinition = {
  name: 'text-classification',
  title: 'Text classification',
  summary: 'text → any classes',
  input: 'text',
  kind: 'classification',
  primaryMetric: 'accuracy',
  greaterIsBetter: true,
  guardMetrics: ['macroF1'],
  metricNames: ['accuracy', 'macroF1'],
  gate: CLASSIFIER_GATE,
  presets: [SENTIMENT_PRESET],
  architectures: ['nbsvm', 'fasttext', 'lexicon-fasttext', 'transformer', 'encoder-head'],
  defaults: {
    // NB-SVM since issue #28: on the UCI sentences better than fastText within a source and across sources (docs/quality.md).
    model: { architecture: 'nbsvm', C: 10, beta: 1, charNgrams: [3, 5] },
    epochs: 10,
    batchSize: 32,
    learningRate: 0.02,
    patience: 3,
    pipeline: { model: { architecture: 'fasttext', dim: 16, charNgrams: [3, 5] }, epochs: 10, patience: 3 },
  },
  dataset: {
    columns: ['text', 'label'],
    formats: 'CSV, TSV, JSON or JSONL with columns text and label or class (any class names), or files *_text.txt + *_labels.txt (one text and one label a line)',
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
      'Sorts short texts into the classes of its dataset (topics, intents, spam or others), with a confidence score, to help route, triage or count texts. It must not decide about a person on its own.',
    limits: [
      'Learns the words, language and style of its dataset; texts unlike them (another domain, language or length) are often misclassified with high confidence.',
      'Only reads the text itself: context around it (a thread, an attachment, who wrote it) is invisible to it.',
      'Scores are not calibrated probabilities unless the run says so.',
    ],
  },
  createTrainable(spec, context) {
    const labels = context.labels ?? [...SENTIMENT_PRESET.labels];
    switch (spec.architecture) {
      case 'fasttext': {
        const { architecture: _, ...settings } = spec;
        return fastTextClassifier({ ...DEFAULT_FASTTEXT, ...settings, labels, seed: context.seed }, TEXT_CLASSIFICATION);
      }
      case 'lexicon-fasttext': {
        const { architecture: _, ...settings } = spec;
        return lexiconClassifier({ ...DEFAULT_LEXICON_FASTTEXT, ...settings, labels, seed: context.seed }, TEXT_CLASSIFICATION);
      }
      case 'nbsvm': {
        const { architecture: _, ...settings } = spec;
        return nbSvmClassifier({ ...DEFAULT_NBSVM, ...settings, labels, seed: context.seed }, TEXT_CLASSIFICATION, undefined, context.trainingTexts);
      }
      case 'transformer':
        return transformerClassifier(spec.model, labels, TEXT_CLASSIFICATION);
      case 'encoder-head': {
        const { architecture: _, ...config } = spec;
        return encoderHeadClassifier({ ...config, labels, seed: context.seed }, TEXT_CLASSIFICATION);
      }
      default:
        throw new UnsupportedModelError(`text-classification takes ${TEXT_CLASSIFICATION.architectures.join(', ')}, not ${spec.architecture}`);
    }
  },
  loadTrainable(metadata, model): TrainableModel {
    if (metadata.architecture === 'fasttext') return fastTextClassifier(metadata as unknown as FastTextConfig, TEXT_CLASSIFICATION, model);
    if (metadata.architecture === 'lexicon-fasttext') return lexiconClassifier(metadata as unknown as LexiconClassifierConfig, TEXT_CLASSIFICATION, model);
    if (metadata.architecture === 'nbsvm') return nbSvmClassifier(metadata as unknown as NbSvmConfig, TEXT_CLASSIFICATION, model);
    const encoderModel = loadEncoderModel(metadata, model, TEXT_CLASSIFICATION);
    if (encoderModel) return encoderModel;
    throw new UnsupportedModelError(`a text-classification model of architecture ${JSON.stringify(metadata.architecture)} is not one this version of Loupe knows`);
  },
};
