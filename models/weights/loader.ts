import * as tf from '@tensorflow/tfjs';
import { backboneWeightMap } from '../backbones/index';
import { BACKBONE_KINDS, type Backbone, type BackboneKind, type WeightNaming } from '../backbones/types';
import { PARAM_LAYOUTS, torchShapeOf } from './layout';
import { parseSafetensors, type SafetensorsFile, type SafetensorsTensor } from './safetensors';

export class WeightImportError extends Error {
  override name = 'WeightImportError';
}

export interface LoadTorchWeightsOptions {
  /** Whose parameter names the checkpoint uses; 'auto' (default): timm's if its stem tensor is present. */
  naming?: WeightNaming | 'auto';
  /**
   * Only tensors under this prefix are read, with it removed: e.g. `backbone.` for a checkpoint of a
   * bigger model, or `module.` for one saved from DataParallel.
   */
  prefix?: string;
}

export type WeightSource = string | URL | Blob | ArrayBuffer | Uint8Array;

/**
 * Reads a safetensors file from a URL (fetched), a File/Blob or bytes.
 * @example const file = await readSafetensors('/weights/resnet18.safetensors');
 */
export async function readSafetensors(source: WeightSource, init: { fetch?: typeof fetch } = {}): Promise<SafetensorsFile> {
  if (typeof source === 'string' || source instanceof URL) {
    const response = await (init.fetch ?? fetch)(source);
    if (!response.ok) throw new WeightImportError(`GET ${String(source)} failed: HTTP ${response.status} ${response.statusText}`);
    return parseSafetensors(await response.arrayBuffer());
  }
  if (source instanceof Blob) return parseSafetensors(await source.arrayBuffer());
  return parseSafetensors(source);
}

interface Assignment {
  tensor: SafetensorsTensor;
  variable: tf.LayerVariable;
  perm?: number[];
}

/**
 * Copies a torchvision- (or timm-) named checkpoint into a backbone, transposing each tensor into the tfjs
 * layout. Checks everything first and assigns nothing unless every weight is present with the right shape;
 * the error lists each missing, unexpected or mis-shaped tensor with both shapes.
 * @example loadTorchWeights(createBackbone('resnet18'), await readSafetensors(file));
 */
export function loadTorchWeights(backbone: Backbone, file: SafetensorsFile, options: LoadTorchWeightsOptions = {}): void {
  const prefix = options.prefix ?? '';
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, tensor] of file.tensors) if (name.startsWith(prefix)) tensors.set(name.slice(prefix.length), tensor);
  const naming = options.naming === undefined || options.naming === 'auto' ? detectNaming(backbone, tensors) : options.naming;
  const { modules, ignore } = backbone.weightMap(naming);

  const problems: string[] = [];
  const assignments: Assignment[] = [];
  const used = new Set<string>();
  const assigned = new Set<tf.LayerVariable>();
  for (const module of modules) {
    const layer = backbone.model.getLayer(module.layer);
    for (const param of PARAM_LAYOUTS[module.kind]) {
      const variable = layer.weights.find((w) => w.originalName.endsWith(`/${param.tf}`));
      if (!variable) {
        if (!param.optional) problems.push(`layer '${layer.name}' has no '${param.tf}' weight for ${module.source}.${param.torch}`);
        continue;
      }
      const name = `${prefix}${module.source}.${param.torch}`;
      const tensor = tensors.get(`${module.source}.${param.torch}`);
      const expected = torchShapeOf(variable.shape as number[], param.perm);
      assigned.add(variable);
      if (!tensor) {
        problems.push(`missing tensor '${name}' (expected shape [${expected.join(', ')}])`);
        continue;
      }
      used.add(`${module.source}.${param.torch}`);
      if (!sameShape(tensor.shape, expected)) {
        problems.push(`tensor '${name}' has shape [${tensor.shape.join(', ')}], expected [${expected.join(', ')}] for layer '${layer.name}' ${param.tf}`);
      } else if (!(tensor.data instanceof Float32Array)) {
        problems.push(`tensor '${name}' has dtype ${tensor.dtype}, expected a float dtype`);
      } else {
        assignments.push({ tensor, variable, perm: param.perm });
      }
    }
  }
  for (const [name, tensor] of tensors) {
    if (!used.has(name) && !ignore.some((pattern) => pattern.test(name))) {
      problems.push(`unexpected tensor '${prefix}${name}' with shape [${tensor.shape.join(', ')}]`);
    }
  }
  for (const variable of backbone.model.weights) {
    if (!assigned.has(variable)) problems.push(`weight '${variable.originalName}' of our ${backbone.kind} has no checkpoint tensor mapped to it`);
  }
  if (problems.length > 0) {
    const shown = problems.slice(0, 20).map((p) => `  - ${p}`);
    if (problems.length > 20) shown.push(`  … and ${problems.length - 20} more`);
    throw new WeightImportError(`cannot load ${naming} weights into ${backbone.kind}: ${problems.length} problem(s)\n${shown.join('\n')}`);
  }

  for (const { tensor, variable, perm } of assignments) {
    const value = tf.tidy(() => {
      const torchTensor = tf.tensor(tensor.data, tensor.shape, 'float32');
      return perm ? tf.transpose(torchTensor, perm) : torchTensor;
    });
    variable.write(value);
    value.dispose();
  }
}

