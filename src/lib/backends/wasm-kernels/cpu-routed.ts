import { engine, getKernel, type KernelBackend, type NamedAttrMap, type NamedTensorInfoMap, type TensorInfo } from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type DataId = TensorInfo['dataId'];

/**
 * Runs a kernel that the wasm backend lacks through the cpu backend's implementation: copies the inputs
 * out of the wasm heap, runs tfjs's cpu kernel, copies the result back. This is the generic fallback
 * (tensorflow/tfjs#5180) and the "before" of the benchmarks; the kernels in this folder replace it for
 * training. Throws when the cpu backend has no such kernel either.
 */
export function runOnCpu(kernelName: string, inputs: NamedTensorInfoMap, wasm: BackendWasm, attrs: NamedAttrMap | undefined): TensorInfo {
  const cpu = engine().findBackend('cpu') as KernelBackend | null;
  const kernel = getKernel(kernelName, 'cpu');
  if (!cpu || !kernel) throw new Error(`Kernel '${kernelName}' is missing on wasm and cannot fall back to cpu (no cpu kernel).`);
  const written: DataId[] = [];
  try {
    const cpuInputs: NamedTensorInfoMap = {};
    for (const [name, t] of Object.entries(inputs)) {
      if (!t) continue;
      const dataId = cpu.write(wasm.readSync(t.dataId), t.shape, t.dtype);
      written.push(dataId);
      cpuInputs[name] = { dataId, shape: t.shape, dtype: t.dtype };
    }
    const result = kernel.kernelFunc({ inputs: cpuInputs, backend: cpu, attrs: attrs ?? {} });
    if (Array.isArray(result)) throw new Error(`runOnCpu supports single-output kernels only ('${kernelName}').`);
    written.push(result.dataId);
    return wasm.makeOutput(result.shape, result.dtype, undefined, cpu.readSync(result.dataId));
  } finally {
    for (const dataId of written) cpu.disposeData(dataId, true);
  }
}
