import type { TorchModuleKind } from '../backbones/types';

/** One torch parameter of a module, the tfjs weight it becomes, and how its axes move. */
export interface ParamLayout {
  /** torch parameter name: `weight`, `bias`, `running_mean`, … */
  torch: string;
  /** tfjs weight name inside the layer: `kernel`, `gamma`, … */
  tf: string;
  /** tfjs axis i is torch axis perm[i]; undefined when the layouts agree. */
  perm?: number[];
  /** Present only when the tfjs layer has the weight (a conv's bias). */
  optional?: boolean;
}

/**
 * How a torch module's parameters land in tfjs, per module kind:
 * conv OIHW → HWIO; depthwise O1HW → HW(I=O)1; linear [out, in] → [in, out]; BatchNorm as is.
 */
export const PARAM_LAYOUTS: Record<TorchModuleKind, ParamLayout[]> = {
  conv: [
    { torch: 'weight', tf: 'kernel', perm: [2, 3, 1, 0] },
    { torch: 'bias', tf: 'bias', optional: true },
  ],
  depthwise: [{ torch: 'weight', tf: 'depthwise_kernel', perm: [2, 3, 0, 1] }],
  linear: [
    { torch: 'weight', tf: 'kernel', perm: [1, 0] },
    { torch: 'bias', tf: 'bias', optional: true },
  ],
  batchnorm: [
    { torch: 'weight', tf: 'gamma' },
    { torch: 'bias', tf: 'beta' },
    { torch: 'running_mean', tf: 'moving_mean' },
    { torch: 'running_var', tf: 'moving_variance' },
  ],
};

/** The torch shape of a tfjs weight of the given shape: the inverse of the permutation. */
export function torchShapeOf(tfShape: readonly number[], perm?: readonly number[]): number[] {
  if (!perm) return [...tfShape];
  const torchShape = new Array<number>(tfShape.length);
  perm.forEach((torchAxis, tfAxis) => {
    torchShape[torchAxis] = tfShape[tfAxis]!;
  });
  return torchShape;
}
