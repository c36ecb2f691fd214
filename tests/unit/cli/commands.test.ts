import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportDataset } from '../../../src/lib/datasets/export';
import { encodePng } from '../../../src/lib/datasets/png';
import { importUpload } from '../../../src/lib/datasets/ingest';
import { importBundle, readBundle } from '../../../src/lib/registry/bundle';
import { ModelRegistry } from '../../../src/lib/registry/registry';
import { loadPredictor } from '../../../src/lib/serving/loaders';
import { createRestHandler } from '../../../src/lib/serving/rest';
import { ServingSdk } from '../../../src/lib/serving/sdk';
import { DEFAULT_SERVING_LIMITS } from '../../../src/lib/serving/types';
import { savedModelLabels } from '../../../src/lib/tasks/labels';
import { registerTaskPredictors } from '../../../src/lib/workflows/predictors';
import { heldOutMetrics } from '../../../src/lib/registry/gate';
import { EXIT } from '../../../src/cli/errors';
import { COMMANDS } from '../../../src/cli/main';
import { makeDb } from '../factories';
import { removeTempDirs, runCli, tempDir, writeCarsFolder, writeCoinsFolder, writeIdxFolder, writeJson, writeTweetsCsv } from './fixtures';

type Classification = { label: string; score: number; probabilities: Record<string, number> };

const dir = tempDir();
let tweets: string;
/** Two sentiment bundles of different quality: `weak` (1 epoch) and `strong` (8 epochs). */
let weak: string;
let strong: string;

beforeAll(async () => {
  tweets = writeTweetsCsv(dir);
  const config = writeJson(join(dir, 'train.json'), { earlyStopping: false, model: { architecture: 'fasttext', dim: 16 } });
  weak = join(dir, 'weak', 'sentiment.zip');
  strong = join(dir, 'strong', 'sentiment.zip');
  for (const [out, epochs] of [[weak, '1'], [strong, '8']] as const) {
    const result = await runCli('train', '--task', 'sentiment', '--data', tweets, '--config', config, '--epochs', epochs, '--out', out);
    expect(result.code, result.err).toBe(EXIT.ok);
  }
}, 120_000);
afterAll(removeTempDirs);

describe('loupe --help', () => {
  it('lists every command, and every command has its own --help', async () => {
    const overview = await runCli('--help');
    expect(overview.code).toBe(EXIT.ok);
    for (const command of COMMANDS) {
      expect(overview.out).toContain(command.name);
      const help = await runCli(command.name, '--help');
      expect(help.code).toBe(EXIT.ok);
      expect(help.out).toMatch(/^Usage:/);
      for (const option of Object.keys(command.options)) expect(help.out).toContain(`--${option}`);
      expect((await runCli('help', command.name)).out).toBe(help.out);
    }
  });

  it('refuses no command, unknown commands, unknown options and stray words with exit 2', async () => {
    expect((await runCli()).code).toBe(EXIT.usage);
    const unknown = await runCli('serve');
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.err).toContain('unknown command "serve"');
    const option = await runCli('predict', '--modle', 'x.zip');
    expect(option.code).toBe(EXIT.usage);
    expect(option.err).toContain("'--modle'");
    expect((await runCli('predict', 'x.zip')).code).toBe(EXIT.usage);
  });

  it('prints the version', async () => {
    const version = await runCli('--version');
    expect(version.code).toBe(EXIT.ok);
    expect(version.out).toMatch(/^loupe \d+\.\d+\.\d+/);
  });
});

