import { dirname, join } from 'node:path';
import { exportBundle } from '$lib/registry/bundle';
import { findRunModel } from '$lib/registry/evaluators';
import { heldOutMetrics } from '$lib/registry/gate';
import { checkModelName, ModelRegistry } from '$lib/registry/registry';
import type { TaskName } from '$lib/db/types';
import { evaluateHeldOutSplit } from '$lib/training/evaluate';
import { runTrainJob } from '$lib/training/job';
import { numberOption, optional, required, taskChoiceOption, type Command } from './args';
import { jobSpec, parseTrainConfig, type TrainConfig } from './config';
import { importData } from './data';
import { BadFormatError, CliError, EXIT } from './errors';
import { jsonText, readInputFile, writeOutput } from './files';
import { describeMetrics, NO_TEST_SPLIT, type MetricsFile, type SplitFigures } from './metrics-file';
import { ProgressPrinter, type CliIo } from './progress';
import type { LoupeDb } from '$lib/db/db';
import { importBundle } from '$lib/registry/bundle';
import { parseInit, type InitialWeightsResolver } from '$lib/training/init';
import { memoryWeightCache } from '$lib/weights/cache';
import { DEFAULT_WEIGHTS_HOST } from '$lib/weights/hub';
import { initialWeightsResolver } from '$lib/workflows/initial-weights';
import { memoryDb, startBackend } from './runtime';
import { formatTrainFigures } from '$lib/monitoring/job-figures';
import { PUSH_OPTION_HELP, pushFigures, pushgatewayOption, pushSummary } from './push';

export async function readConfig(path: string | undefined, task: TaskName): Promise<TrainConfig> {
  if (!path) return {};
  const text = new TextDecoder().decode(await readInputFile(path, '--config'));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BadFormatError(`--config ${path} is not valid JSON (${(error as Error).message})`);
  }
  return parseTrainConfig(value, path, task);
}

/** What says which run to train, shared by `train` and `export-job` (which writes that run for PyTorch). */
export const TRAINING_RUN_OPTIONS: Command['options'] = {
  task: { type: 'string' },
  data: { type: 'string', short: 'd' },
  config: { type: 'string', short: 'c' },
  out: { type: 'string', short: 'o' },
  name: { type: 'string' },
  epochs: { type: 'string' },
  seed: { type: 'string' },
  init: { type: 'string' },
  'weights-host': { type: 'string' },
};

