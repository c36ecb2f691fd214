import { BACKBONE_KINDS, type BackboneKind } from './backbones/types';

/** A task model configuration that cannot be built; `field` names the offending setting. */
export class ModelConfigError extends Error {
  override name = 'ModelConfigError';
  constructor(
    readonly field: string,
    expected: string,
    got: unknown,
  ) {
    super(`${field} must be ${expected}, got ${describe(got)}`);
  }
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  return JSON.stringify(value) ?? String(value);
}

/** Activations offered for the projection layer (a subset of tfjs's that is safe on every backend). */
export const PROJECTION_ACTIVATIONS = ['relu', 'gelu', 'swish', 'elu', 'selu', 'tanh', 'sigmoid', 'linear'] as const;
export type ProjectionActivation = (typeof PROJECTION_ACTIVATIONS)[number];

/** A Dense + activation between the pooled features and the head. */
export interface ProjectionConfig {
  units: number;
  /** Default 'relu'. */
  activation?: ProjectionActivation;
}

/** What the image models share. */
export interface VisionModelConfig {
  backbone: BackboneKind;
  /** Square input side in pixels: a multiple of 32, ≥ 32. Default 224 (128 trains ~3× faster). */
  inputSize?: number;
  /** Omit (or null) to put the head directly on the pooled features. */
  projection?: ProjectionConfig | null;
  /** Dropout rate before the head, in [0, 1). */
  dropout?: number;
  /** Seed of every initializer and of dropout. Default 1. */
  seed?: number;
  /**
   * The backbone's BatchNorm epsilon; default torchvision's. First weights decide it: timm trained its
   * MobileNetV3-Small with 1e-5 where torchvision uses 1e-3 (`checkpointBatchNormEpsilon`).
   */
  batchNormEpsilon?: number;
}

export const DEFAULT_INPUT_SIZE = 224;
export const DEFAULT_DROPOUT = 0.2;
/**
 * BatchNorm momentum (torch convention) of the task models' backbones. They train from scratch in a few
 * epochs: with torchvision's 0.01 for MobileNetV3 the running statistics would still be mostly their
 * initial values after a few hundred steps, so evaluation (which uses them) would see a different network
 * than training did.
 */
export const TASK_BATCH_NORM_MOMENTUM = 0.1;

export function check(condition: boolean, field: string, expected: string, got: unknown): void {
  if (!condition) throw new ModelConfigError(field, expected, got);
}

/** Validates the shared settings and input names; returns them with defaults filled in. */
export function checkVisionConfig(config: VisionModelConfig, inputs: unknown, inputCount: number) {
  check(typeof config === 'object' && config !== null, 'config', 'an object', config);
  check((BACKBONE_KINDS as readonly unknown[]).includes(config.backbone), 'backbone', `one of ${BACKBONE_KINDS.join(', ')}`, config.backbone);
  const inputSize = config.inputSize ?? DEFAULT_INPUT_SIZE;
  check(Number.isInteger(inputSize) && inputSize >= 32 && inputSize % 32 === 0, 'inputSize', 'an integer multiple of 32 and ≥ 32', inputSize);
  const dropout = config.dropout ?? DEFAULT_DROPOUT;
  check(typeof dropout === 'number' && dropout >= 0 && dropout < 1, 'dropout', 'a number in [0, 1)', dropout);
  const seed = config.seed ?? 1;
  check(Number.isInteger(seed), 'seed', 'an integer', seed);
  const projection = config.projection ?? null;
  if (projection !== null) {
    check(typeof projection === 'object', 'projection', 'an object {units, activation?} or null', projection);
    check(Number.isInteger(projection.units) && projection.units > 0, 'projection.units', 'a positive integer', projection.units);
    const activation = projection.activation ?? 'relu';
    check(PROJECTION_ACTIVATIONS.includes(activation), 'projection.activation', `one of ${PROJECTION_ACTIVATIONS.join(', ')}`, activation);
  }
  check(
    Array.isArray(inputs) && inputs.length === inputCount,
    'inputs',
    `a list of exactly ${inputCount} input name${inputCount === 1 ? '' : 's'}`,
    inputs,
  );
  const names = inputs as unknown[];
  for (const name of names) {
    // Input names prefix layer and weight names, so keep them to identifier characters.
    check(typeof name === 'string' && /^[A-Za-z][A-Za-z0-9_]*$/.test(name), 'inputs', 'names of letters, digits and _ (starting with a letter)', name);
  }
  check(new Set(names).size === names.length, 'inputs', 'distinct names', inputs);
  const batchNormEpsilon = config.batchNormEpsilon;
  check(batchNormEpsilon === undefined || (typeof batchNormEpsilon === 'number' && batchNormEpsilon > 0), 'batchNormEpsilon', 'a number > 0', batchNormEpsilon);
  return { backbone: config.backbone, inputSize, dropout, seed, projection, inputs: names as string[], batchNormEpsilon };
}
