import * as tf from '@tensorflow/tfjs-core';
import { nllLoss } from '../losses/nll-loss.js';

/**
 * Name of the optional fused training-loss kernel (issue 10: fewer kernel launches per step). A backend that
 * registers it *and* {@link LOG_SOFTMAX_NLL_GRAD_KERNEL} (the `native` backend of
 * `@sparse-learning/backend-native` does) computes the loss of a step in one forward and one backward launch;
 * everywhere else {@link logSoftmaxNll} runs the composite `nllLoss(tf.logSoftmax(logits), labels)`.
 *
 * Contract: inputs `{ logits: [N, C] float32, labels: N class ids }`; outputs `[loss, logProbabilities]`
 * (a scalar and `[N, C]`), equal bit for bit to the composite's on that backend: the same kernels in the
 * same order (tfjs-core's `logSoftmax`, then `nllLoss`), only without a tape entry and an engine round trip
 * per kernel.
 */
export const LOG_SOFTMAX_NLL_KERNEL = 'SparseLearningLogSoftmaxNll';

/**
 * Backward kernel of {@link LOG_SOFTMAX_NLL_KERNEL}: inputs `{ dy: scalar, logProbabilities: [N, C], labels }`,
 * output `dlogits: [N, C]`, equal bit for bit to what tfjs's gradients of the composite compute (the `Neg`,
 * `Mean`, `Sum` and `Multiply` gradients, then `logSoftmax`'s `dy − Σdy · exp(logProbabilities)`).
 */
export const LOG_SOFTMAX_NLL_GRAD_KERNEL = 'SparseLearningLogSoftmaxNllGrad';

/** True when the active backend registers both fused loss kernels. */
export function hasLogSoftmaxNllKernels(): boolean {
  const backend = tf.getBackend();
  return tf.getKernel(LOG_SOFTMAX_NLL_KERNEL, backend) !== undefined && tf.getKernel(LOG_SOFTMAX_NLL_GRAD_KERNEL, backend) !== undefined;
}

/**
 * The training loss of every model of the paper (docs/algorithm.md#recipes): mean NLL of `log_softmax(logits)`
 * over the batch, `logits` `[N, C]`, `labels` N class ids. Differentiable by `tf.variableGrads`.
 *
 * Identical to `nllLoss(tf.logSoftmax(logits), labels)` — which is what runs unless the active backend
 * registers {@link LOG_SOFTMAX_NLL_KERNEL} and {@link LOG_SOFTMAX_NLL_GRAD_KERNEL}; then it is one launch
 * forward and one backward (a `tf.customGrad` around the two kernels) instead of about thirty.
 */
export function logSoftmaxNll(logits: tf.Tensor, labels: tf.Tensor): tf.Scalar {
  const fast = logits.rank === 2 && logits.dtype === 'float32' && labels.size === logits.shape[0] && hasLogSoftmaxNllKernels();
  if (!fast) return tf.tidy(() => nllLoss(tf.logSoftmax(logits), labels));
  // The labels are no input of the custom gradient (they need none); the closure keeps them for the backward.
  const op = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const [loss, logProbabilities] = tf.engine().runKernel(LOG_SOFTMAX_NLL_KERNEL, { logits: x, labels }, {}) as tf.Tensor[];
    save([logProbabilities]);
    return {
      value: loss,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.engine().runKernel(LOG_SOFTMAX_NLL_GRAD_KERNEL, { dy, logProbabilities: saved[0], labels }, {}) as tf.Tensor,
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  return op(logits) as tf.Scalar;
}
