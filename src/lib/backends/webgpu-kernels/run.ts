/// <reference types="@webgpu/types" />
// One WGSL shader with several inputs and outputs, recorded into tfjs-backend-webgpu's own command stream.
// tfjs's `runWebGPUProgram` writes one output per dispatch, so a kernel with three outputs (Adam's value, m
// and v) would cost a dispatch per output; this records one dispatch for all of them the way its
// `recordAndSubmit` does (tfjs-backend-webgpu 4.22, pinned: these members are internal there).
import { env, type DataId, type DataType, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs';

/** The members of tfjs-backend-webgpu 4.22's `WebGPUBackend` this module uses. */
export interface WebGpuBackendInternals {
  device: GPUDevice;
  tensorMap: { get(dataId: DataId): { resource?: unknown } };
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  dispatchCountInPass: number;
  commandQueueOwnedIds: WeakSet<DataId>;
  makeTensorInfo(shape: number[], dtype: DataType): TensorInfo;
  uploadToGPU(dataId: DataId): void;
  makeUniforms(uniforms: { type: 'float32' | 'uint32'; data: number[] }[]): GPUBufferBinding;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/**
 * A shader over float32 arrays: `body` reads the inputs, the uniforms `u.size` (u32), `u.<name>` and the
 * builtins `id`, `groups`, `wid`, `lid` (workgroups of WORKGROUP threads), and writes the outputs.
 */
export interface Shader {
  key: string;
  inputs: readonly string[];
  outputs: readonly string[];
  /** Uniforms after `size`: name and WGSL type. */
  uniforms: readonly (readonly [string, 'u32' | 'f32'])[];
  /** Module-scope declarations (workgroup arrays). */
  declarations?: string;
  body: string;
}

export const WORKGROUP = 64;
/** WebGPU's default `maxStorageBuffersPerShaderStage`: more and the pipeline fails to compile. */
const MAX_STORAGE_BUFFERS = 8;
const MAX_WORKGROUPS_PER_DIMENSION = 65535;
const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

function wgsl(shader: Shader): string {
  const outputs = shader.outputs.map((name, i) => `@group(0) @binding(${i}) var<storage, read_write> ${name}: array<f32>;`);
  const inputs = shader.inputs.map((name, i) => `@group(0) @binding(${shader.outputs.length + i}) var<storage, read> ${name}: array<f32>;`);
  const fields = ['size: u32', ...shader.uniforms.map(([name, type]) => `${name}: ${type}`)].join(', ');
  return `${outputs.join('\n')}
${inputs.join('\n')}
struct Uniforms { ${fields} }
@group(0) @binding(${shader.outputs.length + shader.inputs.length}) var<uniform> u: Uniforms;
${shader.declarations ?? ''}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) id: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>,
        @builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  ${shader.body}
}`;
}

function pipelineFor(device: GPUDevice, shader: Shader): GPUComputePipeline {
  let cache = pipelines.get(device);
  if (!cache) pipelines.set(device, (cache = new Map()));
  let pipeline = cache.get(shader.key);
  if (!pipeline) {
    const module = device.createShaderModule({ label: shader.key, code: wgsl(shader) });
    pipeline = device.createComputePipeline({ label: shader.key, layout: 'auto', compute: { module, entryPoint: 'main' } });
    cache.set(shader.key, pipeline);
  }
  return pipeline;
}

/**
 * Runs `shader` in one dispatch of `workgroups` workgroups (in rows of at most 65,535): `inputs` in the
 * shader's order (float32), a new float32 tensor per output shape, `size` then `uniforms` as the shader's.
 */
export function runShader(
  backend: WebGpuBackendInternals,
  shader: Shader,
  inputs: readonly TensorInfo[],
  outputShapes: readonly number[][],
  size: number,
  uniforms: readonly number[],
  workgroups: number,
): TensorInfo[] {
  if (shader.inputs.length + shader.outputs.length > MAX_STORAGE_BUFFERS) throw new Error(`${shader.key} binds more than ${MAX_STORAGE_BUFFERS} storage buffers`);
  const outputs = outputShapes.map((shape) => backend.makeTensorInfo([...shape], 'float32'));
  if (size === 0) return outputs;
  // Uploads may end the compute pass (a staging copy), so they come before this dispatch's pass.
  for (const t of [...outputs, ...inputs]) backend.uploadToGPU(t.dataId);
  const pipeline = pipelineFor(backend.device, shader);
  const buffer = (t: TensorInfo) => ({ buffer: backend.tensorMap.get(t.dataId).resource as GPUBuffer });
  const uniform = backend.makeUniforms([
    { type: 'uint32', data: [size] },
    ...shader.uniforms.map(([, type], i) => ({ type: type === 'u32' ? ('uint32' as const) : ('float32' as const), data: [uniforms[i]!] })),
  ]);
  const bindGroup = backend.device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [...outputs.map(buffer), ...inputs.map(buffer), uniform].map((resource, binding) => ({ binding, resource })),
  });
  for (const t of [...inputs, ...outputs]) backend.commandQueueOwnedIds.add(t.dataId);
  backend.ensureCommandEncoderReady();
  backend.computePassEncoder ??= backend.commandEncoder!.beginComputePass({});
  const rows = Math.ceil(workgroups / MAX_WORKGROUPS_PER_DIMENSION);
  backend.computePassEncoder.setPipeline(pipeline);
  backend.computePassEncoder.setBindGroup(0, bindGroup);
  backend.computePassEncoder.dispatchWorkgroups(Math.ceil(workgroups / rows), rows);
  backend.dispatchCountInPass++;
  if (env().getNumber('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') <= backend.dispatchCountInPass) {
    backend.endComputePassEncoder();
    backend.submitQueue();
  }
  return outputs;
}

/** The flat index of an element-wise shader's thread; threads past `u.size` return. */
export const ELEMENT = `let i = id.x + id.y * groups.x * ${WORKGROUP}u;
  if (i >= u.size) { return; }`;

/** `runShader` over `shape`'s elements, a thread each, every output of that shape. */
export function runElementwise(backend: WebGpuBackendInternals, shader: Shader, inputs: readonly TensorInfo[], shape: readonly number[], uniforms: readonly number[]): TensorInfo[] {
  const size = shape.reduce((a, b) => a * b, 1);
  return runShader(backend, shader, inputs, shader.outputs.map(() => [...shape]), size, uniforms, Math.ceil(size / WORKGROUP));
}

/** A kernel function's arguments on this backend. */
export interface Args {
  inputs: Record<string, TensorInfo | undefined>;
  backend: WebGpuBackendInternals;
  attrs: NamedAttrMap;
}

/** The float32 input `name` of a kernel call (a clear error naming it otherwise). */
export function input(args: Args, name: string): TensorInfo {
  const t = args.inputs[name];
  if (!t) throw new Error(`missing input '${name}'`);
  if (t.dtype !== 'float32') throw new Error(`input '${name}' must be float32, got ${t.dtype}`);
  return t;
}

