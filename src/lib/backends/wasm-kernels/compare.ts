// Comparisons (LessEqual, Greater, …) of a tensor with a scalar or with a tensor of its own size.
// tfjs-backend-wasm 4.22 runs every comparison through its generic broadcasting loop, which computes
// each element's index in both operands: ~8 ms for 1.2 M floats against a scalar, 20× a unary op. ReLU6's
// gradient compares every activation with 6 (`lessEqual(x, 6)`), so this was ~60 ms of a training step.
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { input, type Fallback, type KernelArgs } from './kernels';

/** The comparison kernels served here (all of tfjs's binary comparisons). */
export const COMPARISON_KERNELS = ['Less', 'LessEqual', 'Greater', 'GreaterEqual', 'Equal', 'NotEqual'] as const;
export type Comparison = (typeof COMPARISON_KERNELS)[number];

type Numbers = Float32Array | Int32Array;

// One loop per comparison and operand pattern, written out so that each stays monomorphic and the operator
// inline; `+(a <= b)` rather than `a <= b ? 1 : 0`, which V8 compiles to a branch (3× slower on mixed data).
const LOOPS: Record<Comparison, { both: (a: Numbers, b: Numbers, out: Uint8Array) => void; withScalar: (a: Numbers, s: number, out: Uint8Array) => void; scalarWith: (s: number, b: Numbers, out: Uint8Array) => void }> = {
  Less: {
    both: (a, b, out) => { for (let i = 0; i < out.length; i++) out[i] = +(a[i]! < b[i]!); },
    withScalar: (a, s, out) => { for (let i = 0; i < out.length; i++) out[i] = +(a[i]! < s); },
    scalarWith: (s, b, out) => { for (let i = 0; i < out.length; i++) out[i] = +(s < b[i]!); },
  },
  LessEqual: {
    both: (a, b, out) => { for (let i = 0; i < out.length; i++) out[i] = +(a[i]! <= b[i]!); },
    withScalar: (a, s, out) => { for (let i = 0; i < out.length; i++) out[i] = +(a[i]! <= s); },
    scalarWith: (s, b, out) => { for (let i = 0; i < out.length; i++) out[i] = +(s <= b[i]!); },
  },
  Greater: {
    both: (a, b, out) => { for (let i = 0; i < out.length; i++) out[i] = +(a[i]! > b[i]!); },
    withScalar: (a, s, out) => { for (let i = 0; i < out.length; i++) out[i] = +(a[i]! > s); },
    scalarWith: (s, b, out) => { for (let i = 0; i < out.length; i++) out[i] = +(s > b[i]!); },
  },
  GreaterEqual: {
    both: (a, b, out) => { for (let i = 0; i < out.length; i++) out[i] = +(a[i]! >= b[i]!); },
    withScalar: (a, s, out) => { for (let i = 0; i < out.length; i++) out[i] = +(a[i]! >= s); },
    scalarWith: (s, b, out) => { for (let i = 0; i < out.length; i++) out[i] = +(s >= b[i]!); },
  },
  Equal: {
    both: (a, b, out) => { for (let i = 0; i < out.length; i++) out[i] = +(a[i]! === b[i]!); },
    withScalar: (a, s, out) => { for (let i = 0; i < out.length; i++) out[i] = +(a[i]! === s); },
    scalarWith: (s, b, out) => { for (let i = 0; i < out.length; i++) out[i] = +(s === b[i]!); },
  },
  NotEqual: {
    both: (a, b, out) => { for (let i = 0; i < out.length; i++) out[i] = +(a[i]! !== b[i]!); },
    withScalar: (a, s, out) => { for (let i = 0; i < out.length; i++) out[i] = +(a[i]! !== s); },
    scalarWith: (s, b, out) => { for (let i = 0; i < out.length; i++) out[i] = +(s !== b[i]!); },
  },
};

const size = (t: TensorInfo) => t.shape.reduce((p, d) => p * d, 1);

/**
 * `kind` of float32 or int32 tensors of the same shape, or of a tensor and a one-element tensor whose
 * broadcast leaves the tensor's shape as it is; everything else (strings, bools, real broadcasting) goes
 * to `fallback`. NaN compares as in JavaScript, as the cpu backend does (only NotEqual is true).
 */
export function comparisonKernel(kind: Comparison, fallback: Fallback): KernelFunc {
  const loops = LOOPS[kind];
  return ((args: KernelArgs) => {
    const { backend } = args;
    const a = input(args.inputs, 'a');
    const b = input(args.inputs, 'b');
    if (a.dtype !== b.dtype || (a.dtype !== 'float32' && a.dtype !== 'int32')) return fallback(args);
    const sameShape = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
    // A one-element operand of lower or equal rank leaves the other's shape unchanged ([5] vs [1,1] would not).
    const bScalar = !sameShape && size(b) === 1 && b.shape.length <= a.shape.length;
    const aScalar = !sameShape && !bScalar && size(a) === 1 && a.shape.length <= b.shape.length;
    if (!sameShape && !aScalar && !bScalar) return fallback(args);
    const out = backend.makeOutput(aScalar ? b.shape : a.shape, 'bool');
    const result = backend.typedArrayFromHeap(out) as Uint8Array;
    const av = backend.typedArrayFromHeap(a) as Numbers;
    const bv = backend.typedArrayFromHeap(b) as Numbers;
    if (sameShape) loops.both(av, bv, result);
    else if (bScalar) loops.withScalar(av, bv[0]!, result);
    else loops.scalarWith(av[0]!, bv, result);
    return out;
  }) as unknown as KernelFunc;
}