export const trainCommand: Command = {
  name: 'train',
  summary: 'import a dataset, train a model and write its bundle and metrics.json',
  options: {
    ...TRAINING_RUN_OPTIONS,
    metrics: { type: 'string' },
    backend: { type: 'string' },
    pushgateway: { type: 'string' },
  },
  help: `Usage:
  loupe train --task sentiment --data tweets.csv --out sentiment.zip
  loupe train --task text-classification --data topics.csv --out topics.zip
  loupe train --task car-damage --data cars/ --config train.json --out cars.zip
  loupe train --task image-classification --data fashion-mnist/ --config small-cnn.json --out fashion.zip
  loupe train --task coin-year --data coins.zip --out coins.zip --epochs 5

Imports the data exactly as the studio's Datasets page does (same formats, checks and seeded splits),
trains on the train split with the studio's training loop (validation after every epoch, early
stopping, best weights kept), registers the result and writes it as a model bundle — the zip the
studio's Registry imports. Then scores the test split with the kept weights and writes metrics.json
by split: {"split": "test", "samples", "metrics", "val": {"samples", "metrics"}, "task",
"datasetVersion"}. Data without a test split gets "split": "val" and a note saying so. Prints a
JSON summary (the same figures) to stdout and progress to stderr.

Options:
      --task <task>        coin-year, image-classification (car-damage: its preset) or
                           text-classification (sentiment: its preset) (required)
  -d, --data <path>        a folder, a zip, or a manifest (CSV/TSV/JSONL) (required):
                             coin-year   manifest with front, back, year (+ the images)
                             image-classification  one folder per class, a path,label CSV, or IDX files
                               (car-damage: the classes minor/ moderate/ major/)
                             text-classification  CSV/TSV/JSONL with text,label (any classes), or
                               *_text.txt + *_labels.txt files (sentiment: 0/1/2 read as tweet_eval's
                               negative/neutral/positive)
  -c, --config <json>      training settings (all optional): {"model": {"architecture": …},
                           "epochs", "batchSize", "optimizer", "learningRate", "seed",
                           "earlyStopping": {"monitor","patience"} | false, "splits": {"train","val","test"},
                           "imageMaxSide", "name"}
  -o, --out <zip>          where to write the model bundle (required)
      --name <name>        the model's registry name (default: the preset, else the task)
      --metrics <json>     where to write the metrics by split (default: metrics.json beside --out)
      --epochs <n>         overrides the config's epochs
      --seed <n>           overrides the config's seed (splits, initialisation, shuffling)
      --backend <name>     wasm (default), cpu or auto
      --init <start>       an image model's first weights (default scratch):
                             hub:<owner/name>       model.safetensors from the hub (or --weights-host)
                             file:<path>            a .safetensors file (torchvision or timm names,
                                                    module. or backbone. prefixes)
                             version:<bundle.zip>   a registered version (its bundle) with the same backbone:
                                                    its backbone, and its head when task and classes match
                           the freeze-then-unfreeze schedule is the config's model.fineTune
      --weights-host <url> where hub: weights are downloaded from (default https://huggingface.co/)
${PUSH_OPTION_HELP}
  -h, --help               this help`,
  async run(values, io) {
    const { task, preset } = taskChoiceOption(values);
    const gateway = pushgatewayOption(values, 'train');
    const dataPath = required(values, 'data');
    const out = required(values, 'out');
    const configPath = optional(values, 'config');
    const config = await readConfig(configPath, task);
    const modelName = optional(values, 'name') ?? config.name ?? preset ?? task;
    checkModelName(modelName);
    const overrides = { epochs: numberOption(values, 'epochs', { integer: true, min: 1 }), seed: numberOption(values, 'seed', { integer: true }) };
    const backend = await startBackend(optional(values, 'backend') ?? 'wasm');
    const db = memoryDb();
    try {
      const seed = overrides.seed ?? config.seed;
      const dataset = await importData(db, io, dataPath, task, { option: '--data', preset, seed, fractions: config.splits, imageMaxSide: config.imageMaxSide });
      const start = await initialWeightsOf(db, optional(values, 'init') ?? config.init, optional(values, 'weights-host'), io);
      const spec = { ...jobSpec(task, dataset.id, config, { ...overrides, name: modelName }, dataset.preset), ...(start.init ? { init: start.init } : {}) };
      io.err(`training ${spec.model.architecture} for ${spec.epochs} epoch(s) on ${backend.backend} (${backend.adapter})\n`);
      const progress = new ProgressPrinter(io, spec.epochs);
      let result;
      try {
        result = await runTrainJob(db, spec, { backend, onProgress: progress.onEvent, initialWeights: start.resolver });
      } catch (error) {
        progress.finish();
        const message = error instanceof Error ? error.message : String(error);
        // The model spec does not fit (unknown architecture, wrong task, a setting the model refuses): the config is at fault, not the run.
        if (error instanceof Error && error.name === 'UnsupportedModelError') throw new BadFormatError(`${configPath ?? 'the model'}: ${message}`);
        if (error instanceof Error && error.name === 'ModelConfigError') throw new BadFormatError(`${configPath ?? 'the model'}: model.${message}`);
        if (error instanceof Error && (error.name === 'InitialWeightsError' || error.name === 'FineTuneError')) throw new BadFormatError(`--init ${spec.init ?? ''}: ${message}`);
        throw new CliError(`training failed: ${message}`, EXIT.failed);
      }
      // The figures of the weights the bundle holds: the test split scored now, and the val split's of the epoch kept.
      let test: SplitFigures | undefined;
      try {
        if ((dataset.splits?.test ?? 0) > 0) {
          const { samples, metrics } = await evaluateHeldOutSplit(db, result.trainable, dataset.id, { splits: ['test'], batchSize: spec.batchSize });
          test = { samples, metrics };
        }
      } catch (error) {
        throw new CliError(`scoring the test split failed: ${error instanceof Error ? error.message : String(error)}`, EXIT.failed);
      } finally {
        result.trainable.dispose();
      }
      const weights = await findRunModel(db, result.runId);
      if (!weights) throw new CliError('training finished but saved no final model', EXIT.internal);
      // A bundle imported here is v1 of this process's registry: the lineage names the version it was exported as.
      const run = await db.runs.get(result.runId);
      if (start.parent && run?.initialWeights?.kind === 'version') await db.runs.update(result.runId, { initialWeights: { ...run.initialWeights, ...start.parent } });
      const row = await new ModelRegistry(db).registerFromRun(result.runId, { name: modelName, weights });
      await writeOutput(out, await exportBundle(row));
      const val: SplitFigures = { samples: dataset.splits?.val ?? 0, metrics: heldOutMetrics(row.metrics) };
      const figures: MetricsFile = test
        ? { split: 'test', ...test, val, task, datasetVersion: dataset.id }
        : { split: 'val', ...val, val, task, datasetVersion: dataset.id, note: NO_TEST_SPLIT };
      const metricsPath = optional(values, 'metrics') ?? join(dirname(out), 'metrics.json');
      await writeOutput(metricsPath, jsonText(figures));
      if (test) io.err(`test split, ${test.samples} samples (held out, scored after training): ${describeMetrics(test.metrics)}\n`);
      const kept = spec.earlyStopping ? 'early stopping chose the epoch kept on it' : 'validated after every epoch';
      io.err(`val split, ${val.samples} samples (${kept}): ${describeMetrics(val.metrics)}\n`);
      if (!test) io.err(`note: ${NO_TEST_SPLIT}\n`);
      const pushed =
        gateway &&
        (await pushFigures(
          io,
          gateway,
          row.name,
          formatTrainFigures({ model: row.name, version: row.version, task, datasetVersion: dataset.id, epochs: result.metrics.epochs, splits: { ...(test ? { test: test.metrics } : {}), val: val.metrics }, finishedAt: Date.now() }),
        ));
      const summary = { bundle: out, metricsFile: metricsPath, model: row.name, version: row.version, task, datasetVersion: dataset.id, backend: backend.backend, epochs: result.metrics.epochs };
      io.out(jsonText({ ...summary, split: figures.split, samples: figures.samples, metrics: figures.metrics, val, ...(figures.note ? { note: figures.note } : {}), ...(pushed ? { pushgateway: pushSummary(pushed) } : {}) }));
      return EXIT.ok;
    } finally {
      db.close();
    }
  },
};

