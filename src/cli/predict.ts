import { dirname, resolve } from 'node:path';
import type { TaskName } from '$lib/db/types';
import { formatPrediction } from '$lib/serving/rest';
import { checkImageBytes } from '$lib/serving/image';
import { normalizeInput } from '$lib/serving/sdk';
import { DEFAULT_SERVING_LIMITS, type ImageInput, type ServingInput } from '$lib/serving/types';
import { parseInvocation } from '$lib/serving/validate';
import { TASKS } from '$lib/tasks/registry';
import { predictInputs } from '$lib/tasks/loaded';
import type { Prediction } from '$lib/tasks/types';
import { optional, repeated, required, type Command, type Values } from './args';
import { loadBundleModel, readBundleFile } from './bundles';
import { BadFormatError, EXIT, UsageError, WrongTaskError } from './errors';
import { readInputFile } from './files';
import { startBackend } from './runtime';

const LIMITS = DEFAULT_SERVING_LIMITS;
/** Examples per forward pass: bounds memory for long `--input` files. */
const CHUNK = 64;

/** A task's single-example options, for messages: `--text "…"`, `--front front.jpg --back back.jpg`. */
function optionsOf(task: TaskName): string {
  return TASKS[task].serving.fields.map((f) => (f.kind === 'text' ? `--${f.key} "…"` : `--${f.key} ${f.label}.jpg`)).join(' ');
}

function wrongTask(option: string, task: TaskName, path: string): WrongTaskError {
  return new WrongTaskError(`${option} does not fit ${path}: it is a ${task} model, which takes ${optionsOf(task)}`);
}

async function imageFile(path: string, option: string) {
  return checkImageBytes(await readInputFile(path, option), `${option} ${path}`, LIMITS.maxImageBytes);
}

/** The task whose request fields (REST names or option keys) a JSON line uses, when they all belong to one task. */
function taskOfFields(keys: string[]): TaskName | undefined {
  for (const task of Object.values(TASKS)) {
    const names = new Set(task.serving.fields.flatMap((f) => [f.name, f.key]));
    if (keys.length > 0 && keys.every((k) => names.has(k))) return task.name;
  }
  return undefined;
}

/**
 * One line of an `--input` file: the REST API's fields (`text`, `image_base64`, `front_image_base64` +
 * `back_image_base64`) or image paths relative to the file (`image`, `front` + `back`).
 */
async function lineInput(task: TaskName, value: unknown, where: string, base: string, model: string): Promise<ServingInput> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const like = Object.fromEntries(TASKS[task].serving.fields.map((f) => [f.key, f.kind === 'text' ? '…' : `${f.label}.jpg`]));
    throw new BadFormatError(`${where}: expected a JSON object like ${JSON.stringify(like)}`);
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  const fieldsTask = taskOfFields(keys);
  if (fieldsTask && fieldsTask !== task) throw new WrongTaskError(`${where}: fields ${keys.join(', ')} are ${fieldsTask} inputs, but ${model} is a ${task} model`);
  const paths: string[] = TASKS[task].serving.fields.filter((f) => f.kind === 'image').map((f) => f.key);
  if (paths.length > 0 && paths.every((k) => typeof record[k] === 'string')) {
    if (keys.some((k) => !paths.includes(k))) throw new BadFormatError(`${where}: give either ${paths.join(' and ')} (file paths) or the base64 fields, not both`);
    const images = await Promise.all(paths.map(async (k) => [k, await imageFile(resolve(base, record[k] as string), `${where} ${k}`)] as const));
    return servingInput(task, Object.fromEntries(images));
  }
  try {
    return parseInvocation({ inputs: [record] }, task, LIMITS).inputs[0]!;
  } catch (error) {
    throw new BadFormatError(`${where}: ${(error as Error).message.replace(/^inputs\[0\]\.?/, '')}`);
  }
}

