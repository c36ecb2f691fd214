import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { exportBundle } from '$lib/registry/bundle';
import { checkModelName } from '$lib/registry/registry';
import { evaluateHeldOutSplit } from '$lib/training/evaluate';
import { buildClusterJob, ClusterJobError, importTrainedWeights, parseClusterJob, type ClusterMetricsFile } from '$lib/workflows/cluster-job';
import { numberOption, optional, required, taskChoiceOption, type Command } from './args';
import { jobSpec } from './config';
import { importData } from './data';
import { BadFormatError, CliError, EXIT } from './errors';
import { jsonText, readInputFile, writeOutput } from './files';
import { describeMetrics } from './metrics-file';
import { memoryDb, startBackend } from './runtime';
import { initialWeightsOf, readConfig, TRAINING_RUN_OPTIONS } from './train';
import { mkdir, writeFile } from 'node:fs/promises';

/** The Python package and README an exported job carries (models/cluster in the repo). */
const CLUSTER_SOURCES = fileURLToPath(new URL('../../models/cluster/', import.meta.url));

async function clusterSources(): Promise<Record<string, Uint8Array>> {
  const files: Record<string, Uint8Array> = {};
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (entry.name === '__pycache__' || entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (/\.(py|md)$/.test(entry.name)) files[relative(CLUSTER_SOURCES, path)] = new Uint8Array(await readFile(path));
    }
  };
  await walk(CLUSTER_SOURCES);
  return files;
}

export const exportJobCommand: Command = {
  name: 'export-job',
  summary: 'write a training job that PyTorch DistributedDataParallel runs (dataset, job.json, Python)',
  options: TRAINING_RUN_OPTIONS,
  help: `Usage:
  loupe export-job --task coin-year --data coins/ --config train.json --out coin-job/
  loupe export-job --task car-damage --data photos/ --init hub:timm/mobilenetv3_small_100.lamb_in1k --out cars-job.zip

Imports the data as loupe train does (same version id) and writes the job loupe train would run, for
PyTorch on a cluster: dataset/ (the version exactly as stored: images + loupe-dataset.json with every
sample's split), job.json (the full run spec, dataset version, seed, job hash), init.safetensors (the
studio's first weights), train.py + loupe_ddp/ (the same model in torchvision, DistributedDataParallel)
and README.md (torchrun, several nodes, Databricks, Ray). --out ending in .zip writes a zip, else a folder.
Bring the result back with loupe import-weights. docs/scale.md has the round trip.

Options:
      --task <task>        coin-year or image-classification (car-damage: its preset) (required)
  -d, --data <path>        as loupe train (required)
  -c, --config <json>      as loupe train; the model must be coin-regressor or damage-classifier
  -o, --out <dir|zip>      where to write the job (required)
      --name <name>        the run's name
      --epochs <n>         overrides the config's epochs
      --seed <n>           overrides the config's seed
      --init <start>       first weights, as loupe train (hub:, file:, version:<bundle.zip>)
      --weights-host <url> where hub: weights are downloaded from
  -h, --help               this help`,
  async run(values, io) {
    const { task, preset } = taskChoiceOption(values);
    const dataPath = required(values, 'data');
    const out = required(values, 'out');
    const configPath = optional(values, 'config');
    const config = await readConfig(configPath, task);
    const overrides = { epochs: numberOption(values, 'epochs', { integer: true, min: 1 }), seed: numberOption(values, 'seed', { integer: true }), name: optional(values, 'name') };
    await startBackend('cpu');
    const db = memoryDb();
    try {
      const seed = overrides.seed ?? config.seed;
      const dataset = await importData(db, io, dataPath, task, { option: '--data', preset, seed, fractions: config.splits, imageMaxSide: config.imageMaxSide });
      const start = await initialWeightsOf(db, optional(values, 'init') ?? config.init, optional(values, 'weights-host'), io);
      const spec = { ...jobSpec(task, dataset.id, config, overrides), ...(start.init ? { init: start.init } : {}) };
      let built;
      try {
        built = await buildClusterJob(db, spec, { sources: await clusterSources(), initialWeights: start.resolver });
      } catch (error) {
        if (error instanceof ClusterJobError || (error instanceof Error && /ModelConfigError|UnsupportedModelError|InitialWeightsError/.test(error.name))) {
          throw new BadFormatError(`${configPath ?? 'the model'}: ${error.message}`);
        }
        throw error;
      }
      const { job, files } = built;
      if (out.endsWith('.zip')) {
        await writeOutput(out, zipSync(files, { level: 0 }));
      } else {
        for (const [name, bytes] of Object.entries(files)) {
          await mkdir(dirname(join(out, name)), { recursive: true });
          await writeFile(join(out, name), bytes);
        }
      }
      const samples = Object.keys(files).filter((f) => f.startsWith('dataset/images/')).length;
      io.err(`wrote ${out}: job ${job.jobHash.slice(0, 12)} (${job.model.architecture}, ${job.model.backbone}, ${spec.epochs} epoch(s)), ${samples} image file(s)\n`);
      io.err(`run it: cd ${out} && torchrun --nproc_per_node=<N> train.py   (README.md: several nodes, Databricks, Ray)\n`);
      io.out(jsonText({ out, jobHash: job.jobHash, task, datasetVersion: job.datasetVersion, architecture: job.model.architecture, backbone: job.model.backbone, epochs: spec.epochs, seed: spec.seed, init: job.initialWeights.init }));
      return EXIT.ok;
    } finally {
      db.close();
    }
  },
};

