import type { Tensor, Variable } from '@tensorflow/tfjs-core';

/** Serialisable optimizer state: named slot buffers per variable plus counters. */
export interface OptimizerState {
  readonly id: string;
  readonly iterations: number;
  /** `slots[variableName][slotName]` = flat float32 values (e.g. `momentum_buffer`, `exp_avg`, `exp_avg_sq`). */
  readonly slots: Readonly<Record<string, Readonly<Record<string, Float32Array>>>>;
}

/**
 * An optimizer whose state the engine can read by variable (docs/algorithm.md#one-training-step): sparse momentum grows where the
 * momentum of *zero* weights is largest, so the buffers must be dense and visible.
 */
export interface SparseOptimizer {
  readonly id: string;
  /** Learning rate of the next step; the trainer sets it before every step from the LR schedule. */
  learningRate: number;
  /** One update of every variable that has a gradient. Gradients are dense and never masked. */
  applyGradients(gradients: Readonly<Record<string, Tensor>>, variables: Readonly<Record<string, Variable>>): void;
  /**
   * Optional fused form of `applyGradients(gradients, variables)` followed by the trainer's mask step
   * `W ← W ⊙ M` for every variable named in `masks` (docs/algorithm.md#one-training-step: the update, then
   * `apply_mask`). When an optimizer has it, the trainer calls it instead of the two, so the mask multiply can
   * run inside the update (one kernel launch per variable instead of two). Results must equal the two-call
   * form exactly; buffers stay unmasked. Optimizers without it keep the two calls.
   */
  applyGradientsMasked?(
    gradients: Readonly<Record<string, Tensor>>,
    variables: Readonly<Record<string, Variable>>,
    masks: Readonly<Record<string, Tensor>>,
  ): void;
  /**
   * The momentum view used for growth and redistribution: SGD's momentum buffer, Adam's
   * `exp_avg / (sqrt(exp_avg_sq) + 1e-8)`. A new tensor the caller disposes; null before the first step.
   */
  momentumOf(name: string): Tensor | null;
  getState(): OptimizerState;
  setState(state: OptimizerState): void;
  dispose(): void;
}
