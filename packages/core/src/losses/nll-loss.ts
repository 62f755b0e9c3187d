import * as tf from '@tensorflow/tfjs-core';

/**
 * Mean negative log-likelihood of int32 class labels under `logProbabilities` (`log_softmax` outputs,
 * `[batch, classes]`): the training loss of every model in the paper (docs/algorithm.md#recipes).
 * The one implementation: the MLP helper of core and every model of `@sparse-learning/models` use it.
 */
export function nllLoss(logProbabilities: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const classes = logProbabilities.shape[logProbabilities.rank - 1];
    const picked = tf.sum(tf.mul(tf.oneHot(tf.cast(tf.reshape(labels, [-1]), 'int32'), classes), logProbabilities), -1);
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}