/**
 * `--init`: the spec's init and what fetches it. A `file:` is read from disk; a `version:` is a bundle
 * file, imported into this run's registry (the CLI keeps none of its own); `hub:` downloads each time
 * (the studio keeps what it downloads, a one-off command has nowhere to).
 */
export async function initialWeightsOf(
  db: LoupeDb,
  init: string | undefined,
  host: string | undefined,
  io: CliIo,
): Promise<{ init?: string; resolver?: InitialWeightsResolver; parent?: { name: string; version: number } }> {
  if (!init || init === 'scratch') return {};
  const options = {
    cache: memoryWeightCache(),
    host: host ?? process.env.LOUPE_WEIGHTS_HOST ?? DEFAULT_WEIGHTS_HOST,
    readFile: (path: string) => readInputFile(path, '--init file:'),
    onProgress: (event: import('$lib/progress').ProgressEvent) => {
      if (event.kind === 'progress' && (event.done === event.total || event.done === 0)) io.err(`${event.label}: ${event.done} of ${event.total || '?'} bytes\n`);
    },
  };
  if (init.startsWith('version:')) {
    const path = init.slice('version:'.length);
    if (/@\d+$/.test(path) && !path.endsWith('.zip')) {
      throw new BadFormatError(`--init ${init}: the CLI has no registry of its own; give the version's bundle instead: --init version:<name>-v<n>.zip (exported from the Registry page or written by loupe train)`);
    }
    let row;
    try {
      row = await importBundle(new ModelRegistry(db), await readInputFile(path, '--init version:'));
    } catch (error) {
      if (error instanceof CliError) throw error;
      throw new BadFormatError(`--init ${init}: not a usable Loupe model bundle: ${error instanceof Error ? error.message : String(error)}`);
    }
    const parent = row.importedFrom ? { name: row.importedFrom.name, version: row.importedFrom.version } : undefined;
    return { init: `version:${row.name}@${row.version}`, resolver: initialWeightsResolver(db, options), ...(parent ? { parent } : {}) };
  }
  try {
    parseInit(init);
  } catch (error) {
    throw new BadFormatError(`--init: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { init, resolver: initialWeightsResolver(db, options) };
}
