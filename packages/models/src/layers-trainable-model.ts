import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { logSoftmaxNll, nllLoss, type NamedVariable, type TrainableModel } from '@sparse-learning/core';
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
  private readonly direct: DirectForward | undefined;
  private readonly fusedLoss: boolean;
  private disposed = false;

  constructor(
    readonly id: string,
    readonly layersModel: tfl.LayersModel,
    variables: readonly NamedVariable[],
    readonly inputShape: readonly [number, number, number],
    readonly numClasses: number,
    /** The stream the model's dropout layers draw from (default: an unseeded one). */
    private readonly randomKeys: RandomKeyStream = new RandomKeyStream(defaultRandomKey(undefined)),
    /** Core's fused ops (`ModelOptions.fused`): see {@link FusedPaths}. Default: none. */
    fusedPaths: FusedPaths = {},
  ) {
    this.direct = fusedPaths.direct;
    this.fusedLoss = fusedPaths.loss ?? false;
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
      const logits = this.direct ? this.direct(inputs) : (this.layersModel.apply(inputs, { training: true }) as tf.Tensor);
      return this.fusedLoss ? logSoftmaxNll(logits, labels) : nllLoss(tf.logSoftmax(logits), labels);
    });
  }

  /** Log-probabilities `[batch, numClasses]` in inference mode (no dropout, BN on running statistics). */
  predict(inputs: tf.Tensor): tf.Tensor {
    return tf.tidy(() =>
      tf.logSoftmax(this.direct ? this.direct(inputs) : (this.layersModel.apply(inputs, { training: false }) as tf.Tensor)),
    );
  }

  /** Frees every weight of the model. Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.layersModel.dispose();
  }
}

/**
 * A model's forward pass to logits written directly on its variables (issue 10: fewer kernel launches per
 * step). It must compute exactly what the tfjs-layers model computes — same ops, same order — so that
 * {@link LayersTrainableModel.loss} and `predict` give the same numbers either way (tests compare both).
 */
export type DirectForward = (inputs: tf.Tensor) => tf.Tensor;

/** Which of core's fused ops a {@link LayersTrainableModel} uses (identical results either way). */
export interface FusedPaths {
  /**
   * The network as a function of its variables (logits), bypassing the tfjs-layers executor; only for models
   * whose training and inference passes are the same (no dropout, no batch norm).
   */
  readonly direct?: DirectForward;
  /** The training loss as core's `logSoftmaxNll` instead of `nllLoss(tf.logSoftmax(logits), labels)`. */
  readonly loss?: boolean;
}

/**
 * Wires the builder's declared modules into a {@link LayersTrainableModel}. `direct`, when given, builds the
 * model's {@link DirectForward} from its named variables; it and the fused loss are used unless the builder
 * was made with `fused: false`.
 */
export function finishModel(
  id: string,
  builder: ModelBuilder,
  input: Sym,
  output: Sym,
  inputShape: readonly [number, number, number],
  numClasses: number,
  direct?: (variables: ReadonlyMap<string, tf.Variable>) => DirectForward,
): LayersTrainableModel {
  const model = tfl.model({ inputs: input, outputs: output });
  const variables = builder.collectVariables();
  const forward = builder.fused ? direct?.(new Map(variables.map((v) => [v.name, v.variable]))) : undefined;
  return new LayersTrainableModel(id, model, variables, inputShape, numClasses, builder.randomKeys, {
    direct: forward,
    loss: builder.fused,
  });
}
