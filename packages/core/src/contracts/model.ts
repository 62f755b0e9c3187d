import type { Scalar, Tensor, Variable } from '@tensorflow/tfjs-core';

/** One variable of a model, with a stable name (the official PyTorch parameter name where one exists). */
export interface NamedVariable {
  /** Stable, human-readable name, e.g. `fc1.weight`, `features.0.weight`, `block1.layer.0.conv1.weight`. */
  readonly name: string;
  readonly variable: Variable;
  /** True for weights that get a mask (conv and dense kernels, docs/algorithm.md#which-weights-are-sparse); false for biases and batch norm. */
  readonly prunable: boolean;
  /** True for optimizer-updated parameters; false for state such as batch-norm running statistics. */
  readonly trainable: boolean;
}

/**
 * What the engine needs of a network: its variables in model parameter order and a training loss.
 * `@sparse-learning/models` builds these from tfjs-layers models; any function of variables works too.
 */
export interface TrainableModel {
  readonly id: string;
  /** Every variable (trainable parameters first in parameter order, then non-trainable state). */
  readonly variables: readonly NamedVariable[];
  /**
   * Mean NLL of `log_softmax(logits)` over the batch in *training* mode (dropout on, batch norm on batch
   * statistics and updating its running statistics). `labels` are int32 class ids of shape `[batch]`.
   */
  loss(inputs: Tensor, labels: Tensor): Scalar;
  /** Log-probabilities `[batch, classes]` in inference mode. */
  predict(inputs: Tensor): Tensor;
  dispose(): void;
}

/** One mini-batch: inputs (NHWC float32, normalised) and int32 labels `[batch]`. */
export interface Batch {
  readonly inputs: Tensor;
  readonly labels: Tensor;
}
