import * as tf from '@tensorflow/tfjs';
import { backbonesOf } from '../backbones/index';
import type { Backbone } from '../backbones/types';
import { PARAM_LAYOUTS, torchShapeOf } from './layout';
import { backboneCheckpoint, loadTorchWeights, WeightImportError } from './loader';
import type { SafetensorsFile, SafetensorsTensor } from './safetensors';

/**
 * A whole task model (backbones + head) as one PyTorch state dict — the naming of the `loupe_ddp` module
 * that trains it on a cluster (models/cluster):
 *   `backbone.<torchvision names>`            one backbone (a classifier, a shared coin regressor)
 *   `backbones.<input>.<torchvision names>`    a dual coin regressor's, per input (`backbones.front.conv1.weight`)
 *   `projection.weight|bias`, `head.weight|bias`   the Dense layers, torch's [out, in]
 */
export interface TaskCheckpointPart {
  backbone: Backbone;
  prefix: string;
}

/** Where each backbone of a task model sits in its state dict. */
export function taskCheckpointParts(model: tf.LayersModel): TaskCheckpointPart[] {
  const backbones = backbonesOf(model);
  return backbones.map((backbone) => {
    const layerPrefix = backbone.model.name.slice(0, backbone.model.name.lastIndexOf(backbone.kind === 'resnet18' ? 'resnet18' : 'mobilenetv3_small'));
    return { backbone, prefix: backbones.length === 1 ? 'backbone.' : `backbones.${layerPrefix.replace(/_$/, '')}.` };
  });
}

/** The head's Dense layers (projection, output) and their torch names. */
function headLayers(model: tf.LayersModel): { layer: tf.layers.Layer; torch: string }[] {
  const dense = model.layers.filter((l) => l.getClassName() === 'Dense');
  const output = model.layers[model.layers.length - 1]!;
  return dense.map((layer) => ({ layer, torch: layer === output ? 'head' : layer.name }));
}

/**
 * The model's weights as a torch state dict (float32; BatchNorm statistics included).
 * @example serializeSafetensors(await taskCheckpoint(trainable.model, { architecture: 'coin-regressor' }))
 */
export async function taskCheckpoint(model: tf.LayersModel, metadata: Record<string, string> = {}): Promise<SafetensorsFile> {
  const tensors = new Map<string, SafetensorsTensor>();
  for (const { backbone, prefix } of taskCheckpointParts(model)) {
    for (const [name, tensor] of (await backboneCheckpoint(backbone)).tensors) tensors.set(`${prefix}${name}`, tensor);
  }
  for (const { layer, torch } of headLayers(model)) {
    for (const param of PARAM_LAYOUTS.linear) {
      const variable = layer.weights.find((w) => w.originalName.endsWith(`/${param.tf}`));
      if (!variable) continue;
      const value = tf.tidy(() => (param.perm ? tf.transpose(variable.read(), [1, 0]) : variable.read().clone()));
      try {
        tensors.set(`${torch}.${param.torch}`, { dtype: 'F32', shape: value.shape, data: (await value.data()) as Float32Array });
      } finally {
        value.dispose();
      }
    }
  }
  return { metadata: { format: 'pt', ...metadata }, tensors };
}

/**
 * Loads a state dict in `taskCheckpoint`'s naming into a model of the same architecture. Every tensor is
 * checked (present, expected shape, float) before any is written; the error names each missing, unexpected
 * or mis-shaped tensor with both shapes.
 */
export function loadTaskCheckpoint(model: tf.LayersModel, file: SafetensorsFile): void {
  const parts = taskCheckpointParts(model);
  const problems: string[] = [];
  const writes: { variable: tf.LayerVariable; tensor: SafetensorsTensor; transpose: boolean }[] = [];
  const known = new Set<string>();
  for (const { layer, torch } of headLayers(model)) {
    for (const param of PARAM_LAYOUTS.linear) {
      const variable = layer.weights.find((w) => w.originalName.endsWith(`/${param.tf}`));
      if (!variable) continue;
      const name = `${torch}.${param.torch}`;
      known.add(name);
      const expected = torchShapeOf(variable.shape as number[], param.perm);
      const tensor = file.tensors.get(name);
      if (!tensor) problems.push(`missing tensor '${name}' (expected shape [${expected.join(', ')}])`);
      else if (tensor.shape.join() !== expected.join()) problems.push(`tensor '${name}' has shape [${tensor.shape.join(', ')}], expected [${expected.join(', ')}]`);
      else if (!(tensor.data instanceof Float32Array)) problems.push(`tensor '${name}' has dtype ${tensor.dtype}, expected a float dtype`);
      else writes.push({ variable, tensor, transpose: Boolean(param.perm) });
    }
  }
  for (const name of file.tensors.keys()) {
    if (!known.has(name) && !parts.some((p) => name.startsWith(p.prefix))) problems.push(`unexpected tensor '${name}' (this model has ${parts.map((p) => `${p.prefix}*`).join(', ')}, projection.*, head.*)`);
  }
  // The backbones' own checks (loadTorchWeights) run before anything is written, then each assigns.
  for (const { backbone, prefix } of parts) {
    try {
      loadTorchWeights(backbone, { ...file, tensors: new Map([...file.tensors].filter(([n]) => n.startsWith(prefix))) }, { prefix, naming: 'torchvision' });
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
    if (problems.length > 0) break;
  }
  if (problems.length > 0) throw new WeightImportError(`the weights do not fit this ${model.name} model: ${problems.join('; ')}`);
  for (const { variable, tensor, transpose } of writes) {
    const value = tf.tidy(() => {
      const t = tf.tensor(tensor.data, tensor.shape, 'float32');
      return transpose ? tf.transpose(t, [1, 0]) : t;
    });
    variable.write(value);
    value.dispose();
  }
}
