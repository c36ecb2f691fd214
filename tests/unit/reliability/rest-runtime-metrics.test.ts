import * as tf from '@tensorflow/tfjs';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { describe, expect, it } from 'vitest';
import { formatExposition } from '../../../src/lib/monitoring/prometheus';
import { formatInferenceMemory, inferenceMemoryText } from '../../../src/lib/serving/runtime-metrics';
import type { Predictor } from '../../../src/lib/serving/types';
import { InferenceService } from '../../../src/lib/workers/inference-service';
import { makeDb } from '../factories';
import { addVersion } from '../serving/fakes';

/** Issue #13, soak: the inference worker's tensors are readable from `GET api/metrics`. */
describe('the inference worker memory in api/metrics', () => {
  it('reports tf.memory() of the worker and the models it holds, and what a model frees on unload', async () => {
    await tf.setBackend('cpu');
    const loader = async (): Promise<Predictor> => {
      const weights = tf.ones([4, 8]);
      return {
        task: 'text-classification',
        backend: 'cpu',
        predict: async (inputs) => inputs.map(() => ({ kind: 'classification', label: 'neutral', index: 1, score: 1, probabilities: [0, 1, 0] })),
        dispose: async () => weights.dispose(),
      };
    };
    const service = new InferenceService(loader);
    const before = await service.memory();
    const { key } = await service.loadModel(await addVersion(makeDb(), 'sentiment', 1), 'cpu');
    await expect(service.memory()).resolves.toEqual({ numTensors: before.numTensors + 1, numBytes: before.numBytes + 4 * 8 * 4, models: before.models + 1 });
    await service.unloadModel(key);
    await expect(service.memory()).resolves.toEqual(before);
  });

  it('appends gauges that a real Prometheus parser reads after monitoring\'s families', () => {
    const text =
      formatExposition({ totals: [], production: { sentiment: 1 }, drift: [], evaluations: [], firing: [] }) +
      formatInferenceMemory({ numTensors: 3, numBytes: 2_097_152, models: 1 });
    const families = Object.fromEntries(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
    expect(families.loupe_inference_worker_tensors).toMatchObject({ type: 'GAUGE', metrics: [{ value: '3' }] });
    expect(families.loupe_inference_worker_tensor_bytes).toMatchObject({ type: 'GAUGE', metrics: [{ value: '2097152' }] });
    expect(families.loupe_inference_worker_models).toMatchObject({ type: 'GAUGE', metrics: [{ value: '1' }] });
    expect(families.loupe_production_version).toBeDefined();
  });

  it('never starts the worker to be scraped, and leaves the gauges out when it cannot answer', async () => {
    let reads = 0;
    const read = async () => {
      reads++;
      return { numTensors: 1, numBytes: 4, models: 1 };
    };
    await expect(inferenceMemoryText(() => false, read)).resolves.toBe('');
    expect(reads).toBe(0);
    await expect(inferenceMemoryText(() => true, read)).resolves.toMatch(/^loupe_inference_worker_tensors 1$/m);
    await expect(inferenceMemoryText(() => true, () => Promise.reject(new Error('The inference worker stopped unexpectedly')))).resolves.toBe('');
  });
});
