import { InvalidBundleError } from './errors';

/**
 * Whether a bundle's weights belong to its network. The byte count of the shards is checked against the
 * manifest elsewhere (`checkShards`); this compares the manifest with the Keras topology, for the layers
 * whose weight shapes follow from their config alone. Without it, weights of the right size but the
 * wrong shape import fine and fail only when a worker loads them ("Shape mismatch: [4,2] vs. [4,8]"),
 * after tfjs has allocated the network the topology describes — however large a stranger made it.
 * Layers of other classes, and weights whose names do not match a layer, are left to tfjs's strict load.
 */

interface LayerSpec {
  className: string;
  name: string;
  config: Record<string, unknown>;
}

type Expect = (config: Record<string, unknown>) => Record<string, (number | undefined)[]> | undefined;

const int = (value: unknown) => (typeof value === 'number' && Number.isInteger(value) ? value : undefined);
const pair = (value: unknown) => (Array.isArray(value) ? value.map(int) : [int(value), int(value)]);

/** Per layer class: weight suffix → expected shape (`undefined` where the config does not say, e.g. input width). */
const EXPECTED: Record<string, Expect> = {
  Dense: (c) => ({ kernel: [undefined, int(c.units)], bias: [int(c.units)] }),
  Conv2D: (c) => ({ kernel: [...pair(c.kernel_size), undefined, int(c.filters)], bias: [int(c.filters)] }),
  Conv1D: (c) => ({ kernel: [pair(c.kernel_size)[0], undefined, int(c.filters)], bias: [int(c.filters)] }),
  Embedding: (c) => ({ embeddings: [int(c.input_dim), int(c.output_dim)] }),
  // NB-SVM's ratio and weight tables (models/text/nbsvm.ts).
  NbLinear: (c) => ({ ratios: [int(c.input_dim), int(c.classes)], weights: [int(c.input_dim), int(c.classes)], bias: [int(c.classes)] }),
};

/** Every layer of a Keras topology (Sequential, Functional, nested models), depth first. */
function layersOf(node: unknown, out: LayerSpec[] = []): LayerSpec[] {
  if (!node || typeof node !== 'object') return out;
  const { class_name: className, config } = node as { class_name?: unknown; config?: unknown };
  if (typeof className === 'string' && config && typeof config === 'object') {
    const c = config as Record<string, unknown>;
    if (typeof c.name === 'string') out.push({ className, name: c.name, config: c });
    if (Array.isArray(c.layers)) for (const layer of c.layers) layersOf(layer, out);
  }
  const nested = (node as { model_config?: unknown }).model_config;
  if (nested) layersOf(nested, out);
  return out;
}

const show = (shape: readonly (number | undefined)[]) => `[${shape.map((d) => d ?? '*').join(', ')}]`;

/**
 * Refuses a model.json whose manifest gives a known layer weights of another shape than its config needs.
 * @throws InvalidBundleError naming the layer, its config and both shapes
 * @example checkWeightsFitTopology(JSON.parse(modelJson));
 */
export function checkWeightsFitTopology(modelJson: { modelTopology?: unknown; weightsManifest?: { weights: { name: string; shape: number[] }[] }[] }): void {
  const weights = new Map((modelJson.weightsManifest ?? []).flatMap((group) => group.weights.map((w) => [w.name, w.shape] as const)));
  for (const layer of layersOf(modelJson.modelTopology)) {
    const expected = EXPECTED[layer.className]?.(layer.config);
    if (!expected) continue;
    for (const [suffix, shape] of Object.entries(expected)) {
      // tfjs names a weight `<layer>/<suffix>`, under the names of enclosing scopes when nested.
      const name = [...weights.keys()].find((n) => n === `${layer.name}/${suffix}` || n.endsWith(`/${layer.name}/${suffix}`));
      if (name === undefined) continue;
      const actual = weights.get(name)!;
      const fits = actual.length === shape.length && shape.every((d, i) => d === undefined || d === actual[i]);
      if (!fits) {
        throw new InvalidBundleError(
          `gives "${name}" the shape [${actual.join(', ')}], but layer "${layer.name}" (${layer.className}) needs ${show(shape)}: the weights do not belong to this network`,
          'model.json',
          'weightsManifest',
        );
      }
    }
  }
}
