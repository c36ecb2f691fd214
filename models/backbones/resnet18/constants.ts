/** torchvision's `resnet18`: four stages of two BasicBlocks. */
export const RESNET18_STAGES = [
  { name: 'layer1', filters: 64, strides: 1 },
  { name: 'layer2', filters: 128, strides: 2 },
  { name: 'layer3', filters: 256, strides: 2 },
  { name: 'layer4', filters: 512, strides: 2 },
] as const;
export const RESNET18_BLOCKS_PER_STAGE = 2;
/** Width of the pooled features (torchvision's `fc.in_features`). */
export const RESNET18_FEATURES = 512;
/** torchvision's BatchNorm2d defaults. */
export const RESNET18_BN_EPSILON = 1e-5;
export const RESNET18_BN_TORCH_MOMENTUM = 0.1;

/** A block has a projection shortcut (`downsample`) where it changes the resolution or the width. */
export function hasDownsample(stageIndex: number, block: number): boolean {
  return block === 0 && stageIndex > 0;
}
