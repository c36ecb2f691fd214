import * as tf from '@tensorflow/tfjs';

/**
 * Cross-entropy for models that end in a softmax: their probabilities' logs are logits again
 * (softmax(log p) = p), clipped so that a confident miss stays finite.
 */
export function probabilityCrossEntropy(yTrue: tf.Tensor, yPred: tf.Tensor): tf.Scalar {
  return tf.losses.softmaxCrossEntropy(yTrue, tf.log(tf.clipByValue(yPred, 1e-7, 1))) as tf.Scalar;
}
