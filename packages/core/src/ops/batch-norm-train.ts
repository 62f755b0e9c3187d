import * as tf from '@tensorflow/tfjs-core';

/**
 * Name of the optional fused batch-norm training kernel (issue 10: WRN-16-8 spent about a third of its
 * non-convolution time in the ~45 tfjs kernels of each batch norm). A backend that registers it *and*
 * {@link BATCH_NORM_TRAIN_GRAD_KERNEL} (the `native` backend of `@sparse-learning/backend-native` does) runs a
 * training-mode batch norm as one forward and one backward launch; everywhere else {@link batchNormTrain} runs
 * the composite `tf.moments` + `tf.batchNorm` (and tfjs's gradients of both), unchanged.
 *
 * Contract: inputs `{ x: [..., C] float32, gamma: [C], beta: [C] }`, attribute `epsilon`; outputs
 * `[y, mean, variance, invStd]` with the statistics over every axis but the last: `mean`, the *biased*
 * `variance`, `invStd = 1/√(variance + ε)` (each `[C]`) and `y = (x − mean)·γ·invStd + β`
 * (docs/algorithm.md#models: PyTorch's `BatchNorm2d` in training mode normalises with the biased variance).
 * Equal to the composite within float32 rounding (the sums may be taken in another order or precision).
 */
export const BATCH_NORM_TRAIN_KERNEL = 'SparseLearningBatchNormTrain';

/**
 * Backward kernel of {@link BATCH_NORM_TRAIN_KERNEL}: inputs `{ dy, x, mean, invStd, gamma }`, outputs
 * `[dx, dgamma, dbeta]`: `dβ = Σdy`, `dγ = Σdy·x̂`, `dx = γ·invStd·(dy − dβ/n − x̂·dγ/n)` with `x̂ = (x − mean)·invStd`
 * and n the values per channel — the gradient of the composite including the paths through the batch moments.
 */
export const BATCH_NORM_TRAIN_GRAD_KERNEL = 'SparseLearningBatchNormTrainGrad';

/** True when the active backend registers both batch-norm training kernels. */
export function hasBatchNormTrainKernels(): boolean {
  const backend = tf.getBackend();
  return tf.getKernel(BATCH_NORM_TRAIN_KERNEL, backend) !== undefined && tf.getKernel(BATCH_NORM_TRAIN_GRAD_KERNEL, backend) !== undefined;
}

/** Output of {@link batchNormTrain}: the normalised tensor and the batch statistics it used. */
export interface BatchNormTrainResult {
  /** `(x − mean)/√(variance + ε)·γ + β`; differentiable with respect to x, γ and β. */
  readonly y: tf.Tensor;
  /** Per-channel batch mean `[C]` (for the running statistics; no gradient flows through it). */
  readonly mean: tf.Tensor;
  /** Per-channel *biased* batch variance `[C]` (for the running statistics; no gradient flows through it). */
  readonly variance: tf.Tensor;
}

/**
 * Batch normalisation in training mode over every axis but the last (NHWC / `[N, C]`), with the batch's own
 * mean and biased variance (docs/algorithm.md#models). Call it inside a `tf.tidy`: the returned statistics are
 * ordinary tensors of the enclosing scope.
 *
 * Identical to `{ mean, variance } = tf.moments(x, axes); y = tf.batchNorm(x, mean, variance, beta, gamma, ε)`
 * — which is what runs unless the active backend registers {@link BATCH_NORM_TRAIN_KERNEL} and
 * {@link BATCH_NORM_TRAIN_GRAD_KERNEL}; then it is one launch forward and one backward (a `tf.customGrad`),
 * equal to the composite within float32 rounding.
 */
export function batchNormTrain(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): BatchNormTrainResult {
  const channels = x.shape[x.rank - 1];
  const fast =
    x.rank >= 2 &&
    x.dtype === 'float32' &&
    gamma.size === channels &&
    beta.size === channels &&
    gamma.dtype === 'float32' &&
    beta.dtype === 'float32' &&
    hasBatchNormTrainKernels();
  if (!fast) {
    const axes = x.shape.slice(0, -1).map((_, i) => i);
    const { mean, variance } = tf.moments(x, axes);
    return { y: tf.batchNorm(x, mean, variance, beta, gamma, epsilon), mean, variance };
  }
  // customGrad runs its function inside a tidy: the statistics are kept there and handed to the caller's scope.
  let stats: tf.Tensor[] = [];
  const op = tf.customGrad(((xi: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, mean, variance, invStd] = tf.engine().runKernel(BATCH_NORM_TRAIN_KERNEL, { x: xi, gamma: g, beta: b }, { epsilon }) as tf.Tensor[];
    save([xi, mean, invStd, g]);
    stats = [tf.keep(mean), tf.keep(variance)];
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD_KERNEL, { dy, x: saved[0], mean: saved[1], invStd: saved[2], gamma: saved[3] }, {}) as tf.Tensor[],
    };
  }) as Parameters<typeof tf.customGrad>[0]);
  const y = op(x, gamma, beta);
  // Back into the caller's scope (kept tensors escape every tidy): clones tracked normally, the kept originals freed.
  const [mean, variance] = stats.map((t) => {
    const c = tf.clone(t);
    t.dispose();
    return c;
  });
  return { y, mean, variance };
}
