import type { InferenceMemory } from './types';

/**
 * The inference worker's memory as Prometheus gauges, appended to `GET api/metrics`: a soak (or an
 * operator) watches `loupe_inference_worker_tensors` stay flat while predictions stream through.
 */

/** The gauges' exposition text (format 0.0.4); empty when the worker is not running. */
export function formatInferenceMemory(memory: InferenceMemory | undefined): string {
  if (!memory) return '';
  const gauge = (name: string, help: string, value: number) => `# HELP ${name} ${help}\n# TYPE ${name} gauge\n${name} ${value}\n`;
  return (
    gauge('loupe_inference_worker_tensors', 'Tensors alive in the inference worker (tf.memory().numTensors).', memory.numTensors) +
    gauge('loupe_inference_worker_tensor_bytes', 'Bytes held by those tensors (tf.memory().numBytes).', memory.numBytes) +
    gauge('loupe_inference_worker_models', 'Model versions loaded in the inference worker.', memory.models)
  );
}

/**
 * Reads the worker's memory only while it serves a model (`serving`), so scraping the metrics never
 * starts a worker; a worker that fails to answer leaves the gauges out rather than failing the scrape.
 * @example metrics: async () => (await prometheusText(db)) + (await inferenceMemoryText(() => sdk.loaded().length > 0, () => workers().inference.api().memory()))
 */
export async function inferenceMemoryText(serving: () => boolean, read: () => Promise<InferenceMemory>): Promise<string> {
  if (!serving()) return '';
  try {
    return formatInferenceMemory(await read());
  } catch {
    return '';
  }
}
