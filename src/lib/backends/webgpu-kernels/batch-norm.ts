// BatchNorm's training step (models/backbones/batch-norm.ts's kernels) on webgpu: per channel, a workgroup
// reduces the rows (N·H·W) to the batch statistics in one dispatch and a second dispatch normalizes; the
// gradient likewise (Σdy and Σdy·x̂ per channel, then dx). x is channels last: element i is channel i % C.
import type { TensorInfo } from '@tensorflow/tfjs';
import { ELEMENT, input, runElementwise, runShader, WORKGROUP, type Args, type Shader } from './run';

/** Sums `partial` over the workgroup into partial[0] (every thread calls it). */
const TREE = `for (var k = ${WORKGROUP / 2}u; k > 0u; k = k >> 1u) {
    if (lid < k) { partial[lid] = partial[lid] + partial[lid + k]; partial2[lid] = partial2[lid] + partial2[lid + k]; }
    workgroupBarrier();
  }`;
const PARTIALS = `var<workgroup> partial: array<f32, ${WORKGROUP}>;\nvar<workgroup> partial2: array<f32, ${WORKGROUP}>;`;

// Mean, then the biased variance around it (two passes, as tfjs's moments), and the moving statistics moved
// as Keras does: v − (v − batch)·(1 − momentum).
const STATISTICS: Shader = {
  key: 'loupe_batch_norm_statistics',
  inputs: ['x', 'movingMean', 'movingVariance'],
  outputs: ['mean', 'variance', 'newMean', 'newVariance'],
  uniforms: [['channels', 'u32'], ['rows', 'u32'], ['decay', 'f32']],
  declarations: PARTIALS,
  body: `let c = wid.x;
  let n = f32(u.rows);
  var s = 0.0;
  for (var r = lid; r < u.rows; r = r + ${WORKGROUP}u) { s = s + x[r * u.channels + c]; }
  partial[lid] = s;
  partial2[lid] = 0.0;
  workgroupBarrier();
  ${TREE}
  let mu = partial[0] / n;
  workgroupBarrier();
  var q = 0.0;
  for (var r = lid; r < u.rows; r = r + ${WORKGROUP}u) { let d = x[r * u.channels + c] - mu; q = q + d * d; }
  partial[lid] = q;
  workgroupBarrier();
  ${TREE}
  if (lid == 0u) {
    let v = partial[0] / n;
    mean[c] = mu;
    variance[c] = v;
    newMean[c] = movingMean[c] - (movingMean[c] - mu) * u.decay;
    newVariance[c] = movingVariance[c] - (movingVariance[c] - v) * u.decay;
  }`,
};

const NORMALIZE: Shader = {
  key: 'loupe_batch_norm_normalize',
  inputs: ['x', 'gamma', 'beta', 'mean', 'variance'],
  outputs: ['y'],
  uniforms: [['channels', 'u32'], ['epsilon', 'f32']],
  body: `${ELEMENT}
  let c = i % u.channels;
  y[i] = (x[i] - mean[c]) * inverseSqrt(variance[c] + u.epsilon) * gamma[c] + beta[c];`,
};

// dβ = Σdy, dγ = Σdy·x̂ per channel.
const GRADIENT_SUMS: Shader = {
  key: 'loupe_batch_norm_gradient_sums',
  inputs: ['x', 'dy', 'mean', 'variance'],
  outputs: ['dgamma', 'dbeta'],
  uniforms: [['channels', 'u32'], ['rows', 'u32'], ['epsilon', 'f32']],
  declarations: PARTIALS,
  body: `let c = wid.x;
  let mu = mean[c];
  let inv = inverseSqrt(variance[c] + u.epsilon);
  var sdy = 0.0;
  var sdyx = 0.0;
  for (var r = lid; r < u.rows; r = r + ${WORKGROUP}u) {
    let j = r * u.channels + c;
    sdy = sdy + dy[j];
    sdyx = sdyx + dy[j] * (x[j] - mu) * inv;
  }
  partial[lid] = sdy;
  partial2[lid] = sdyx;
  workgroupBarrier();
  ${TREE}
  if (lid == 0u) { dbeta[c] = partial[0]; dgamma[c] = partial2[0]; }`,
};

// dx = γ·inv·(dy − dβ/N − x̂·dγ/N): the gradient through the batch statistics too.
const GRADIENT_INPUT: Shader = {
  key: 'loupe_batch_norm_gradient_input',
  inputs: ['x', 'dy', 'gamma', 'mean', 'variance', 'dgamma', 'dbeta'],
  outputs: ['dx'],
  uniforms: [['channels', 'u32'], ['rows', 'u32'], ['epsilon', 'f32']],
  body: `${ELEMENT}
  let c = i % u.channels;
  let n = f32(u.rows);
  let inv = inverseSqrt(variance[c] + u.epsilon);
  let xhat = (x[i] - mean[c]) * inv;
  dx[i] = gamma[c] * inv * (dy[i] - dbeta[c] / n - xhat * dgamma[c] / n);`,
};

function layout(x: TensorInfo): { channels: number; rows: number } {
  const channels = x.shape[x.shape.length - 1] ?? 1;
  return { channels, rows: x.shape.reduce((a, b) => a * b, 1) / channels };
}

/** `LoupeBatchNormTraining`: outputs y, mean, variance, new moving mean, new moving variance. */
export function batchNormTraining(args: Args): TensorInfo[] {
  const [x, gamma, beta, movingMean, movingVariance] = ['x', 'gamma', 'beta', 'movingMean', 'movingVariance'].map((name) => input(args, name)) as [TensorInfo, TensorInfo, TensorInfo, TensorInfo, TensorInfo];
  const { epsilon, momentum } = args.attrs as { epsilon: number; momentum: number };
  const { channels, rows } = layout(x);
  const statistics = runShader(args.backend, STATISTICS, [x, movingMean, movingVariance], [[channels], [channels], [channels], [channels]], channels, [channels, rows, 1 - momentum], channels);
  const [mean, variance] = statistics as [TensorInfo, TensorInfo];
  const [y] = runElementwise(args.backend, NORMALIZE, [x, gamma, beta, mean, variance], x.shape, [channels, epsilon]);
  return [y!, ...statistics];
}

/** `LoupeBatchNormTrainingGrad`: outputs dx, dγ, dβ. */
export function batchNormTrainingGrad(args: Args): TensorInfo[] {
  const [x, dy, gamma, mean, variance] = ['x', 'dy', 'gamma', 'mean', 'variance'].map((name) => input(args, name)) as [TensorInfo, TensorInfo, TensorInfo, TensorInfo, TensorInfo];
  const { epsilon } = args.attrs as { epsilon: number };
  const { channels, rows } = layout(x);
  const [dgamma, dbeta] = runShader(args.backend, GRADIENT_SUMS, [x, dy, mean, variance], [[channels], [channels]], channels, [channels, rows, epsilon], channels) as [TensorInfo, TensorInfo];
  const [dx] = runElementwise(args.backend, GRADIENT_INPUT, [x, dy, gamma, mean, variance, dgamma, dbeta], x.shape, [channels, rows, epsilon]);
  return [dx!, dgamma, dbeta];
}
