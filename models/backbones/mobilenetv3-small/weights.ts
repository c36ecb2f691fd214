import { layerName } from '../blocks';
import type { TorchModule, TorchModuleKind, TorchWeightMap, WeightNaming } from '../types';
import { blockLayout, MOBILENETV3_SMALL_BLOCKS } from './constants';

/** timm's `mobilenetv3_small_100` groups the same 11 blocks into stages of these depths (`blocks.s.j`). */
const TIMM_STAGE_DEPTHS = [1, 2, 3, 2, 3];

/** `blocks.s.j` of timm for our block `i` (0-based over `MOBILENETV3_SMALL_BLOCKS`). */
function timmBlock(i: number): string {
  let start = 0;
  for (const [stage, depth] of TIMM_STAGE_DEPTHS.entries()) {
    if (i < start + depth) return `blocks.${stage}.${i - start}`;
    start += depth;
  }
  throw new Error(`block ${i} is outside timm's stages`);
}

/**
 * Where each tensor of a torchvision `mobilenet_v3_small` (or timm `mobilenetv3_small_100`) state dict goes
 * in our backbone. Our layers are named after torchvision's modules; timm's names are translated.
 * @example mobileNetV3SmallWeightMap('', 'timm').modules[0] // { source: 'conv_stem', layer: 'features_0_0', kind: 'conv' }
 */
export function mobileNetV3SmallWeightMap(prefix: string, naming: WeightNaming): TorchWeightMap {
  const modules: TorchModule[] = [];
  const add = (torchvision: string, timm: string, kind: TorchModuleKind) =>
    modules.push({ source: naming === 'timm' ? timm : torchvision, layer: layerName(prefix, torchvision), kind });

  add('features.0.0', 'conv_stem', 'conv');
  add('features.0.1', 'bn1', 'batchnorm');
  MOBILENETV3_SMALL_BLOCKS.forEach((setting, i) => {
    const path = `features.${i + 1}.block`;
    const timm = timmBlock(i);
    const layout = blockLayout(setting);
    // timm's first block is a DepthwiseSeparableConv (no expansion): conv_dw/bn1, se, conv_pw/bn2.
    // The others are InvertedResiduals: conv_pw/bn1, conv_dw/bn2, se, conv_pwl/bn3.
    const separable = layout.expand === undefined;
    if (layout.expand !== undefined) {
      add(`${path}.${layout.expand}.0`, `${timm}.conv_pw`, 'conv');
      add(`${path}.${layout.expand}.1`, `${timm}.bn1`, 'batchnorm');
    }
    add(`${path}.${layout.depthwise}.0`, `${timm}.conv_dw`, 'depthwise');
    add(`${path}.${layout.depthwise}.1`, `${timm}.${separable ? 'bn1' : 'bn2'}`, 'batchnorm');
    if (layout.squeezeExcite !== undefined) {
      add(`${path}.${layout.squeezeExcite}.fc1`, `${timm}.se.conv_reduce`, 'conv');
      add(`${path}.${layout.squeezeExcite}.fc2`, `${timm}.se.conv_expand`, 'conv');
    }
    add(`${path}.${layout.project}.0`, `${timm}.${separable ? 'conv_pw' : 'conv_pwl'}`, 'conv');
    add(`${path}.${layout.project}.1`, `${timm}.${separable ? 'bn2' : 'bn3'}`, 'batchnorm');
  });
  const last = `features.${MOBILENETV3_SMALL_BLOCKS.length + 1}`;
  add(`${last}.0`, `blocks.${TIMM_STAGE_DEPTHS.length}.0.conv`, 'conv');
  add(`${last}.1`, `blocks.${TIMM_STAGE_DEPTHS.length}.0.bn1`, 'batchnorm');

  // torchvision's classifier is Linear-Hardswish-Dropout-Linear; timm's head is conv_head (+ bias) and classifier.
  const head = naming === 'timm' ? [/^conv_head\./, /^classifier\./] : [/^classifier\./];
  return { modules, ignore: [...head, /\.num_batches_tracked$/] };
}