describe('loupe train', () => {
  it('writes a bundle the registry reads and metrics.json with the test split scored after training, and the val split beside it', async () => {
    const bundle = await readBundle(new Uint8Array(readFileSync(strong)));
    expect(bundle).toMatchObject({ name: 'sentiment', version: 1, lineage: { task: 'text-classification', backend: 'wasm' } });
    expect(bundle.lineage.params).toMatchObject({ epochs: 8, model: { architecture: 'fasttext', dim: 16 } });
    const file = JSON.parse(readFileSync(join(dir, 'strong', 'metrics.json'), 'utf8'));
    expect(file).toMatchObject({ split: 'test', samples: 15, task: 'text-classification', datasetVersion: bundle.lineage.datasetVersion, val: { samples: 15, metrics: heldOutMetrics(bundle.metrics) } });
    expect(Object.keys(file.metrics).sort()).toEqual(['accuracy', 'loss', 'macroF1']);
    expect(file.note).toBeUndefined();
    // The test figures are those of the bundle's weights on the test split, as the gate measures them
    // on the same dataset version (a Loupe export keeps its splits).
    const db = makeDb();
    const { dataset } = await importUpload(db, [{ path: 'tweets.csv', file: new Blob([readFileSync(tweets)]) }], { task: 'text-classification', name: 'tweets' });
    expect(dataset.id).toBe(file.datasetVersion);
    const exported = join(dir, 'tweets-splits.zip');
    writeFileSync(exported, new Uint8Array(await (await exportDataset(db, dataset.id)).arrayBuffer()));
    db.close();
    const gate = await runCli('gate', '--candidate', strong, '--eval', exported, '--out-dir', join(dir, 'g-test'));
    expect([EXIT.ok, EXIT.rejected], gate.err).toContain(gate.code);
    expect(gate.json()).toMatchObject({ split: 'test', samples: 15 });
    for (const [name, value] of Object.entries(file.metrics as Record<string, number>)) expect((gate.json() as { candidate: Record<string, number> }).candidate[name]).toBeCloseTo(value, 5);
  });

  it('prints a JSON summary and reports progress on stderr', async () => {
    const out = join(dir, 'named', 'm.zip');
    const result = await runCli('train', '--task', 'sentiment', '--data', tweets, '--out', out, '--epochs', '1', '--name', 'tweets-ft', '--metrics', join(dir, 'named', 'm.json'));
    expect(result.code, result.err).toBe(EXIT.ok);
    const summary = result.json() as Record<string, unknown>;
    expect(summary).toMatchObject({ bundle: out, model: 'tweets-ft', version: 1, task: 'text-classification', backend: 'wasm', epochs: 1, split: 'test', samples: 15, val: { samples: 15 } });
    expect(result.err).toMatch(/150 text-classification samples \(train 120, /);
    // Sentiment data without a model in the config trains the sentiment preset's default, the lexicon-aware model.
    expect(result.err).toMatch(/^training lexicon-fasttext for 1 epoch\(s\)/m);
    expect(result.err).toMatch(/\[#+\] 100% epoch 1\/1 batch 4\/4/);
    expect(result.err).toMatch(/^test split, 15 samples \(held out, scored after training\): loss [\d.]+, accuracy [\d.]+, macroF1 [\d.]+$/m);
    expect(result.err).toMatch(/^val split, 15 samples \(early stopping chose the epoch kept on it\): /m);
    const file = JSON.parse(readFileSync(join(dir, 'named', 'm.json'), 'utf8'));
    expect({ split: file.split, samples: file.samples, metrics: file.metrics, val: file.val }).toEqual({ split: summary.split, samples: summary.samples, metrics: summary.metrics, val: summary.val });
  });

  it('says so when the data has no test split, and reports the val split only', async () => {
    const config = writeJson(join(dir, 'no-test.json'), { splits: { train: 0.8, val: 0.2, test: 0 }, earlyStopping: false });
    const result = await runCli('train', '--task', 'sentiment', '--data', tweets, '--config', config, '--epochs', '1', '--out', join(dir, 'no-test', 'm.zip'));
    expect(result.code, result.err).toBe(EXIT.ok);
    const file = JSON.parse(readFileSync(join(dir, 'no-test', 'metrics.json'), 'utf8'));
    expect(file).toMatchObject({ split: 'val', samples: 30, val: { samples: 30 }, note: expect.stringMatching(/^the data has no test split: metrics are the val split's/) });
    expect(file.metrics).toEqual(file.val.metrics);
    expect(result.json()).toMatchObject({ split: 'val', samples: 30, note: file.note });
    expect(result.err).toContain('note: the data has no test split');
    expect(result.err).not.toMatch(/^test split/m);
  });

  it('fails with distinct exit codes for missing files, bad formats, bad configs (every value, named by file and field) and wrong tasks', async () => {
    const out = join(dir, 'never.zip');
    const missing = await runCli('train', '--task', 'sentiment', '--data', join(dir, 'nope.csv'), '--out', out);
    expect(missing.code).toBe(EXIT.missingFile);
    expect(missing.err).toContain('nope.csv: no such file or folder');

    const noColumns = await runCli('train', '--task', 'image-classification', '--data', tweets, '--out', out);
    expect(noColumns.code).toBe(EXIT.badFormat);
    expect(noColumns.err).toContain('tweets.csv has no column "path" (found: text, label)');

    const config = writeJson(join(dir, 'bad.json'), { epochs: 0 });
    const badConfig = await runCli('train', '--task', 'sentiment', '--data', tweets, '--config', config, '--out', out);
    expect(badConfig.code).toBe(EXIT.badFormat);
    expect(badConfig.err).toContain('bad.json: epochs: must be ≥ 1');

    const wrongModel = writeJson(join(dir, 'wrong-model.json'), { model: { architecture: 'coin-regressor' } });
    const mismatch = await runCli('train', '--task', 'sentiment', '--data', tweets, '--config', wrongModel, '--out', out);
    expect(mismatch.code).toBe(EXIT.wrongTask);
    expect(mismatch.err).toContain('wrong-model.json: model.architecture "coin-regressor" is a coin-year model, but --task is text-classification');

    const unknownModel = writeJson(join(dir, 'unknown-model.json'), { model: { architecture: 'perceptron' } });
    const unsupported = await runCli('train', '--task', 'sentiment', '--data', tweets, '--config', unknownModel, '--out', out);
    expect(unsupported.code).toBe(EXIT.badFormat);
    expect(unsupported.err).toMatch(/unknown-model\.json: model\.architecture "perceptron" is not supported; valid for text-classification: nbsvm, fasttext, lexicon-fasttext/);

    // Every value is checked before any data is read, enumerations included, naming the file and the field.
    const refused: [string, unknown, string][] = [
      ['image-classification', { model: { architecture: 'small-cnn', augmentation: 'nope' } }, 'model.augmentation: must be one of none, flip, default, got "nope"'],
      ['image-classification', { model: { architecture: 'damage-classifier', backbone: 'vgg16' } }, 'model.backbone: must be one of resnet18, mobilenetv3-small, got "vgg16"'],
      ['coin-year', { model: { architecture: 'coin-regressor', backbone: 'resnet18', loss: 'l1' } }, 'model.loss: must be one of mse, huber, got "l1"'],
      ['coin-year', { model: { architecture: 'coin-regressor', backbone: 'resnet18', augmentation: { cropScale: [0.6, 0.4] } } }, 'model.augmentation.cropScale: must be [min, max] with 0 < min ≤ max ≤ 1'],
      ['image-classification', { model: { architecture: 'damage-classifier', backbone: 'resnet18', augmentation: { rotate: 10 } } }, 'model.augmentation.rotate: is not a setting of augmentation; it takes cropScale, flip, rotateDegrees, brightness, contrast'],
      ['sentiment', { model: { architecture: 'fasttext', dims: 16 } }, 'model.dims: is not a setting of fasttext; it takes architecture, dim, buckets, wordNgrams, charNgrams'],
      ['sentiment', { optimizer: 'rmsprop' }, 'optimizer: must be adam or sgd, got "rmsprop"'],
      ['sentiment', { augmentation: 'flip' }, 'augmentation: is not a setting of train.json; it takes name, model, epochs'],
      ['sentiment', { earlyStopping: { monitor: 'val_mae', patience: 2 } }, 'earlyStopping.monitor: must be one of loss, val_loss, val_accuracy, val_macroF1 for text-classification, got "val_mae"'],
      ['sentiment', { earlyStopping: true }, 'earlyStopping: must be false or {"monitor", "patience", "minDelta"?, "mode"?}, got true'],
      ['sentiment', { splits: { train: 0.8, val: 0.1, test: 0.2 } }, 'splits: train + val + test must be 1'],
      ['image-classification', { recomputeBatchNorm: 'yes' }, 'recomputeBatchNorm: must be true or false, got "yes"'],
    ];
    for (const [task, value, message] of refused) {
      const config = writeJson(join(dir, 'invalid.json'), value);
      const result = await runCli('train', '--task', task, '--data', tweets, '--config', config, '--out', out);
      expect(result.code, JSON.stringify(value)).toBe(EXIT.badFormat);
      expect(result.err).toContain(`invalid.json: ${message}`);
      expect(result.err).not.toContain('samples');
    }

    // A Loupe dataset export says its task: importing it for another task is a wrong-task error.
    const db = makeDb();
    const { dataset } = await importUpload(db, [{ path: 'tweets.csv', file: new Blob([readFileSync(tweets)]) }], { task: 'text-classification', name: 'tweets' });
    const exported = join(dir, 'tweets-export.zip');
    writeFileSync(exported, new Uint8Array(await (await exportDataset(db, dataset.id)).arrayBuffer()));
    db.close();
    const wrongData = await runCli('train', '--task', 'image-classification', '--data', exported, '--out', out);
    expect(wrongData.code).toBe(EXIT.wrongTask);
    expect(wrongData.err).toMatch(/is a text-classification dataset, but the import is for image-classification/);
    // --task car-damage, the task's earlier name, still means image classification.
    const earlierName = await runCli('train', '--task', 'car-damage', '--data', exported, '--out', out);
    expect(earlierName.code).toBe(EXIT.wrongTask);
    expect(earlierName.err).toMatch(/is a text-classification dataset, but the import is for image-classification/);

    expect((await runCli('train', '--task', 'cars', '--data', tweets, '--out', out)).code).toBe(EXIT.usage);
    expect((await runCli('train', '--task', 'sentiment', '--data', tweets)).err).toContain('--out is required');
    expect((await runCli('train', '--task', 'sentiment', '--data', tweets, '--out', out, '--epochs', '1.5')).code).toBe(EXIT.usage);
    expect(existsSync(out)).toBe(false);
  });
});

describe('loupe predict', () => {
  it('prints {"predictions": […]} for a text, the same values for it in an --input batch, and one per repeated --text', async () => {
    const single = await runCli('predict', '--model', strong, '--text', 'I love this, what a wonderful day');
    expect(single.code, single.err).toBe(EXIT.ok);
    const { predictions } = single.json() as { predictions: Classification[] };
    expect(predictions).toHaveLength(1);
    expect(Object.keys(predictions[0]!.probabilities)).toEqual(['negative', 'neutral', 'positive']);
    expect(predictions[0]!.score).toBe(Math.max(...Object.values(predictions[0]!.probabilities)));

    const input = join(dir, 'batch.jsonl');
    writeFileSync(input, '{"text": "worst flight ever"}\n\n{"text": "I love this, what a wonderful day"}\n');
    const batch = await runCli('predict', '--model', strong, '--input', input);
    expect(batch.code, batch.err).toBe(EXIT.ok);
    const many = (batch.json() as { predictions: Classification[] }).predictions;
    expect(many).toHaveLength(2);
    expect(many[1]!.label).toBe(predictions[0]!.label);
    expect(many[1]!.score).toBeCloseTo(predictions[0]!.score, 6);

    // Repeated --text: one prediction per text, in order, as the batch file gives them.
    const repeated = await runCli('predict', '--model', strong, '--text', 'worst flight ever', '-t', 'I love this, what a wonderful day');
    expect(repeated.code, repeated.err).toBe(EXIT.ok);
    expect(repeated.json()).toEqual(batch.json());
    expect(repeated.err).toContain('2 prediction(s)');
    const blank = await runCli('predict', '--model', strong, '--text', 'fine', '--text', '  ');
    expect(blank.code).toBe(EXIT.badFormat);
    expect(blank.err).toContain('--text #2');
  });

  it('fails with distinct exit codes for missing files, bad bundles, bad input lines, wrong tasks and repeated options', async () => {
    expect((await runCli('predict', '--model', join(dir, 'none.zip'), '--text', 'x')).code).toBe(EXIT.missingFile);
    const notZip = await runCli('predict', '--model', tweets, '--text', 'x');
    expect(notZip.code).toBe(EXIT.badFormat);
    expect(notZip.err).toContain('is not a usable Loupe model bundle');

    const input = join(dir, 'broken.jsonl');
    writeFileSync(input, '{"text": "fine"}\n{"text": 3}\n');
    const badLine = await runCli('predict', '--model', strong, '--input', input);
    expect(badLine.code).toBe(EXIT.badFormat);
    expect(badLine.err).toContain('broken.jsonl line 2: text: must be a string');
    writeFileSync(input, '{"text": "fine"}\nnot json\n');
    expect((await runCli('predict', '--model', strong, '--input', input)).err).toContain('broken.jsonl line 2: not valid JSON');

    const wrong = await runCli('predict', '--model', strong, '--image', tweets);
    expect(wrong.code).toBe(EXIT.wrongTask);
    expect(wrong.err).toContain('it is a text-classification model, which takes --text');
    writeFileSync(input, '{"front_image_base64": "iVBO", "back_image_base64": "iVBO"}\n');
    expect((await runCli('predict', '--model', strong, '--input', input)).code).toBe(EXIT.wrongTask);

    expect((await runCli('predict', '--model', strong)).code).toBe(EXIT.usage);
    expect((await runCli('predict', '--model', strong, '--text', 'a', '--input', input)).code).toBe(EXIT.usage);
    expect((await runCli('predict', '--model', strong, '--text', '   ')).code).toBe(EXIT.badFormat);
    expect((await runCli('predict', '--model', strong, '--text', 'a', '--backend', 'webgpu')).code).toBe(EXIT.usage);
    // An option that takes one value refuses a second rather than keep the last silently.
    const twice = await runCli('predict', '--model', weak, '--model', strong, '--text', 'a');
    expect(twice.code).toBe(EXIT.usage);
    expect(twice.err).toContain('--model is given 2 times; it takes one value');
  });
});

describe('text classification with its own classes', () => {
  it('trains a 3-class topic model from a sports/politics/tech CSV whose answers (CLI and REST) name its topics', async () => {
    const words = {
      sports: ['match', 'goal', 'striker', 'league', 'coach', 'tennis', 'olympic', 'referee'],
      politics: ['election', 'senate', 'minister', 'vote', 'parliament', 'policy', 'campaign', 'governor'],
      tech: ['software', 'chip', 'startup', 'laptop', 'algorithm', 'browser', 'robot', 'cloud'],
    };
    const templates = ['news about the {w} today', 'the {w} made headlines', 'everyone talks about the {w}', 'a report on the {w} and the {v}'];
    const rows = Object.entries(words).flatMap(([topic, list]) =>
      Array.from({ length: 24 }, (_, i) => `"${templates[i % templates.length]!.replace('{w}', list[i % list.length]!).replace('{v}', list[(i * 3 + 1) % list.length]!)} ${i}",${topic}`),
    );
    const topics = join(dir, 'topics.csv');
    writeFileSync(topics, ['text,label', ...rows].join('\n'));
    const config = writeJson(join(dir, 'topics.json'), { earlyStopping: false, learningRate: 0.1, model: { architecture: 'fasttext', dim: 16 } });
    const out = join(dir, 'topics', 'topics.zip');
    const trained = await runCli('train', '--task', 'text-classification', '--data', topics, '--config', config, '--epochs', '10', '--out', out);
    expect(trained.code, trained.err).toBe(EXIT.ok);
    // No preset: the model is named after the task, and its card does not speak of sentiment.
    expect(trained.json()).toMatchObject({ model: 'text-classification', task: 'text-classification' });
    const bundle = await readBundle(new Uint8Array(readFileSync(out)));
    expect(savedModelLabels(bundle.modelJson)).toEqual(['politics', 'sports', 'tech']);
    expect(bundle.card).toContain('Classes: politics, sports, tech');
    expect(bundle.card).not.toMatch(/sentiment/i);

    const predicted = await runCli('predict', '--model', out, '--text', 'the striker scored a goal in the league match');
    expect(predicted.code, predicted.err).toBe(EXIT.ok);
    const [answer] = (predicted.json() as { predictions: Classification[] }).predictions;
    expect(Object.keys(answer!.probabilities)).toEqual(['politics', 'sports', 'tech']);
    expect(answer!.label).toBe('sports');

    // The same bundle in a studio, served over REST under its name.
    const db = makeDb();
    const registry = new ModelRegistry(db);
    await importBundle(registry, new Uint8Array(readFileSync(out)));
    await registry.promote({ name: 'text-classification', version: 1, evalDataVersion: 'topics', evaluate: async () => ({ accuracy: 0.9, macroF1: 0.9 }) });
    registerTaskPredictors();
    const handle = createRestHandler({ sdk: new ServingSdk({ db, predictors: loadPredictor }), limits: async () => DEFAULT_SERVING_LIMITS });
    const response = await handle(
      new Request('http://loupe.test/api/models/text-classification/invocations', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ inputs: ['a vote in the senate on the new policy'] }) }),
    );
    expect(response.status).toBe(200);
    const { predictions } = (await response.json()) as { predictions: Classification[] };
    expect(predictions[0]).toMatchObject({ label: 'politics' });
    expect(Object.keys(predictions[0]!.probabilities)).toEqual(['politics', 'sports', 'tech']);
    db.close();
  }, 60_000);
});

describe('loupe gate', () => {
  it('exits 0 and writes the decision when the candidate beats production on the same data', async () => {
    const out = join(dir, 'gate-promote');
    const result = await runCli('gate', '--candidate', strong, '--production', weak, '--eval', tweets, '--out-dir', out);
    expect(result.code, result.err).toBe(EXIT.ok);
    const decision = JSON.parse(readFileSync(join(out, 'decision.json'), 'utf8'));
    // Data without splits of its own is held out whole.
    expect(decision).toMatchObject({ decision: 'promote', passed: true, task: 'text-classification', measured: 'now', evalData: { split: 'test', samples: 150, splits: { test: 150 } } });
    expect(decision.candidate.metrics.accuracy).toBeGreaterThan(decision.production.metrics.accuracy);
    expect(decision.reason).toMatch(/^Promoted: accuracy beats production/);
    expect(result.json()).toMatchObject({ split: 'test', samples: 150 });
    expect(result.err).toContain('measured now on the test split, 150 samples');
    expect(JSON.parse(readFileSync(join(out, 'best_metrics.json'), 'utf8'))).toEqual({
      split: 'test',
      samples: 150,
      metrics: decision.candidate.metrics,
      task: 'text-classification',
      datasetVersion: decision.evalData.datasetVersion,
      model: 'candidate',
    });
  });

  it('evaluates only the test split of data that names one, never the samples it leaves for training', async () => {
    const work = tempDir();
    const lines = readFileSync(tweets, 'utf8').trim().split('\n');
    const evalDir = join(work, 'eval');
    mkdirSync(evalDir);
    writeFileSync(join(evalDir, 'pool.csv'), `${lines.slice(0, 101).join('\n')}\n`); // 100 rows naming no split
    writeFileSync(join(evalDir, 'test.csv'), `${[lines[0], ...lines.slice(101)].join('\n')}\n`); // 50 rows: the test split
    const result = await runCli('gate', '--candidate', strong, '--eval', evalDir, '--out-dir', join(work, 'out'));
    expect(result.code, result.err).toBe(EXIT.ok);
    expect(result.json()).toMatchObject({ split: 'test', samples: 50 });
    expect(result.err).toContain('100 of the 150 samples name no split while the others do: they are taken as training data (train) and not evaluated.');
    expect(result.err).toContain('measured now on the test split, 50 samples');
    const decision = JSON.parse(readFileSync(join(work, 'out', 'decision.json'), 'utf8'));
    expect(decision.evalData).toMatchObject({ split: 'test', samples: 50, splits: { train: 100, test: 50 } });
  });

  it('compares the metrics.json files of loupe train: test figures of one dataset version, or an older flat file as validation figures', async () => {
    const [strongFile, weakFile] = [join(dir, 'strong', 'metrics.json'), join(dir, 'weak', 'metrics.json')];
    // 15 test tweets are few: a lenient threshold, so the comparison decides.
    const rule = writeJson(join(dir, 'lenient.json'), { primary: 'accuracy', metrics: { accuracy: { greaterIsBetter: true, threshold: 0.2, minAbsoluteChange: 0 } } });
    const promoted = await runCli('gate', '--candidate', strongFile, '--production', weakFile, '--rule', rule, '--out-dir', join(dir, 'g-recorded'));
    expect(promoted.code, promoted.err).toBe(EXIT.ok);
    const strongFigures = JSON.parse(readFileSync(strongFile, 'utf8'));
    expect(promoted.json()).toMatchObject({ decision: 'promote', split: 'test', samples: 15, candidate: strongFigures.metrics });
    expect(promoted.err).toContain('recorded figures of the test split, 15 samples');
    const decision = JSON.parse(readFileSync(join(dir, 'g-recorded', 'decision.json'), 'utf8'));
    expect(decision).toMatchObject({ measured: 'recorded', task: 'text-classification', evalData: { split: 'test', samples: 15, datasetVersion: strongFigures.datasetVersion } });
    expect((await runCli('gate', '--candidate', weakFile, '--production', strongFile, '--rule', rule, '--out-dir', join(dir, 'g-recorded'))).code).toBe(EXIT.rejected);

    // A flat file (older loupe train) is read as validation figures, with notes.
    const flat = writeJson(join(dir, 'old-metrics.json'), { loss: 2, accuracy: 0.2, macroF1: 0.1 });
    const old = await runCli('gate', '--candidate', strongFile, '--production', flat, '--rule', rule, '--out-dir', join(dir, 'g-flat'));
    expect(old.code, old.err).toBe(EXIT.ok);
    expect(old.json()).toMatchObject({ split: 'val', samples: 15, candidate: strongFigures.val.metrics, production: { accuracy: 0.2 } });
    expect(old.err).toContain('old-metrics.json is a flat metrics file of an older "loupe train" (no split, sample count or dataset version): read as its validation figures');
    expect(old.err).toContain('whether both files were measured on the same data cannot be checked');

    // Figures of other data, a bundle beside a metrics file, and --eval with metrics files are refused.
    const other = writeJson(join(dir, 'other-data.json'), { ...strongFigures, datasetVersion: 'f'.repeat(64) });
    const otherData = await runCli('gate', '--candidate', strongFile, '--production', other);
    expect(otherData.code).toBe(EXIT.badFormat);
    expect(otherData.err).toContain(`was measured on dataset version ${strongFigures.datasetVersion.slice(0, 12)} and ${join(dir, 'other-data.json')} on ffffffffffff`);
    expect((await runCli('gate', '--candidate', strongFile, '--production', weak)).code).toBe(EXIT.usage);
    expect((await runCli('gate', '--candidate', strongFile, '--eval', tweets)).code).toBe(EXIT.usage);
    expect((await runCli('gate', '--candidate', flat)).err).toContain('give --rule rule.json');
  });

  it('exits 10 and keeps production’s metrics as the best when the candidate is worse', async () => {
    const out = join(dir, 'gate-reject');
    const result = await runCli('gate', '--candidate', weak, '--production', strong, '--eval', tweets, '--out-dir', out);
    expect(result.code).toBe(EXIT.rejected);
    const decision = JSON.parse(readFileSync(join(out, 'decision.json'), 'utf8'));
    expect(decision).toMatchObject({ decision: 'reject', passed: false });
    expect(decision.reason).toContain('is not better than production');
    expect(JSON.parse(readFileSync(join(out, 'best_metrics.json'), 'utf8'))).toMatchObject({ split: 'test', samples: 150, metrics: decision.production.metrics, model: 'production' });
  });

  it('applies --min-delta and --rule, and judges a first version by the thresholds alone', async () => {
    const strict = await runCli('gate', '--candidate', strong, '--production', weak, '--eval', tweets, '--min-delta', '0.9', '--out-dir', join(dir, 'g1'));
    expect(strict.code).toBe(EXIT.rejected);
    expect(strict.err).toContain('less than the minimum absolute change 0.9');

    const first = await runCli('gate', '--candidate', strong, '--eval', tweets, '--out-dir', join(dir, 'g2'));
    expect(first.code).toBe(EXIT.ok);
    expect((first.json() as { production: unknown }).production).toBeNull();
    const rule = writeJson(join(dir, 'rule.json'), { primary: 'accuracy', metrics: { accuracy: { greaterIsBetter: true, threshold: 0.999 } } });
    expect((await runCli('gate', '--candidate', strong, '--eval', tweets, '--rule', rule, '--out-dir', join(dir, 'g3'))).code).toBe(EXIT.rejected);
    const badRule = writeJson(join(dir, 'bad-rule.json'), { primary: 'accuracy', metrics: {} });
    const refused = await runCli('gate', '--candidate', strong, '--eval', tweets, '--rule', badRule);
    expect(refused.code).toBe(EXIT.badFormat);
    expect(refused.err).toContain('metrics.accuracy: the primary metric needs its thresholds');
  });

  it('refuses to compare a 2-class negative/positive model with a 3-class production model, measuring neither', async () => {
    const binary = join(dir, 'binary.csv');
    const rows = readFileSync(tweets, 'utf8').trim().split('\n').slice(1).filter((line) => !line.endsWith(',neutral'));
    writeFileSync(binary, ['text,label', ...rows].join('\n'));
    const out = join(dir, 'binary', 'sentiment.zip');
    const trained = await runCli('train', '--task', 'sentiment', '--data', binary, '--epochs', '1', '--out', out);
    expect(trained.code, trained.err).toBe(EXIT.ok);
    const result = await runCli('gate', '--candidate', out, '--production', strong, '--eval', binary, '--out-dir', join(dir, 'g5'));
    expect(result.code).toBe(EXIT.wrongTask);
    expect(result.err).toContain(`--candidate ${out} predicts negative, positive but --production ${strong} predicts negative, neutral, positive; the gate compares only models with the same classes`);
    expect(existsSync(join(dir, 'g5', 'decision.json'))).toBe(false);
  });

  it('refuses evaluation data of another task, and missing or broken bundles', async () => {
    const cars = writeCarsFolder(tempDir(), 6);
    const wrongData = await runCli('gate', '--candidate', strong, '--eval', cars, '--out-dir', join(dir, 'g4'));
    expect(wrongData.code).toBe(EXIT.badFormat);
    expect((await runCli('gate', '--candidate', strong, '--production', join(dir, 'none.zip'), '--eval', tweets)).code).toBe(EXIT.missingFile);
    expect((await runCli('gate', '--candidate', tweets, '--eval', tweets)).code).toBe(EXIT.badFormat);
    expect((await runCli('gate', '--candidate', strong, '--eval', tweets, '--min-delta', '-1')).code).toBe(EXIT.usage);
  });
});

describe('loupe import-bundle and export', () => {
  it('moves bundles into a studio backup and back out unchanged', async () => {
    const first = join(dir, 'backup-1.zip');
    const second = join(dir, 'backup-2.zip');
    expect((await runCli('import-bundle', '--bundle', weak, '--out', first)).code).toBe(EXIT.ok);
    const added = await runCli('import-bundle', '--bundle', strong, '--backup', first, '--out', second);
    expect(added.code, added.err).toBe(EXIT.ok);
    expect(added.json()).toMatchObject({ model: 'sentiment', version: 2, status: 'candidate' });

    const exported = join(dir, 'exported.zip');
    const result = await runCli('export', '--backup', second, '--version', '1', '--out', exported);
    expect(result.code, result.err).toBe(EXIT.ok);
    const read = (p: string) => readBundle(new Uint8Array(readFileSync(p)));
    const [original, roundTrip] = [await read(weak), await read(exported)];
    expect(roundTrip.modelJson).toBe(original.modelJson);
    expect(roundTrip.metrics).toEqual(original.metrics);
    const bytes = await Promise.all(roundTrip.shards.map((s) => s.arrayBuffer()));
    const expected = await Promise.all(original.shards.map((s) => s.arrayBuffer()));
    expect(bytes.map((b) => Buffer.from(b).toString('base64'))).toEqual(expected.map((b) => Buffer.from(b).toString('base64')));

    // Without --version: the latest (no production alias in this backup).
    const latest = await runCli('export', '--backup', second, '--out', join(dir, 'latest.zip'));
    expect(latest.json()).toMatchObject({ version: 2 });
    const text = (p: string) => runCli('predict', '--model', p, '--text', 'the service was great');
    expect((await text(join(dir, 'latest.zip'))).out).toBe((await text(strong)).out);
  });

  it('fails clearly on backups that are not backups, unknown models and versions', async () => {
    const notBackup = await runCli('export', '--backup', weak, '--out', join(dir, 'x.zip'));
    expect(notBackup.code).toBe(EXIT.badFormat);
    expect(notBackup.err).toContain('has no backup.json');
    const backup = join(dir, 'backup-3.zip');
    await runCli('import-bundle', '--bundle', weak, '--out', backup);
    await runCli('import-bundle', '--bundle', weak, '--backup', backup, '--name', 'other', '--out', backup);
    expect((await runCli('export', '--backup', backup, '--out', join(dir, 'x.zip'))).code).toBe(EXIT.usage);
    expect((await runCli('export', '--backup', backup, '--model', 'nope', '--out', join(dir, 'x.zip'))).code).toBe(EXIT.badFormat);
    expect((await runCli('export', '--backup', backup, '--model', 'other', '--version', '7', '--out', join(dir, 'x.zip'))).err).toContain('other has no version 7');
    expect((await runCli('import-bundle', '--bundle', tweets, '--out', join(dir, 'y.zip'))).code).toBe(EXIT.badFormat);
  });
});

describe('image tasks', () => {
  it('trains image classification (the car-damage classes) from class folders and predicts an --image', async () => {
    const work = tempDir();
    const cars = writeCarsFolder(work);
    const config = writeJson(join(work, 'train.json'), { model: { architecture: 'damage-classifier', backbone: 'mobilenetv3-small', inputSize: 32 }, batchSize: 8, earlyStopping: false });
    const out = join(work, 'cars.zip');
    const trained = await runCli('train', '--task', 'image-classification', '--data', cars, '--config', config, '--epochs', '1', '--out', out);
    expect(trained.code, trained.err).toBe(EXIT.ok);
    expect(trained.err).toMatch(/18 image-classification samples/);
    const result = await runCli('predict', '--model', out, '--image', join(cars, 'major', 'car-0002.png'));
    expect(result.code, result.err).toBe(EXIT.ok);
    const [prediction] = (result.json() as { predictions: Classification[] }).predictions;
    expect(['minor', 'moderate', 'major']).toContain(prediction!.label);
    expect((await runCli('predict', '--model', out, '--image', config)).code).toBe(EXIT.badFormat);
    expect((await runCli('predict', '--model', out, '--text', 'hello')).code).toBe(EXIT.wrongTask);
    const mixed = await runCli('gate', '--candidate', strong, '--production', out, '--eval', tweets);
    expect(mixed.code).toBe(EXIT.wrongTask);
    expect(mixed.err).toContain('--candidate is a text-classification model but --production is a image-classification model');
  });

  it('trains image classification on Fashion-MNIST-style IDX files with their own classes (grey small CNN) and predicts one', async () => {
    const work = tempDir();
    const classes = ['T-shirt/top', 'Trouser', 'Bag'];
    const fashion = writeIdxFolder(work, classes, 30, 8);
    const config = writeJson(join(work, 'train.json'), {
      model: { architecture: 'small-cnn', inputSize: 8, channels: 1, filters: [4], dense: 8, dropout: 0, augmentation: 'none' },
      batchSize: 8,
      earlyStopping: false,
    });
    const out = join(work, 'fashion.zip');
    const trained = await runCli('train', '--task', 'image-classification', '--data', fashion, '--config', config, '--epochs', '2', '--out', out);
    expect(trained.code, trained.err).toBe(EXIT.ok);
    expect(trained.err).toMatch(/30 image-classification samples/);
    const bundle = await readBundle(readFileSync(out));
    expect(bundle.tags.task).toBe('image-classification');
    expect(bundle.signature?.inputs).toEqual([
      { name: 'image_base64', type: 'string' },
      { name: 'image', type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, 8, 8, 1] } },
    ]);
    const image = join(work, 'bag.png');
    writeFileSync(image, encodePng({ width: 8, height: 8, channels: 1, data: new Uint8Array(64).fill(220) }, 1));
    const result = await runCli('predict', '--model', out, '--image', image);
    expect(result.code, result.err).toBe(EXIT.ok);
    const [prediction] = (result.json() as { predictions: Classification[] }).predictions;
    expect(classes).toContain(prediction!.label);
    expect(Object.keys(prediction!.probabilities).sort()).toEqual([...classes].sort());
  });

  it('trains coin-year from a manifest named as a file and predicts a year from --front and --back, also in a batch', async () => {
    const work = tempDir();
    const coins = writeCoinsFolder(work);
    // Another manifest beside it is not imported when the manifest is named as a file.
    writeFileSync(join(coins, 'old.csv'), 'front,back,year\nimages/gone.png,images/gone.png,1900\n');
    const config = writeJson(join(work, 'train.json'), { model: { architecture: 'coin-regressor', backbone: 'mobilenetv3-small', mode: 'shared', inputSize: 32 }, batchSize: 8, earlyStopping: false });
    const out = join(work, 'coins.zip');
    // The manifest as a file: its image paths resolve from its own folder, as when the folder is given.
    const trained = await runCli('train', '--task', 'coin-year', '--data', join(coins, 'manifest.csv'), '--config', config, '--epochs', '1', '--out', out);
    expect(trained.code, trained.err).toBe(EXIT.ok);
    expect(trained.err).toMatch(/manifest\.csv: 16 coin-year samples/);
    expect(trained.err).not.toContain('skipped');
    const front = join(coins, 'images', 'coin-0000_front.png');
    const back = join(coins, 'images', 'coin-0000_back.png');
    const single = await runCli('predict', '--model', out, '--front', front, '--back', back);
    expect(single.code, single.err).toBe(EXIT.ok);
    const [year] = (single.json() as { predictions: number[] }).predictions;
    expect(Number.isFinite(year)).toBe(true);
    const input = join(coins, 'batch.jsonl');
    const b64 = (p: string) => readFileSync(p).toString('base64');
    writeFileSync(input, `{"front": "images/coin-0000_front.png", "back": "images/coin-0000_back.png"}\n{"front_image_base64": "${b64(front)}", "back_image_base64": "${b64(back)}"}\n`);
    const batch = await runCli('predict', '--model', out, '--input', input);
    expect(batch.code, batch.err).toBe(EXIT.ok);
    const years = (batch.json() as { predictions: number[] }).predictions;
    expect(years).toHaveLength(2);
    expect(years[0]).toBeCloseTo(year!, 3);
    expect(years[1]).toBeCloseTo(year!, 3);
    expect((await runCli('predict', '--model', out, '--front', front)).code).toBe(EXIT.usage);
  });
});
