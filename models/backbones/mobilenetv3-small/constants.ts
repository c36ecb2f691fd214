/** One row of torchvision's `_mobilenet_v3_conf('mobilenet_v3_small')` (Table 2 of the MobileNetV3 paper). */
export interface InvertedResidualSetting {
  inputChannels: number;
  kernelSize: number;
  expandedChannels: number;
  outputChannels: number;
  squeezeExcite: boolean;
  activation: 'relu' | 'hardswish';
  strides: 1 | 2;
}

function row(
  inputChannels: number,
  kernelSize: number,
  expandedChannels: number,
  outputChannels: number,
  squeezeExcite: boolean,
  activation: 'RE' | 'HS',
  strides: 1 | 2,
): InvertedResidualSetting {
  return { inputChannels, kernelSize, expandedChannels, outputChannels, squeezeExcite, activation: activation === 'RE' ? 'relu' : 'hardswish', strides };
}

/** `features.1` … `features.11`, width multiplier 1.0 (every width is already a multiple of 8). */
export const MOBILENETV3_SMALL_BLOCKS: readonly InvertedResidualSetting[] = [
  row(16, 3, 16, 16, true, 'RE', 2),
  row(16, 3, 72, 24, false, 'RE', 2),
  row(24, 3, 88, 24, false, 'RE', 1),
  row(24, 5, 96, 40, true, 'HS', 2),
  row(40, 5, 240, 40, true, 'HS', 1),
  row(40, 5, 240, 40, true, 'HS', 1),
  row(40, 5, 120, 48, true, 'HS', 1),
  row(48, 5, 144, 48, true, 'HS', 1),
  row(48, 5, 288, 96, true, 'HS', 2),
  row(96, 5, 576, 96, true, 'HS', 1),
  row(96, 5, 576, 96, true, 'HS', 1),
];
export const MOBILENETV3_SMALL_STEM_CHANNELS = 16;
/** `features.12`: 6 × the last block's width; also the width of the pooled features. */
export const MOBILENETV3_SMALL_FEATURES = 6 * 96;
/** torchvision: `partial(nn.BatchNorm2d, eps=0.001, momentum=0.01)`. */
export const MOBILENETV3_BN_EPSILON = 1e-3;
export const MOBILENETV3_BN_TORCH_MOMENTUM = 0.01;

/** torchvision's (and TF-slim's) `_make_divisible`: round to a multiple of `divisor`, never down by > 10 %. */
export function makeDivisible(value: number, divisor = 8, minValue = divisor): number {
  let rounded = Math.max(minValue, Math.floor((value + divisor / 2) / divisor) * divisor);
  if (rounded < 0.9 * value) rounded += divisor;
  return rounded;
}

/** Width of the squeeze-excite bottleneck: `_make_divisible(expanded // 4, 8)`. */
export function squeezeChannels(expandedChannels: number): number {
  return makeDivisible(Math.floor(expandedChannels / 4), 8);
}

/** The sub-module indices inside `features.i.block` (torchvision numbers them in order of presence). */
export function blockLayout(setting: InvertedResidualSetting): { expand?: number; depthwise: number; squeezeExcite?: number; project: number } {
  let next = 0;
  const expand = setting.expandedChannels !== setting.inputChannels ? next++ : undefined;
  const depthwise = next++;
  const squeezeExcite = setting.squeezeExcite ? next++ : undefined;
  const project = next++;
  return { expand, depthwise, squeezeExcite, project };
}
