import * as tf from '@tensorflow/tfjs';
import { HardSigmoid, HardSwish, LoupeReLU, type BatchNormActivation } from './activations';
import { LoupeBatchNormalization } from './batch-norm';
import { LoupeConv2D, LoupeDepthwiseConv2D } from './conv';
import './mean-gradient'; // tfjs's Mean gradient without its full-size ones (global average pooling)
import { BACKBONE_KINDS } from './types';

/** What every layer of one backbone shares: its name prefix, BatchNorm settings and a seed sequence. */
export interface BlockContext {
  prefix: string;
  /** BatchNorm epsilon, as in torch. */
  epsilon: number;
  /** torch's BatchNorm momentum; tfjs's is 1 − it (torch weighs the new batch, tfjs the running value). */
  torchMomentum: number;
  nextSeed(): number;
}

export function blockContext(prefix: string, seed: number, epsilon: number, torchMomentum: number): BlockContext {
  let next = seed;
  return { prefix, epsilon, torchMomentum, nextSeed: () => next++ };
}

/** Our layer name for a torch module path: `layer1.0.conv1` → `layer1_0_conv1` (plus the prefix). */
export function layerName(prefix: string, torchPath: string): string {
  return prefix + torchPath.replaceAll('.', '_');
}

/** Checks the input size both backbones accept: a multiple of 32, at least 32. */
export function checkInputSize(inputSize: number): void {
  if (!Number.isInteger(inputSize) || inputSize < 32 || inputSize % 32 !== 0) {
    throw new RangeError(`inputSize must be a multiple of 32 and ≥ 32 (${BACKBONE_KINDS.join(', ')} downsample 32×), got ${inputSize}`);
  }
}

// torchvision initializes convs with kaiming_normal_(mode='fan_out'); tfjs's closest is He-normal on fan-out.
function heNormalFanOut(ctx: BlockContext): ReturnType<typeof tf.initializers.varianceScaling> {
  return tf.initializers.varianceScaling({ scale: 2, mode: 'fanOut', distribution: 'normal', seed: ctx.nextSeed() });
}

/**
 * torch's `padding=k // 2` for a conv, where tfjs's 'same' would differ from it.
 *
 * Why: torch pads `k // 2` on every side; tfjs's 'same' with stride 2 on an even size pads only the
 * bottom/right (total k − 2), which shifts every sampling position by one pixel. A strided conv pads
 * symmetrically itself (conv.ts); stride 1 with an odd kernel is 'same'.
 */
function torchPadding(kernelSize: number, strides: number): { padding: 'same' | 'valid'; symmetricPadding?: number } {
  if (kernelSize === 1) return { padding: 'valid' };
  if (strides === 1) return { padding: 'same' };
  return { padding: 'valid', symmetricPadding: Math.floor(kernelSize / 2) };
}

export interface ConvArgs {
  /** torch module path, e.g. `layer1.0.conv1`. */
  path: string;
  filters: number;
  kernelSize: number;
  strides?: number;
  /** torch convs followed by BatchNorm have none; SE convs have one. */
  useBias?: boolean;
}

/** `nn.Conv2d(…, kernel_size=k, stride=s, padding=k // 2)`. */
export function conv2d(x: tf.SymbolicTensor, ctx: BlockContext, args: ConvArgs): tf.SymbolicTensor {
  const strides = args.strides ?? 1;
  const layer = new LoupeConv2D({
    filters: args.filters,
    kernelSize: args.kernelSize,
    strides,
    ...torchPadding(args.kernelSize, strides),
    useBias: args.useBias ?? false,
    kernelInitializer: heNormalFanOut(ctx),
    name: layerName(ctx.prefix, args.path),
  });
  return layer.apply(x) as tf.SymbolicTensor;
}

/** `nn.Conv2d(c, c, k, stride=s, padding=k // 2, groups=c, bias=False)`. */
export function depthwiseConv2d(x: tf.SymbolicTensor, ctx: BlockContext, args: Omit<ConvArgs, 'filters' | 'useBias'>): tf.SymbolicTensor {
  const strides = args.strides ?? 1;
  const layer = new LoupeDepthwiseConv2D({
    kernelSize: args.kernelSize,
    strides,
    ...torchPadding(args.kernelSize, strides),
    depthMultiplier: 1,
    useBias: false,
    depthwiseInitializer: heNormalFanOut(ctx),
    name: layerName(ctx.prefix, args.path),
  });
  return layer.apply(x) as tf.SymbolicTensor;
}

/**
 * `nn.BatchNorm2d` with the backbone's epsilon and momentum, and the activation module after it where
 * given: one layer named after the BatchNorm (the activation has no weights), which trains as one kernel
 * each way on wasm.
 */
export function batchNorm(x: tf.SymbolicTensor, ctx: BlockContext, path: string, activation?: BatchNormActivation): tf.SymbolicTensor {
  const layer = new LoupeBatchNormalization({ axis: -1, epsilon: ctx.epsilon, momentum: 1 - ctx.torchMomentum, activation, name: layerName(ctx.prefix, path) });
  return layer.apply(x) as tf.SymbolicTensor;
}

export type ActivationKind = 'relu' | 'hardswish' | 'hardsigmoid';

/** An activation layer named after its torch module, so the graph reads like `print(model)` in torch. */
export function activation(x: tf.SymbolicTensor, ctx: BlockContext, kind: ActivationKind, path: string): tf.SymbolicTensor {
  const name = layerName(ctx.prefix, path);
  const layer =
    kind === 'relu' ? new LoupeReLU({ name }) : kind === 'hardswish' ? new HardSwish({ name }) : new HardSigmoid({ name });
  return layer.apply(x) as tf.SymbolicTensor;
}

/** `nn.AdaptiveAvgPool2d(1)` + `flatten(1)`: [batch, h, w, c] → [batch, c]. */
export function globalAveragePool(x: tf.SymbolicTensor, ctx: BlockContext, path: string): tf.SymbolicTensor {
  return tf.layers.globalAveragePooling2d({ name: layerName(ctx.prefix, path) }).apply(x) as tf.SymbolicTensor;
}