/** timm's names when the checkpoint has timm's stem tensor (and timm names it differently), else torchvision's. */
function detectNaming(backbone: Backbone, tensors: Map<string, SafetensorsTensor>): WeightNaming {
  const timmStem = backbone.weightMap('timm').modules[0]!.source;
  const torchvisionStem = backbone.weightMap('torchvision').modules[0]!.source;
  return timmStem !== torchvisionStem && tensors.has(`${timmStem}.weight`) ? 'timm' : 'torchvision';
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/**
 * Reads a safetensors checkpoint from anywhere `readSafetensors` can and loads it into the backbone.
 * @example await loadTorchWeightsFrom(backbone, 'https://example.org/mobilenet_v3_small.safetensors');
 */
export async function loadTorchWeightsFrom(backbone: Backbone, source: WeightSource, options: LoadTorchWeightsOptions & { fetch?: typeof fetch } = {}): Promise<void> {
  loadTorchWeights(backbone, await readSafetensors(source, { fetch: options.fetch }), options);
}

/** Prefixes tried when a checkpoint's names do not start at the backbone: DataParallel's, a bigger model's. */
export const CHECKPOINT_PREFIXES = ['', 'module.', 'backbone.', 'module.backbone.'] as const;

/** What a checkpoint holds, read from its stem tensor: which backbone, whose names, under which prefix. */
export interface CheckpointLayout {
  kind: BackboneKind;
  naming: WeightNaming;
  prefix: string;
}

/**
 * Recognises a checkpoint by its stem tensor (`conv1.weight`, `features.0.0.weight`, `conv_stem.weight`)
 * under each of `CHECKPOINT_PREFIXES`; undefined when it is none of our backbones.
 * @example inspectCheckpoint(file) // { kind: 'mobilenetv3-small', naming: 'timm', prefix: 'module.' }
 */
export function inspectCheckpoint(file: SafetensorsFile): CheckpointLayout | undefined {
  for (const prefix of CHECKPOINT_PREFIXES) {
    for (const kind of BACKBONE_KINDS) {
      for (const naming of ['timm', 'torchvision'] as const) {
        const stem = backboneWeightMap(kind, '', naming).modules[0]!.source;
        if (file.tensors.has(`${prefix}${stem}.weight`)) return { kind, naming, prefix };
      }
    }
  }
  return undefined;
}

/** The BatchNorm epsilon a checkpoint was trained with where it differs from torchvision's default. */
export function checkpointBatchNormEpsilon(layout: CheckpointLayout): number | undefined {
  return layout.kind === 'mobilenetv3-small' && layout.naming === 'timm' ? 1e-5 : undefined;
}

/**
 * Checks that a checkpoint holds the backbone `kind` and returns its layout; the error names what it holds
 * instead (another backbone, or nothing we know, with its first tensors).
 */
export function checkpointLayoutFor(file: SafetensorsFile, kind: BackboneKind): CheckpointLayout {
  const layout = inspectCheckpoint(file);
  if (!layout) {
    const names = [...file.tensors.keys()].slice(0, 3).map((n) => `'${n}'`);
    throw new WeightImportError(
      `the checkpoint holds no ${kind} weights we recognise (expected a torchvision or timm state dict, optionally under ${CHECKPOINT_PREFIXES.filter(Boolean).join(' or ')}); its first tensors: ${names.join(', ') || 'none'}`,
    );
  }
  if (layout.kind !== kind) {
    const stem = `${layout.prefix}${backboneWeightMap(layout.kind, '', layout.naming).modules[0]!.source}.weight`;
    const shape = file.tensors.get(stem)!.shape;
    throw new WeightImportError(`the checkpoint is a ${layout.kind} ('${stem}' [${shape.join(', ')}]), but the model's backbone is ${kind}: choose ${kind} weights or change the backbone`);
  }
  return layout;
}

/**
 * A backbone's weights as a torchvision-named checkpoint (torch layouts, BN statistics included): what a
 * registered version hands on to a model warm-started from it, checked by `loadTorchWeights` like a file.
 * @example loadTorchWeights(child, await backboneCheckpoint(backbonesOf(parent.model)[0]));
 */
export async function backboneCheckpoint(backbone: Backbone): Promise<SafetensorsFile> {
  const tensors = new Map<string, SafetensorsTensor>();
  for (const module of backbone.weightMap('torchvision').modules) {
    const layer = backbone.model.getLayer(module.layer);
    for (const param of PARAM_LAYOUTS[module.kind]) {
      const variable = layer.weights.find((w) => w.originalName.endsWith(`/${param.tf}`));
      if (!variable) continue;
      const torch = tf.tidy(() => {
        const value = variable.read();
        if (!param.perm) return value.clone();
        const inverse: number[] = [];
        param.perm.forEach((torchAxis, tfAxis) => (inverse[torchAxis] = tfAxis));
        return tf.transpose(value, inverse);
      });
      // Read without blocking: on webgpu `dataSync()` stalls the GPU and can read zeros.
      try {
        tensors.set(`${module.source}.${param.torch}`, { dtype: 'F32', shape: torch.shape, data: (await torch.data()) as Float32Array });
      } finally {
        torch.dispose();
      }
    }
  }
  return { metadata: { format: 'pt', model: backbone.kind }, tensors };
}
