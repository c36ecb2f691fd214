import * as v from 'valibot';
import { InvalidBundleError } from './errors';
import { describeIssue } from './gate';
import type { ModelSignature } from './types';

/**
 * Checks of what the registry stores: tfjs `model.json` (layers-model format) against its weight
 * shards, MLflow signatures, metrics. Shared by registration and bundle import, so a version that
 * is in the registry always passed them. The registry never looks inside the topology.
 */

/** Bytes per element of each weight dtype tfjs writes (quantized weights use their quantization dtype). */
export const DTYPE_BYTES: Readonly<Record<string, number>> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/** No registered model may declare more weight bytes than this (ResNet18 in float32 is ~45 MB). */
export const MAX_WEIGHT_BYTES = 1024 * 1024 * 1024;

/** A file name Loupe accepts for a weight shard: flat, no traversal, no odd characters. */
export const SHARD_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const dtype = v.picklist(Object.keys(DTYPE_BYTES), 'is not a weight dtype tfjs writes (float32, int32, bool, uint8, uint16, float16)');
const WeightEntry = v.looseObject({
  name: v.pipe(v.string(), v.nonEmpty('is empty')),
  shape: v.array(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(0, 'must be ≥ 0'))),
  dtype,
  quantization: v.optional(v.looseObject({ dtype: v.picklist(['uint8', 'uint16', 'float16'], 'is not a quantization dtype') })),
});
const ModelJsonSchema = v.looseObject({
  modelTopology: v.record(v.string(), v.unknown(), 'must be an object (the Keras topology)'),
  format: v.optional(v.string()),
  weightsManifest: v.pipe(
    v.array(
      v.looseObject({
        paths: v.array(v.pipe(v.string(), v.regex(SHARD_NAME, 'is not a plain shard file name (letters, digits, . _ -)'))),
        weights: v.array(WeightEntry),
      }),
    ),
    v.minLength(1, 'lists no weight groups'),
  ),
});

export interface ModelJsonSummary {
  /** Shard file names, in order. */
  paths: string[];
  /** Bytes the weights need, from their shapes and dtypes. */
  weightBytes: number;
  weightCount: number;
}

/** Parses JSON text, or throws `InvalidBundleError` naming the file. */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InvalidBundleError(`is not valid JSON (${error instanceof Error ? error.message : String(error)})`, file);
  }
}

/** Validates with a valibot schema; the error names the file and the field path. */
export function parseWith<T extends v.GenericSchema>(schema: T, value: unknown, file: string): v.InferOutput<T> {
  const parsed = v.safeParse(schema, value);
  if (!parsed.success) throw new InvalidBundleError(describeIssue(parsed.issues[0]), file);
  return parsed.output;
}

/**
 * Checks model.json text: JSON, the tfjs layers-model shape, safe unique shard names, unique weight
 * names, and a total weight size under the cap.
 */
export function inspectModelJson(text: string, maxWeightBytes = MAX_WEIGHT_BYTES): ModelJsonSummary {
  const json = parseWith(ModelJsonSchema, parseJson(text, 'model.json'), 'model.json');
  const paths = json.weightsManifest.flatMap((group) => group.paths);
  const seen = new Set<string>();
  for (const [i, path] of paths.entries()) {
    if (seen.has(path)) throw new InvalidBundleError(`lists the shard "${path}" twice`, 'model.json', `weightsManifest paths[${i}]`);
    seen.add(path);
  }
  if (paths.length === 0) throw new InvalidBundleError('lists no weight shard files', 'model.json', 'weightsManifest');
  const names = new Set<string>();
  let weightBytes = 0;
  let weightCount = 0;
  for (const [g, group] of json.weightsManifest.entries()) {
    for (const [w, weight] of group.weights.entries()) {
      const field = `weightsManifest[${g}].weights[${w}]`;
      if (names.has(weight.name)) throw new InvalidBundleError(`names the weight "${weight.name}" twice`, 'model.json', `${field}.name`);
      names.add(weight.name);
      const elements = weight.shape.reduce((a, b) => a * b, 1);
      weightBytes += elements * DTYPE_BYTES[weight.quantization?.dtype ?? weight.dtype]!;
      weightCount++;
      // Checked as it grows, so absurd shapes ([1e9, 1e9]) stop before the sum loses precision.
      if (!(weightBytes <= maxWeightBytes)) {
        throw new InvalidBundleError(`declares more than ${formatBytes(maxWeightBytes)} of weights (at "${weight.name}", shape [${weight.shape.join(', ')}])`, 'model.json', `${field}.shape`);
      }
    }
  }
  return { paths, weightBytes, weightCount };
}

/**
 * Checks that weight shards hold exactly the bytes model.json's manifest needs.
 * @throws InvalidBundleError when the shard count or total size disagrees with the manifest
 */
export function checkShards(summary: ModelJsonSummary, shardSizes: number[]): void {
  if (shardSizes.length !== summary.paths.length) {
    throw new InvalidBundleError(`the weights manifest lists ${summary.paths.length} shard file(s) but ${shardSizes.length} were given`, 'model.json', 'weightsManifest');
  }
  const actual = shardSizes.reduce((a, b) => a + b, 0);
  if (actual !== summary.weightBytes) {
    throw new InvalidBundleError(
      `the weight shards hold ${actual} bytes but the manifest's shapes × dtypes need ${summary.weightBytes} bytes (${summary.weightCount} weights)`,
      'model.json',
      'weightsManifest',
    );
  }
}

const NUMPY_DTYPES = ['float16', 'float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool', 'str', 'object'] as const;
const TensorSpecSchema = v.looseObject({
  name: v.optional(v.string()),
  type: v.literal('tensor'),
  'tensor-spec': v.looseObject({
    dtype: v.picklist(NUMPY_DTYPES, `is not a numpy dtype MLflow knows (${NUMPY_DTYPES.join(', ')})`),
    shape: v.array(v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(-1, 'must be ≥ -1 (-1: any size)'))),
  }),
});
const COLUMN_TYPES = ['string', 'double', 'float', 'long', 'integer', 'boolean', 'binary', 'datetime'] as const;
const ColumnSpecSchema = v.looseObject({
  name: v.optional(v.string()),
  type: v.picklist(COLUMN_TYPES, `is not an MLflow column type (${COLUMN_TYPES.join(', ')}) or "tensor"`),
  required: v.optional(v.boolean()),
});
const SpecSchema = v.variant('type', [TensorSpecSchema, ColumnSpecSchema]);

/** An MLflow signature: column or tensor specs for inputs (at least one) and outputs. */
export const SignatureSchema = v.looseObject({
  inputs: v.pipe(v.array(SpecSchema), v.minLength(1, 'needs at least one input')),
  outputs: v.optional(v.array(SpecSchema)),
});

/** Metrics: a flat object of finite numbers. */
export const MetricsSchema = v.record(
  v.pipe(v.string(), v.nonEmpty('a metric needs a name'), v.maxLength(128, 'is longer than 128 characters')),
  v.pipe(v.number('must be a number'), v.finite('must be finite')),
);

/** Validates a signature, naming the field of the first problem. */
export function validateSignature(signature: unknown, file = 'signature'): ModelSignature {
  return parseWith(SignatureSchema, signature, file) as ModelSignature;
}

/** 1536 → "1.5 KiB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : Number(value.toPrecision(3))} ${units[unit]}`;
}
