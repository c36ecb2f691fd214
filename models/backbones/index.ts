import { createMobileNetV3Small } from './mobilenetv3-small/model';
import { createResNet18 } from './resnet18/model';
import { BACKBONE_KINDS, type Backbone, type BackboneKind, type BackboneOptions } from './types';

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
