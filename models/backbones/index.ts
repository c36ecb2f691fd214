import type * as tf from '@tensorflow/tfjs';
import { createMobileNetV3Small } from './mobilenetv3-small/model';
import { mobileNetV3SmallWeightMap } from './mobilenetv3-small/weights';
import { createResNet18 } from './resnet18/model';
import { resnet18WeightMap } from './resnet18/weights';
import { BACKBONE_KINDS, type Backbone, type BackboneKind, type BackboneOptions, type TorchWeightMap, type WeightNaming } from './types';

export { BACKBONE_KINDS } from './types';
export type { Backbone, BackboneKind, BackboneOptions, TorchModule, TorchWeightMap, WeightNaming } from './types';
export { IMAGENET_MEAN, IMAGENET_STD, normalizeImageNet } from './preprocess';

export class UnknownBackboneError extends Error {
  override name = 'UnknownBackboneError';
}

/**
 * Builds a backbone by name. Weights are freshly initialized; import torchvision's with `loadTorchWeights`.
 * @example const backbone = createBackbone('resnet18', { inputSize: 128 });
 */
export function createBackbone(kind: BackboneKind, options: BackboneOptions = {}): Backbone {
  switch (kind) {
    case 'resnet18':
      return createResNet18(options);
    case 'mobilenetv3-small':
      return createMobileNetV3Small(options);
    default: {
      // Compile-time exhaustiveness; at run time `kind` may still come from untyped JSON.
      const unknown: never = kind;
      throw new UnknownBackboneError(`unknown backbone ${JSON.stringify(unknown)}; valid kinds: ${BACKBONE_KINDS.join(', ')}`);
    }
  }
}

/** Whether a string names a backbone. */
export function isBackboneKind(kind: unknown): kind is BackboneKind {
  return typeof kind === 'string' && (BACKBONE_KINDS as readonly string[]).includes(kind);
}

/** Where a checkpoint's tensors go in a backbone of this kind whose layers carry `prefix`. */
export function backboneWeightMap(kind: BackboneKind, prefix: string, naming: WeightNaming): TorchWeightMap {
  return kind === 'resnet18' ? resnet18WeightMap(prefix, naming) : mobileNetV3SmallWeightMap(prefix, naming);
}

/** The name a backbone's nested model gets (`createResNet18` and `createMobileNetV3Small` use it). */
const MODEL_NAMES: Record<BackboneKind, string> = { resnet18: 'resnet18', 'mobilenetv3-small': 'mobilenetv3_small' };

/**
 * The backbones nested in a task model, fresh or loaded from model.json, found by their model names
 * (`front_mobilenetv3_small`): what first weights are loaded into and what fine-tuning freezes.
 * @example backbonesOf(createCoinRegressor({ backbone: 'resnet18', mode: 'dual' }).model).length // 2
 */
export function backbonesOf(model: tf.LayersModel): Backbone[] {
  const found: Backbone[] = [];
  for (const layer of model.layers) {
    const nested = layer as tf.LayersModel;
    if (!Array.isArray(nested.layers)) continue;
    const kind = BACKBONE_KINDS.find((k) => layer.name.endsWith(MODEL_NAMES[k]));
    if (!kind) continue;
    const prefix = layer.name.slice(0, -MODEL_NAMES[kind].length);
    const input = nested.inputs[0]!.shape;
    found.push({
      kind,
      model: nested,
      inputSize: input[1] as number,
      featureDim: nested.outputs[0]!.shape[1] as number,
      weightMap: (naming) => backboneWeightMap(kind, prefix, naming),
    });
  }
  return found;
}