async function readJson(path: string, option: string): Promise<unknown> {
  const text = new TextDecoder().decode(await readInputFile(path, option));
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new BadFormatError(`${option} ${path} is not valid JSON (${(error as Error).message})`);
  }
}

export const importWeightsCommand: Command = {
  name: 'import-weights',
  summary: 'register the weights a PyTorch job trained as a new version (bundle + metrics.json)',
  options: {
    job: { type: 'string' },
    weights: { type: 'string', short: 'w' },
    metrics: { type: 'string' },
    data: { type: 'string', short: 'd' },
    out: { type: 'string', short: 'o' },
    name: { type: 'string' },
    backend: { type: 'string' },
  },
  help: `Usage:
  loupe import-weights --job output/job.json --weights output/model.safetensors --metrics output/metrics.json \\
    --data coin-job/dataset --out coins-ddp.zip
  loupe gate --candidate coins-ddp.zip --production prod.zip --eval coin-job/dataset

Takes what an exported job's train.py wrote and registers it as a version of the model, with lineage:
the dataset version, the job hash, and "trained by PyTorch DDP, N processes on <device>". Refused, with
the reason, when the job.json was edited, metrics.json or the weights are of another job, the data is
another dataset version (hash), or a tensor is missing or mis-shaped (named). Then scores the test split
here (Loupe's own evaluation of the imported weights) and writes the bundle (--out) and metrics.json
beside it: "metrics" are Loupe's figures, "pytorch" what the job reported. Gate it with loupe gate.

Options:
      --job <json>         the job.json the run copied into its output (required)
  -w, --weights <file>     model.safetensors (required)
      --metrics <json>     the run's metrics.json (required)
  -d, --data <path>        the job's dataset/ folder (or the same data) (required)
  -o, --out <zip>          where to write the model bundle (required)
      --name <name>        the registry name (default: the preset, else the task, as loupe train)
      --backend <name>     wasm (default), cpu or auto
  -h, --help               this help`,
  async run(values, io) {
    const jobPath = required(values, 'job');
    const out = required(values, 'out');
    const dataPath = required(values, 'data');
    const weights = await readInputFile(required(values, 'weights'), '--weights');
    const metrics = (await readJson(required(values, 'metrics'), '--metrics')) as ClusterMetricsFile;
    let job;
    try {
      job = await parseClusterJob(new TextDecoder().decode(await readInputFile(jobPath, '--job')), jobPath);
    } catch (error) {
      if (error instanceof ClusterJobError) throw new BadFormatError(error.message);
      throw error;
    }
    const backend = await startBackend(optional(values, 'backend') ?? 'wasm');
    const db = memoryDb();
    try {
      const dataset = await importData(db, io, dataPath, job.spec.task, { option: '--data', seed: job.seed });
      const name = optional(values, 'name') ?? dataset.preset ?? job.spec.task;
      checkModelName(name);
      let imported;
      try {
        imported = await importTrainedWeights(db, { job, weights, metrics, dataset, name });
      } catch (error) {
        if (error instanceof ClusterJobError) throw new BadFormatError(`${error.message}`);
        throw error;
      }
      const { row, trainable } = imported;
      let test;
      try {
        if ((dataset.splits?.test ?? 0) > 0) test = await evaluateHeldOutSplit(db, trainable, dataset.id, { splits: ['test'], batchSize: job.spec.batchSize });
      } catch (error) {
        throw new CliError(`scoring the test split failed: ${error instanceof Error ? error.message : String(error)}`, EXIT.failed);
      } finally {
        trainable.dispose();
      }
      await writeOutput(out, await exportBundle(row));
      const metricsPath = join(dirname(out), 'metrics.json');
      const figures = test
        ? { split: 'test', samples: test.samples, metrics: test.metrics, val: metrics.val, task: job.spec.task, datasetVersion: dataset.id }
        : { split: 'val', samples: metrics.val.samples, metrics: metrics.val.metrics, val: metrics.val, task: job.spec.task, datasetVersion: dataset.id, note: 'the data has no test split: these are the validation figures PyTorch reported' };
      await writeOutput(metricsPath, jsonText({ ...figures, pytorch: { split: metrics.split, samples: metrics.samples, metrics: metrics.metrics } }));
      const summary = row.lineage?.trainedBy?.summary ?? '';
      io.err(`registered ${row.name} v${row.version}: ${summary}, job ${job.jobHash.slice(0, 12)}, dataset version ${dataset.id.slice(0, 12)}\n`);
      if (test) io.err(`test split, ${test.samples} samples, measured here on ${backend.backend}: ${describeMetrics(test.metrics)}; PyTorch reported ${describeMetrics(metrics.metrics)}\n`);
      io.out(jsonText({ bundle: out, metricsFile: metricsPath, model: row.name, version: row.version, task: job.spec.task, datasetVersion: dataset.id, jobHash: job.jobHash, trainedBy: summary, split: figures.split, samples: figures.samples, metrics: figures.metrics, pytorch: metrics.metrics }));
      return EXIT.ok;
    } finally {
      db.close();
    }
  },
};
