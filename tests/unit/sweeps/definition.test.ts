import { describe, expect, it } from 'vitest';
import { SweepDefinitionError, validateSweep } from '../../../src/lib/sweeps/definition';
import { formatDefinition } from '../../../src/lib/sweeps/examples';
import { TASKS } from '../../../src/lib/tasks/registry';
import { trialSpec } from '../../../src/lib/sweeps/parameters';

/** The issues a bad definition raises, as "path: message" lines. */
function issues(input: unknown): string[] {
  try {
    validateSweep(input);
  } catch (error) {
    if (error instanceof SweepDefinitionError) return error.issues.map((i) => `${i.path}: ${i.message}`);
    throw error;
  }
  throw new Error('the definition was accepted');
}

const base = {
  task: 'sentiment',
  method: 'random',
  metric: { name: 'val_accuracy', goal: 'maximize' },
  run_cap: 4,
  parameters: { learningRate: { min: 0.01, max: 0.1 } },
};

describe('sweep definitions (Weights & Biases schema)', () => {
  it('reads YAML and JSON alike and infers distributions the way W&B does', () => {
    const yaml = `
task: sentiment
method: random
metric: {name: val_accuracy, goal: maximize}
run_cap: 3
parameters:
  learningRate: {min: 0.01, max: 0.1}
  dim: {min: 8, max: 32}
  optimizer: {values: [adam, sgd]}
  epochs: {value: 2}
  batchSize: {distribution: q_uniform, min: 16, max: 64, q: 16}
early_terminate: {type: hyperband, min_iter: 1}
`;
    const { definition } = validateSweep(yaml);
    expect(definition.parameters).toEqual({
      learningRate: { distribution: 'uniform', min: 0.01, max: 0.1 },
      dim: { distribution: 'int_uniform', min: 8, max: 32 },
      optimizer: { distribution: 'categorical', values: ['adam', 'sgd'] },
      epochs: { distribution: 'constant', value: 2 },
      batchSize: { distribution: 'q_uniform', min: 16, max: 64, q: 16 },
    });
    expect(definition.early_terminate).toEqual({ type: 'hyperband', min_iter: 1, eta: 3 });
    expect(definition.seed).toBe(0);
    expect(validateSweep(JSON.stringify(JSON.parse(JSON.stringify(definition)))).definition).toEqual(definition);
  });

  it('defaults the metric to the task primary one, with the goal its direction implies', () => {
    const { definition } = validateSweep({ ...base, metric: undefined });
    expect(definition.metric).toEqual({ name: 'val_accuracy', goal: 'maximize' });
    expect(validateSweep({ ...base, metric: { name: 'val_loss' } }).definition.metric.goal).toBe('minimize');
    expect(validateSweep({ ...base, metric: { name: 'val_accuracy', goal: 'minimize' } }).warnings[0]).toMatch(/higher val_accuracy is better/);
  });

  it('names the offending key of every problem', () => {
    expect(issues({ ...base, parameters: { learning_rate: { min: 0.01, max: 0.1 } } })).toEqual([
      expect.stringMatching(/^parameters\.learning_rate: not a training setting of text-classification \(did you mean learningRate\?\)/),
    ]);
    expect(issues({ ...base, parameters: { learningRate: { min: 0.1, max: 0.01 } } })).toEqual(['parameters.learningRate.min: must not exceed max (0.1 > 0.01)']);
    expect(issues({ ...base, parameters: { learningRate: { distribution: 'gaussian', min: 0, max: 1 } } })[0]).toMatch(/^parameters\.learningRate\.distribution: must be one of constant, categorical/);
    expect(issues({ ...base, parameters: { epochs: { min: 1.5, max: 3 } } })[0]).toMatch(/^parameters\.epochs: epochs takes whole numbers/);
    expect(issues({ ...base, parameters: { epochs: { values: [1, 0] } } })).toEqual(['parameters.epochs.values[1]: 0 is not a whole number from 1 to 1000']);
    expect(issues({ ...base, parameters: { optimizer: { min: 1, max: 2 } } })[0]).toMatch(/^parameters\.optimizer: optimizer is a choice/);
    expect(issues({ ...base, run_cap: undefined })).toEqual(['run_cap: a random sweep needs run_cap: how many trials to train (it would otherwise never end)']);
    expect(issues({ ...base, method: 'grid', parameters: { learningRate: { distribution: 'log_uniform_values', min: 0.01, max: 0.1 } } })[0]).toMatch(
      /^parameters\.learningRate: grid search enumerates values/,
    );
    expect(issues({ ...base, metric: { name: 'val_mae' } })[0]).toMatch(/^metric\.name: text-classification runs do not record "val_mae"; valid: loss, val_loss, val_accuracy, val_macroF1/);
    expect(issues({ ...base, early_terminate: { type: 'hyperband' } })).toEqual(['early_terminate: hyperband needs min_iter (or max_iter with s)']);
    expect(issues({ ...base, early_terminate: { type: 'median' } })).toEqual(['early_terminate.type: must be hyperband, got "median"']);
    expect(issues({ ...base, task: 'weather' })[0]).toMatch(/^task: must be one of coin-year, image-classification, text-classification/);
    expect(issues({ ...base, parallel: 2 })).toEqual([expect.stringMatching(/^parallel: unknown key/)]);
    expect(issues({ ...base, parameters: { learningRate: { distribution: 'log_uniform_values', min: 0, max: 1 } } })[0]).toMatch(/^parameters\.learningRate\.min: log_uniform_values needs min > 0/);
    expect(issues('method: [grid')[0]).toMatch(/^: not valid YAML or JSON/);
  });

  it('warns when hyperband can never stop a trial', () => {
    const hyperband = { type: 'hyperband', min_iter: 3, eta: 2 };
    expect(validateSweep({ ...base, parameters: { epochs: { value: 3 } }, early_terminate: hyperband }).warnings).toEqual([
      'early_terminate never stops a trial: trials run at most 3 epochs, and the first band is not before the last epoch',
    ]);
    expect(validateSweep({ ...base, parameters: { epochs: { values: [2, 4] } }, early_terminate: hyperband }).warnings).toEqual([]);
  });

  it('reports several problems at once', () => {
    expect(issues({ ...base, method: 'annealing', parameters: { dim: { values: [] }, backbone: { values: ['resnet18'] } } })).toEqual([
      'method: must be grid, random or bayes, got "annealing"',
      'parameters.dim.values: must be a non-empty list',
      expect.stringMatching(/^parameters\.backbone: not a training setting of text-classification/),
    ]);
  });

  it('accepts every built-in example, written as YAML and as JSON, each for its own task', () => {
    for (const task of Object.values(TASKS)) {
      expect(task.sweepExamples.length).toBeGreaterThan(0);
      for (const example of task.sweepExamples) {
        expect(example.definition.task).toBe(task.name);
        for (const format of ['yaml', 'json'] as const) {
          const { definition } = validateSweep(formatDefinition(example.definition, format));
          expect(definition.method).toBe(example.definition.method);
        }
      }
    }
  });

  it('sweeps augmentation: one setting changes the task default, the rest keep it (coins never flip unless asked)', () => {
    expect(trialSpec('coin-year', 'ds', { rotateDegrees: 30, cropScale: [0.5, 1] }).model).toMatchObject({
      augmentation: { cropScale: [0.5, 1], flip: false, rotateDegrees: 30, brightness: 0.2, contrast: 0.2 },
    });
    expect(trialSpec('image-classification', 'ds', { augmentation: 'none', flip: true }).model).toMatchObject({
      augmentation: { flip: true, rotateDegrees: 0, brightness: 0, contrast: 0 },
    });
    expect(issues({ ...base, task: 'coin-year', metric: undefined, parameters: { rotateDegrees: { values: [10, 270] } } })).toEqual([
      expect.stringMatching(/^parameters\.rotateDegrees.*degrees in \[0, 180\]/),
    ]);
  });

  it('turns parameter values into a training spec that reaches every setting', () => {
    const spec = trialSpec('coin-year', 'ds', { backbone: 'resnet18', mode: 'shared', projectionUnits: 64, inputSize: 96, learningRate: 0.003, batchSize: 8, epochs: 2, patience: 2, dropout: 0.1 });
    expect(spec).toMatchObject({
      task: 'coin-year',
      datasetId: 'ds',
      epochs: 2,
      batchSize: 8,
      learningRate: 0.003,
      earlyStopping: { monitor: 'val_mae', patience: 2 },
      model: { architecture: 'coin-regressor', backbone: 'resnet18', mode: 'shared', projection: { units: 64 }, inputSize: 96, dropout: 0.1 },
    });
    expect(trialSpec('text-classification', 'ds', { architecture: 'fasttext', charNgrams: [0, 0], dim: 8 }).model).toEqual({ architecture: 'fasttext', dim: 8, charNgrams: [0, 0] });
    // The default text model is NB-SVM, which has no width: a trial varying it trains fastText.
    expect(trialSpec('text-classification', 'ds', { charNgrams: [0, 0], dim: 8 }).model).toEqual({ architecture: 'fasttext', dim: 8, charNgrams: [0, 0] });
  });

  it("starts a trial on sentiment data from the sentiment preset's model, and on other labels from the task's", () => {
    expect(trialSpec('text-classification', 'ds', { learningRate: 0.05 }, 'lr · trial 1', 'sentiment')).toMatchObject({
      learningRate: 0.05,
      model: { architecture: 'lexicon-fasttext', dim: 32, ngramDropout: 0.8 },
    });
    expect(trialSpec('text-classification', 'ds', { learningRate: 0.05 }).model.architecture).toBe('nbsvm');
    // A setting only NB-SVM takes still trains NB-SVM on sentiment data, without the lexicon model's settings.
    expect(trialSpec('text-classification', 'ds', { C: 4 }, undefined, 'sentiment').model).toEqual({ architecture: 'nbsvm', C: 4 });
    expect(trialSpec('text-classification', 'ds', { dim: 8 }, undefined, 'sentiment').model).toEqual({ architecture: 'lexicon-fasttext', dim: 8, ngramDropout: 0.8 });
  });

  it('sweeps the text model: fastText against the lexicon-aware model, and the latter\'s n-gram dropout', () => {
    // The default (NB-SVM) reads character n-grams 3–5 as fastText does: a trial of another text model keeps them.
    const chars = { charNgrams: [3, 5] };
    expect(trialSpec('text-classification', 'ds', { architecture: 'lexicon-fasttext', ngramDropout: 0.8, dim: 16 }).model).toEqual({
      architecture: 'lexicon-fasttext',
      dim: 16,
      ngramDropout: 0.8,
      ...chars,
    });
    // The same trial values for plain fastText: it has no n-gram dropout, so the spec leaves it out.
    expect(trialSpec('text-classification', 'ds', { ngramDropout: 0.8, architecture: 'fasttext' }).model).toEqual({ architecture: 'fasttext', ...chars });
    // NB-SVM takes β and C and no embedding width: a trial drops what its architecture does not take.
    expect(trialSpec('text-classification', 'ds', { architecture: 'nbsvm', beta: 0.25, C: 4, dim: 16, ngramDropout: 0.5 }).model).toEqual({ architecture: 'nbsvm', beta: 0.25, C: 4, ...chars });
    expect(trialSpec('text-classification', 'ds', { architecture: 'fasttext', beta: 0.25 }).model).toEqual({ architecture: 'fasttext', ...chars });
    // A sweep naming no architecture trains one that takes what it varies: the default (NB-SVM) has no width.
    expect(trialSpec('text-classification', 'ds', { dim: 16 }).model).toEqual({ architecture: 'fasttext', dim: 16, ...chars });
    expect(trialSpec('text-classification', 'ds', { beta: 0.5 }).model).toEqual({ architecture: 'nbsvm', C: 10, beta: 0.5, ...chars });
    expect(trialSpec('text-classification', 'ds', { charNgrams: [0, 0] }).model).toEqual({ architecture: 'nbsvm', C: 10, beta: 1, charNgrams: [0, 0] });
    // A setting none of the named architectures takes is refused, not dropped.
    expect(issues({ ...base, parameters: { architecture: { value: 'nbsvm' }, dim: { values: [8, 16] } } })).toEqual([
      'parameters.dim: a setting of fasttext and lexicon-fasttext, which this sweep never trains (its trials train nbsvm); add architecture: {value: fasttext}',
    ]);
    expect(() => validateSweep({ ...base, parameters: { architecture: { values: ['fasttext', 'nbsvm'] }, dim: { values: [8, 16] } } })).not.toThrow();
    expect(issues({ ...base, parameters: { architecture: { values: ['fasttext', 'lexicon-fast'] }, ngramDropout: { min: 0, max: 1 } } })).toEqual([
      expect.stringMatching(/^parameters\.architecture.*"fasttext", "lexicon-fasttext" or "nbsvm"/),
      expect.stringMatching(/^parameters\.ngramDropout.*\[0, 0\.95\]/),
    ]);
  });

  it('sweeps first weights and the fine-tuning schedule of image models', () => {
    const spec = trialSpec('image-classification', 'ds', { init: 'hub:timm/mobilenetv3_small_100.lamb_in1k', freezeEpochs: 2, backboneLrMultiplier: 0.1, warmupEpochs: 1 });
    expect(spec.init).toBe('hub:timm/mobilenetv3_small_100.lamb_in1k');
    expect(spec.model).toMatchObject({ architecture: 'damage-classifier', fineTune: { freezeEpochs: 2, backboneLrMultiplier: 0.1, warmupEpochs: 1 } });
    const images = { ...base, task: 'image-classification', metric: { name: 'val_accuracy', goal: 'maximize' } };
    expect(issues({ ...images, parameters: { init: { values: ['scratch', 'imagenet'] }, backboneLrMultiplier: { min: 0.01, max: 20 } } })).toEqual([
      expect.stringMatching(/^parameters\.init.*scratch, hub:<owner\/name>, file:<name>\.safetensors or version:<model>@<n>/),
      expect.stringMatching(/^parameters\.backboneLrMultiplier\.max: 20 is not a number in \(0, 10\]/),
    ]);
  });
});
