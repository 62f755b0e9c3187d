import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { nllLoss, type NamedVariable, type TrainableModel } from '@sparse-learning/core';
import type { ModelBuilder, Sym } from './builder.js';
import { RandomKeyStream, defaultRandomKey } from './seeded-dropout.js';

/** Datasets the zoo's models are defined for (docs/algorithm.md#models). */
export type ZooDataset = 'mnist' | 'cifar10' | 'imagenet';

/** Parameter counts as PyTorch counts them (docs/algorithm.md#models table). */
export interface ParameterCounts {
  /** Elements of the prunable (masked) tensors: every conv and linear weight (docs/algorithm.md#which-weights-are-sparse). */
  readonly masked: number;
  /** Elements of every trainable parameter (weights, biases, BN γ/β); BN running statistics excluded. */
  readonly total: number;
}

/**
 * A zoo model: the core {@link TrainableModel} contract on top of a tfjs-layers `LayersModel`, plus the
 * underlying model and its parameter counts.
 */
export interface ZooModel extends TrainableModel {
  /** The functional tfjs-layers model; outputs logits `[batch, numClasses]`. */
  readonly layersModel: tfl.LayersModel;
  readonly counts: ParameterCounts;
  /** NHWC input shape without the batch axis. */
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  /**
   * Keys the random draws (dropout masks) of the following training-mode forward passes: draw `i` after
   * this call uses seed `<key>/<i>`. Calling it before every step with a key that is a function of the
   * step's position (the runner uses `<seed>/dropout/<epoch>/<batch>`) makes dropout reproducible and a
   * resumed run bit-identical. Without it, draws continue from the key of construction (`<seed>/dropout`).
   */
  setRandomKey(key: string): void;
}

/** Sums the element counts of the masked and trainable variables. */
export function countParameters(variables: readonly NamedVariable[]): ParameterCounts {
  let masked = 0;
  let total = 0;
  for (const v of variables) {
    if (v.prunable) masked += v.variable.size;
    if (v.trainable) total += v.variable.size;
  }
  return { masked, total };
}

/**
 * Adapter from a tfjs-layers model to {@link TrainableModel}. The loss is the mean NLL of `log_softmax`
 * (docs/algorithm.md#models: every model ends in `log_softmax`, the loss is NLL), computed in training mode; `predict`
 * runs inference mode and returns log-probabilities.
 */
export class LayersTrainableModel implements ZooModel {
  readonly variables: readonly NamedVariable[];
  readonly counts: ParameterCounts;
  private disposed = false;

  constructor(
    readonly id: string,
    readonly layersModel: tfl.LayersModel,
    variables: readonly NamedVariable[],
    readonly inputShape: readonly [number, number, number],
    readonly numClasses: number,
    /** The stream the model's dropout layers draw from (default: an unseeded one). */
    private readonly randomKeys: RandomKeyStream = new RandomKeyStream(defaultRandomKey(undefined)),
  ) {
    this.variables = variables;
    this.counts = countParameters(variables);
  }

  setRandomKey(key: string): void {
    this.randomKeys.setKey(key);
  }

  /**
   * Mean NLL of `log_softmax(logits)` in training mode: dropout active, BN normalises with batch statistics
   * and updates its running statistics (tfjs-layers does the update imperatively inside the call, so it
   * also happens inside `tf.variableGrads`).
   */
  loss(inputs: tf.Tensor, labels: tf.Tensor): tf.Scalar {
    return tf.tidy(() => {
      const logits = this.layersModel.apply(inputs, { training: true }) as tf.Tensor;
      return nllLoss(tf.logSoftmax(logits), labels);
    });
  }

  /** Log-probabilities `[batch, numClasses]` in inference mode (no dropout, BN on running statistics). */
  predict(inputs: tf.Tensor): tf.Tensor {
    return tf.tidy(() => tf.logSoftmax(this.layersModel.apply(inputs, { training: false }) as tf.Tensor));
  }

  /** Frees every weight of the model. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.layersModel.dispose();
  }
}

/** Wires the builder's declared modules into a {@link LayersTrainableModel}. */
export function finishModel(
  id: string,
  builder: ModelBuilder,
  input: Sym,
  output: Sym,
  inputShape: readonly [number, number, number],
  numClasses: number,
): LayersTrainableModel {
  const model = tfl.model({ inputs: input, outputs: output });
  return new LayersTrainableModel(id, model, builder.collectVariables(), inputShape, numClasses, builder.randomKeys);
}
