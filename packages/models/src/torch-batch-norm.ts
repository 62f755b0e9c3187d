import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { batchNormTrain, outOfRangeError } from '@sparse-learning/core';

/**
 * How the running variance is updated in training mode:
 * - `'unbiased'` (default, PyTorch `nn.BatchNorm*d`): the batch variance times `n / (n − 1)`, n = values
 *   per channel (batch · H · W), as `torch.nn.functional.batch_norm` does;
 * - `'biased'` (tfjs-layers / Keras): the batch variance as used for normalising.
 * Normalisation itself always uses the biased batch variance, in both frameworks.
 */
export type RunningVariance = 'unbiased' | 'biased';

/** Options of {@link TorchBatchNorm}. */
export interface TorchBatchNormArgs {
  readonly name: string;
  /** Running-statistics momentum in PyTorch's convention: `running = (1 − m) · running + m · batch`. */
  readonly momentum: number;
  readonly epsilon: number;
  readonly runningVariance: RunningVariance;
}

type LayerKwargs = Record<string, unknown>;

/**
 * Batch normalisation over the last (channel) axis with PyTorch's semantics (docs/algorithm.md#models, every BN of the
 * CIFAR zoo): γ = 1, β = 0, running mean 0 and running variance 1 at start; in training mode the batch is
 * normalised with its own mean and biased variance and the running statistics are updated imperatively
 * (as tfjs-layers does, so it also happens inside `tf.variableGrads`) with momentum `m` in PyTorch's
 * convention and, by default, the *unbiased* batch variance; in inference mode the running statistics are
 * used. Weights are named `gamma`, `beta`, `moving_mean`, `moving_variance` like tfjs-layers' own layer.
 *
 * A training batch with a single value per channel (BN1d on a batch of 1, or BN2d on 1×1 maps of a batch of
 * 1) is rejected, as PyTorch rejects it ("Expected more than 1 value per channel when training"): its
 * unbiased variance is undefined.
 */
export class TorchBatchNorm extends tfl.layers.Layer {
  /** tfjs-layers class name (required of custom layers). */
  static readonly className = 'SparseLearningTorchBatchNorm';
  private readonly momentum: number;
  private readonly epsilon: number;
  private readonly runningVariance: RunningVariance;
  private gamma!: tfl.LayerVariable;
  private beta!: tfl.LayerVariable;
  private movingMean!: tfl.LayerVariable;
  private movingVariance!: tfl.LayerVariable;

  constructor(args: TorchBatchNormArgs) {
    super({ name: args.name });
    if (!(args.momentum >= 0 && args.momentum <= 1)) throw outOfRangeError('batch-norm momentum', args.momentum, '0 <= momentum <= 1');
    if (!(args.epsilon > 0)) throw outOfRangeError('batch-norm epsilon', args.epsilon, 'epsilon > 0');
    this.momentum = args.momentum;
    this.epsilon = args.epsilon;
    this.runningVariance = args.runningVariance;
  }

  override build(inputShape: tfl.Shape | tfl.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tfl.Shape;
    const channels = shape[shape.length - 1] as number;
    this.gamma = this.addWeight('gamma', [channels], 'float32', tfl.initializers.ones(), undefined, true);
    this.beta = this.addWeight('beta', [channels], 'float32', tfl.initializers.zeros(), undefined, true);
    this.movingMean = this.addWeight('moving_mean', [channels], 'float32', tfl.initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight('moving_variance', [channels], 'float32', tfl.initializers.ones(), undefined, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: LayerKwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const gamma = this.gamma.read();
      const beta = this.beta.read();
      if (kwargs.training !== true) {
        return tf.batchNorm(x, this.movingMean.read(), this.movingVariance.read(), beta, gamma, this.epsilon);
      }
      const n = x.shape.slice(0, -1).reduce((a, d) => a * d, 1);
      if (n < 2) {
        throw outOfRangeError(
          `values per channel of batch norm '${this.name}' in training`,
          n,
          '>= 2 (PyTorch: "Expected more than 1 value per channel when training"; use a batch of at least 2)',
        );
      }
      // tfjs-layers' `normalizeBatchInTraining` ops (moments, batchNorm; gradients flow through the batch
      // moments), or one fused kernel pair where the backend has it (core's batchNormTrain).
      const { y: normed, mean, variance } = batchNormTrain(x, gamma, beta, this.epsilon);
      const update = this.runningVariance === 'unbiased' ? tf.mul(variance, n / (n - 1)) : variance;
      this.updateRunning(this.movingMean, mean);
      this.updateRunning(this.movingVariance, update);
      return normed;
    });
  }

  /** `running ← running − m · (running − batch)`, i.e. `(1 − m) · running + m · batch` (tfjs-layers' form). */
  private updateRunning(variable: tfl.LayerVariable, value: tf.Tensor): void {
    tf.tidy(() => {
      const old = variable.read();
      variable.write(tf.sub(old, tf.mul(tf.sub(old, value), this.momentum)));
    });
  }

  override computeOutputShape(inputShape: tfl.Shape | tfl.Shape[]): tfl.Shape | tfl.Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), momentum: this.momentum, epsilon: this.epsilon, runningVariance: this.runningVariance };
  }
}

tf.serialization.registerClass(TorchBatchNorm);
