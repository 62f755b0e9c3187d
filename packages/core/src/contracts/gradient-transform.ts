import type { Tensor, Variable } from '@tensorflow/tfjs-core';
import type { Rng } from '../rng.js';

/** What a gradient transform may read. */
export interface GradientContext {
  readonly step: number;
  readonly epoch: number;
  /** Trainable variables by name. */
  readonly variables: Readonly<Record<string, Variable>>;
  /** Current 0/1 masks (float32 tensors) of the prunable variables, by name. */
  readonly masks: Readonly<Record<string, Tensor>>;
  /**
   * The same masks as 0/1 bytes, by name, when the engine holds them (the masking's own arrays: read-only).
   * Lets a transform read a mask without reading the tensor back out of TensorFlow.js (issue 14: DeepR does
   * it for every layer at every step). Optional: a transform falls back to `masks` without it.
   */
  readonly maskValues?: Readonly<Record<string, Uint8Array>>;
  /** Learning rate of this step. */
  readonly learningRate: number;
  /** A seeded stream for noise (forked per purpose by the runner). */
  readonly rng: Rng;
}

/**
 * Rewrites the dense gradients between back-propagation and the optimizer step (e.g. DeepR's Gaussian noise
 * and L1 term, docs/algorithm.md#baselines). Sparse Momentum uses none: its gradients are never masked (docs/algorithm.md#one-training-step).
 *
 * Contract: runs inside the engine's `tf.tidy`; returns a gradient for every input name with the same shape;
 * never disposes its inputs.
 */
export interface GradientTransform {
  readonly id: string;
  transform(gradients: Readonly<Record<string, Tensor>>, ctx: GradientContext): Record<string, Tensor>;
}
