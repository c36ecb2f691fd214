import * as tf from '@tensorflow/tfjs';
import { backbonesOf } from './index';

/** A task model cut where its backbones end: what a frozen backbone computes, and the head that learns on it. */
export interface BackboneSplit {
  /** The model's inputs → each backbone output the head takes (a coin's front and back features), inference mode. */
  features: tf.LayersModel;
  /** Those features → the model's output, through the model's own head layers (the same weights). */
  head: tf.LayersModel;
  /**
   * Ends the split, leaving every weight to the model: tfjs counts each symbolic call of a layer, and the
   * head's second call would otherwise keep the head's weights alive after the model is disposed.
   */
  release(): void;
}

/**
 * Splits a task model (the coin regressor, the image classifier) after its backbones, for training the
 * head alone while the backbone is frozen: features once, no backbone in the gradient tape. Both halves
 * share the model's layers and weights: call `release()` when done, never `dispose()`. Undefined when the model has no backbone or
 * its head is not one chain of layers after the backbones.
 * @example const split = splitAtBackbones(model)!; const loss = head.apply(split.features.predict(x), { training: true });
 */
export function splitAtBackbones(model: tf.LayersModel): BackboneSplit | undefined {
  const backbones = new Set(backbonesOf(model).map((b) => b.model.name));
  if (backbones.size === 0) return undefined;
  const inputs = new Set(model.inputLayers.map((l) => l.name));
  const rest = model.layers.filter((l) => !inputs.has(l.name) && !backbones.has(l.name));
  const [first, ...chain] = rest;
  if (!first) return undefined;
  // Node 0 is the layer's place in the model (a second node appears once the head below is built).
  const taken = [first.getInputAt(0)].flat() as tf.SymbolicTensor[];
  if (!taken.every((t) => backbones.has(t.sourceLayer.name))) return undefined;
  let previous = first;
  for (const layer of chain) {
    const source = [layer.getInputAt(0)].flat() as tf.SymbolicTensor[];
    if (source.length !== 1 || source[0]!.sourceLayer !== previous) return undefined;
    previous = layer;
  }
  const features = tf.model({ inputs: model.inputs, outputs: taken });
  const headInputs = taken.map((t) => tf.input({ shape: t.shape.slice(1) as number[] }));
  let x = first.apply(headInputs.length > 1 ? headInputs : headInputs[0]!) as tf.SymbolicTensor;
  for (const layer of chain) x = layer.apply(x) as tf.SymbolicTensor;
  const head = tf.model({ inputs: headInputs, outputs: x });
  let released = false;
  return {
    features,
    head,
    release() {
      // The head model's own count goes to 0 and each of its layers' drops by one, back to the model's.
      if (!released) head.dispose();
      released = true;
    },
  };
}