/** Reads a JSON Lines batch file (blank lines skipped). */
async function fileInputs(path: string, task: TaskName, model: string): Promise<ServingInput[]> {
  const text = new TextDecoder().decode(await readInputFile(path, '--input'));
  const inputs: ServingInput[] = [];
  const lines = text.split(/\r?\n/);
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    const where = `${path} line ${i + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new BadFormatError(`${where}: not valid JSON (${(error as Error).message}); each line must be one JSON object`);
    }
    inputs.push(await lineInput(task, value, where, dirname(resolve(path)), model));
  }
  if (inputs.length === 0) throw new BadFormatError(`--input ${path} holds no examples (one JSON object per line)`);
  return inputs;
}

/** Image inputs by key as the served input of a task (`image`, or `front` + `back`). */
function servingInput(task: TaskName, images: Record<string, ImageInput>): ServingInput {
  const [image, front, back] = [images.image, images.front, images.back];
  if (TASKS[task].input === 'image' && image) return { image };
  if (TASKS[task].input === 'image-pair' && front && back) return { front, back };
  throw new UsageError(`a ${task} model takes ${optionsOf(task)}`);
}

/** The examples the options name, checked against the model's task; repeated options give one example each, in order. */
async function inputsOf(values: Values, task: TaskName, model: string): Promise<ServingInput[]> {
  const given = ['text', 'image', 'front', 'back', 'input'].filter((k) => repeated(values, k).length > 0);
  const keys = TASKS[task].serving.fields.map((f) => f.key as string);
  if (given.length === 0) throw new UsageError(`give the input: ${optionsOf(task)}, or --input examples.jsonl`);
  if (given.includes('input')) {
    if (given.length > 1) throw new UsageError(`give one kind of input, not ${given.map((k) => `--${k}`).join(' and ')}`);
    return fileInputs(required(values, 'input'), task, model);
  }
  const owner = taskOfFields(given);
  if (!owner) throw new UsageError(`give one kind of input, not ${given.map((k) => `--${k}`).join(' and ')}`);
  if (owner !== task) throw wrongTask(given.map((k) => `--${k}`).join('/'), task, model);
  const missing = keys.filter((k) => !given.includes(k));
  if (missing.length) throw new UsageError(`a ${TASKS[task].dataset.unit.one} needs ${optionsOf(task)} (missing ${missing.map((k) => `--${k}`).join(', ')})`);
  const counts = keys.map((k) => repeated(values, k).length);
  if (new Set(counts).size > 1) {
    throw new UsageError(`give ${keys.map((k) => `--${k}`).join(' and ')} once per ${TASKS[task].dataset.unit.one}, in order (got ${keys.map((k, i) => `${counts[i]} --${k}`).join(', ')})`);
  }
  const count = counts[0]!;
  const where = (option: string, i: number) => (count > 1 ? `${option} #${i + 1}` : option);
  if (TASKS[task].input === 'text') {
    try {
      return await Promise.all(repeated(values, 'text').map((text, i) => normalizeInput(task, text, LIMITS, where('--text', i))));
    } catch (error) {
      throw new BadFormatError((error as Error).message);
    }
  }
  const examples: ServingInput[] = [];
  for (let i = 0; i < count; i++) {
    const images = await Promise.all(keys.map(async (k) => [k, await imageFile(repeated(values, k)[i]!, where(`--${k}`, i))] as const));
    examples.push(servingInput(task, Object.fromEntries(images)));
  }
  return examples;
}

export const predictCommand: Command = {
  name: 'predict',
  summary: 'predict with a model bundle; prints {"predictions": […]} like the REST API',
  options: {
    model: { type: 'string', short: 'm' },
    text: { type: 'string', short: 't', multiple: true },
    image: { type: 'string', multiple: true },
    front: { type: 'string', multiple: true },
    back: { type: 'string', multiple: true },
    input: { type: 'string', short: 'i' },
    backend: { type: 'string' },
  },
  help: `Usage:
  loupe predict --model bundle.zip --text "Beautiful post!!!"
  loupe predict --model bundle.zip --text "good" --text "bad"      # one prediction per text, in order
  loupe predict --model bundle.zip --image damage.jpg
  loupe predict --model bundle.zip --front obverse.jpg --back reverse.jpg
  loupe predict --model bundle.zip --input examples.jsonl

Predicts with a model bundle (a zip exported by the studio's Registry or written by "loupe train") and
prints the answer of POST /api/models/{name}/invocations to stdout: {"predictions": [...]}, a year per
coin, or {"label", "score", "probabilities"} per image or text.

Options:
  -m, --model <zip>     the model bundle (required)
  -t, --text <text>     a text (text-classification models)
      --image <file>    an image (image-classification models): PNG, JPEG, WebP or GIF
      --front <file>    a coin's obverse, with --back (coin-year models)
      --back <file>     a coin's reverse
                        Each may repeat: one prediction per --text, per --image, per --front/--back pair.
  -i, --input <jsonl>   a batch: one JSON object per line, with the REST API's fields
                        ({"text"}, {"image_base64"}, {"front_image_base64","back_image_base64"})
                        or image paths relative to the file ({"image"}, {"front","back"})
      --backend <name>  wasm (default), cpu or auto
  -h, --help            this help`,
  async run(values, io) {
    const path = required(values, 'model');
    const file = await readBundleFile(path, '--model');
    const inputs = await inputsOf(values, file.task, path);
    const backend = await startBackend(optional(values, 'backend') ?? 'wasm');
    const trainable = await loadBundleModel(file);
    try {
      const started = performance.now();
      const predictions: Prediction[] = [];
      for (let i = 0; i < inputs.length; i += CHUNK) predictions.push(...(await predictInputs(trainable, inputs.slice(i, i + CHUNK))));
      const ms = performance.now() - started;
      io.out(`${JSON.stringify({ predictions: predictions.map((p) => formatPrediction(p, trainable.labels)) })}\n`);
      io.err(`${file.bundle.name} v${file.bundle.version} (${file.task}) on ${backend.backend}: ${predictions.length} prediction(s) in ${ms.toFixed(1)} ms\n`);
      return EXIT.ok;
    } finally {
      trainable.dispose();
    }
  },
};
