import * as tf from '@tensorflow/tfjs';
import { startWasm } from './bench/env';
import { registerWasmTrainingKernels } from '../src/lib/backends/wasm-kernels/index';
import { setThreadSpawner } from '../src/lib/backends/wasm-kernels/simd/threads';
import { createModel, coinYearLoss } from '../models/index';
import { adam } from '../src/lib/training/adam';
await startWasm(Number(process.argv[2] ?? 2));
if (process.argv[3] === 'off') setThreadSpawner(null);
registerWasmTrainingKernels({});
const { model } = createModel({ task: 'coin-year', backbone: 'mobilenetv3-small', mode: 'dual', inputSize: 128, seed: 1 });
const loss = coinYearLoss('huber'); const opt = adam(1e-3);
const f = tf.randomNormal([16,128,128,3], 0, 1, 'float32', 1), b = tf.randomNormal([16,128,128,3], 0, 1, 'float32', 2), y = tf.randomNormal([16,1], 0, 1, 'float32', 3);
const out = [];
for (let i = 0; i < 10; i++) {
  const t = performance.now();
  const v = opt.minimize(() => loss(y, model.apply([f, b], { training: true }) as tf.Tensor), true)!;
  const l = v.dataSync()[0]; v.dispose();
  out.push(`${Math.round(performance.now() - t)}(${l.toFixed(4)})`);
}
console.log(process.argv.slice(2).join(' '), out.join(' '), tf.memory().numTensors);
