import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { backpropFilterInfo, conv2dBackpropFilter } from './conv2d-backprop-filter';

interface CpuBackendLike {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

const registered = new Set<string>();

/**
 * Replaces the cpu backend's `Conv2DBackpropFilter` with the cache-friendly kernel above (the
 * reference one took 58 % of a MobileNetV3 training step). NCHW inputs keep the reference kernel.
 */
export function registerFastCpuKernels(): void {
  if (registered.has('cpu')) return;
  const reference = tf.getKernel('Conv2DBackpropFilter', 'cpu');
  if (!reference) return; // cpu backend not loaded here
  const kernelFunc: KernelFunc = (args) => {
    const { inputs, backend, attrs } = args as unknown as {
      inputs: { x: TensorInfo; dy: TensorInfo };
      backend: CpuBackendLike;
      attrs: Parameters<typeof backpropFilterInfo>[1];
    };
    if (attrs.dataFormat === 'NCHW') return reference.kernelFunc(args);
    const info = backpropFilterInfo(inputs.x.shape, attrs);
    const x = backend.data.get(inputs.x.dataId).values as Float32Array;
    const dy = backend.data.get(inputs.dy.dataId).values as Float32Array;
    return backend.makeTensorInfo([...attrs.filterShape], 'float32', conv2dBackpropFilter(x, dy, info));
  };
  tf.unregisterKernel('Conv2DBackpropFilter', 'cpu');
  tf.registerKernel({ ...reference, kernelFunc } as KernelConfig);
  registered.add('cpu');
}
