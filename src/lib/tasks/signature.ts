import type { ColumnSpec, ModelSignature, TensorSpec } from '$lib/db/specs';
import type { TaskDefinition } from './types';

/**
 * The MLflow signature of a saved model of a task: the REST columns a request carries (strings: base64
 * images, texts), then, for image tasks, the tensors the network really takes, read from its model.json
 * (a 64 px coin model says `[-1, 64, 64, 3]`), and the outputs the task answers with.
 * @example signatureOf(TASKS['coin-year'], modelJsonText).inputs.map((i) => i.name) // ['front_image_base64', 'back_image_base64', 'front', 'back']
 */
export function signatureOf(task: TaskDefinition, modelJson: string, labels?: readonly string[]): ModelSignature {
  const columns: ColumnSpec[] = task.serving.fields.map((field) => ({ name: field.name, type: 'string' }));
  const images = task.serving.fields.filter((field) => field.kind === 'image');
  const shapes = modelInputShapes(modelJson);
  const tensors: TensorSpec[] =
    images.length > 0 && shapes.length === images.length
      ? images.map((field, i) => ({ name: field.key, type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: shapes[i]! } }))
      : [];
  const outputs = [...(task.serving.outputs ?? [])];
  if (task.kind === 'classification' && labels?.length) {
    outputs.push({ name: 'probabilities', type: 'tensor', 'tensor-spec': { dtype: 'float32', shape: [-1, labels.length] } });
  }
  return { inputs: [...columns, ...tensors], outputs };
}

/** The request body that shows how to call a model of the task. */
export function exampleInputOf(task: TaskDefinition): { inputs: Record<string, string>[] } {
  return { inputs: [{ ...task.serving.example }] };
}

interface KerasNode {
  class_name?: unknown;
  config?: { name?: unknown; batch_input_shape?: unknown; batchInputShape?: unknown; layers?: unknown; input_layers?: unknown };
}

/**
 * Shapes of a Keras model's inputs in input order (batch dimension -1), from model.json text; empty
 * when the topology does not say. Nested models' inputs are not the model's own and are skipped.
 */
export function modelInputShapes(modelJson: string): number[][] {
  let topology: KerasNode | undefined;
  try {
    const parsed = JSON.parse(modelJson) as { modelTopology?: KerasNode & { model_config?: KerasNode } };
    topology = parsed.modelTopology?.model_config ?? parsed.modelTopology;
  } catch {
    return [];
  }
  const layers = Array.isArray(topology?.config?.layers) ? (topology.config.layers as KerasNode[]) : [];
  const shapeOf = (layer: KerasNode | undefined) => {
    const shape = layer?.config?.batch_input_shape ?? layer?.config?.batchInputShape;
    return Array.isArray(shape) && shape.every((d) => d === null || typeof d === 'number') ? shape.map((d) => (d === null ? -1 : (d as number))) : undefined;
  };
  const inputNames = Array.isArray(topology?.config?.input_layers) ? (topology.config.input_layers as unknown[][]).map((entry) => entry[0]) : undefined;
  const candidates = inputNames ? inputNames.map((name) => layers.find((l) => l.config?.name === name)) : layers.filter((l) => l.class_name === 'InputLayer').slice(0, 1);
  const shapes = candidates.map(shapeOf);
  return shapes.every((s): s is number[] => s !== undefined) ? shapes : [];
}
