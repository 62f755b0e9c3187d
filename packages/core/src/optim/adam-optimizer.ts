import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerState, SparseOptimizer } from '../contracts/optimizer.js';
import { SparseLearningError, outOfRangeError } from '../errors.js';
import { checkLearningRate, variableFor } from './checks.js';
import { SlotStore } from './slot-store.js';

/** Registry id of {@link AdamOptimizer}. */
export const ADAM_OPTIMIZER_ID = 'adam';

/** Slot names of {@link AdamOptimizer} (PyTorch `optimizer.state[p]` keys). */
export const ADAM_SLOTS = Object.freeze({ expAvg: 'exp_avg', expAvgSq: 'exp_avg_sq', step: 'step' });

/** Options of {@link AdamOptimizer} (PyTorch `torch.optim.Adam`, `amsgrad=False`). */
export interface AdamOptimizerOptions {
  readonly learningRate: number;
  /** Default 0.9. */
  readonly beta1?: number;
  /** Default 0.999. */
  readonly beta2?: number;
  /** Default 1e-8. */
  readonly epsilon?: number;
  /** Coupled L2: `g = grad + wd·w` (PyTorch Adam, not AdamW). Default 0. */
  readonly weightDecay?: number;
}

/** The epsilon of the momentum view, fixed by the official `get_momentum_for_weight` (docs/algorithm.md#one-training-step). */
const MOMENTUM_VIEW_EPSILON = 1e-8;

/**
 * Adam with PyTorch semantics and readable state (docs/algorithm.md#one-training-step, the official `--optimizer adam`).
 *
 * Per variable: `g = grad + wd·w`; `t += 1`; `m = β1·m + (1−β1)·g`; `v = β2·v + (1−β2)·g²`;
 * `w ← w − (lr / (1−β1^t)) · m / (sqrt(v) / sqrt(1−β2^t) + ε)`.
 * The momentum view for growth is the official `exp_avg / (sqrt(exp_avg_sq) + 1e-8)`, without bias correction.
 * The step count `t` is kept per variable (slot `step`, as PyTorch does).
 */
export class AdamOptimizer implements SparseOptimizer {
  readonly id = ADAM_OPTIMIZER_ID;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  private lr: number;
  private iterations = 0;
  private readonly steps = new Map<string, number>();
  private readonly slots = new SlotStore();

  constructor(options: AdamOptimizerOptions) {
    const beta1 = options.beta1 ?? 0.9;
    const beta2 = options.beta2 ?? 0.999;
    const epsilon = options.epsilon ?? 1e-8;
    const weightDecay = options.weightDecay ?? 0;
    checkLearningRate(options.learningRate);
    if (!(beta1 >= 0 && beta1 < 1)) throw outOfRangeError('adam.beta1', beta1, '0 <= beta1 < 1');
    if (!(beta2 >= 0 && beta2 < 1)) throw outOfRangeError('adam.beta2', beta2, '0 <= beta2 < 1');
    if (!(epsilon > 0 && Number.isFinite(epsilon))) throw outOfRangeError('adam.epsilon', epsilon, 'epsilon > 0');
    if (!(weightDecay >= 0 && Number.isFinite(weightDecay))) {
      throw outOfRangeError('adam.weightDecay', weightDecay, 'a finite number >= 0');
    }
    this.lr = options.learningRate;
    this.beta1 = beta1;
    this.beta2 = beta2;
    this.epsilon = epsilon;
    this.weightDecay = weightDecay;
  }

  get learningRate(): number {
    return this.lr;
  }

  set learningRate(value: number) {
    checkLearningRate(value);
    this.lr = value;
  }

  applyGradients(gradients: Readonly<Record<string, tf.Tensor>>, variables: Readonly<Record<string, tf.Variable>>): void {
    const { beta1, beta2, epsilon, weightDecay: wd } = this;
    for (const [name, grad] of Object.entries(gradients)) {
      const variable = variableFor(this.id, name, variables);
      const t = (this.steps.get(name) ?? 0) + 1;
      const prevM = this.slots.get(name, ADAM_SLOTS.expAvg, variable.shape);
      const prevV = this.slots.get(name, ADAM_SLOTS.expAvgSq, variable.shape);
      const biasCorrection1 = 1 - beta1 ** t;
      const biasCorrection2Sqrt = Math.sqrt(1 - beta2 ** t);
      const stepSize = this.lr / biasCorrection1;
      const [m, v] = tf.tidy(() => {
        const g = wd !== 0 ? tf.add(grad, tf.mul(variable, wd)) : grad;
        const m = prevM ? tf.add(tf.mul(prevM, beta1), tf.mul(g, 1 - beta1)) : tf.mul(g, 1 - beta1);
        const v = prevV ? tf.add(tf.mul(prevV, beta2), tf.mul(tf.square(g), 1 - beta2)) : tf.mul(tf.square(g), 1 - beta2);
        const denom = tf.add(tf.div(tf.sqrt(v), biasCorrection2Sqrt), epsilon);
        variable.assign(tf.sub(variable, tf.mul(tf.div(m, denom), stepSize)));
        // Kept: an enclosing tidy (the trainer's step) must not dispose the slots; the slot store owns them.
        return [tf.keep(m), tf.keep(v)];
      });
      this.slots.set(name, ADAM_SLOTS.expAvg, m);
      this.slots.set(name, ADAM_SLOTS.expAvgSq, v);
      this.steps.set(name, t);
    }
    this.iterations++;
  }

  /** `exp_avg / (sqrt(exp_avg_sq) + 1e-8)` of `name` (a new tensor); null before its first step. */
  momentumOf(name: string): tf.Tensor | null {
    const m = this.slots.get(name, ADAM_SLOTS.expAvg);
    const v = this.slots.get(name, ADAM_SLOTS.expAvgSq);
    if (!m || !v) return null;
    return tf.tidy(() => tf.div(m, tf.add(tf.sqrt(v), MOMENTUM_VIEW_EPSILON)));
  }

  getState(): OptimizerState {
    const slots = this.slots.snapshot();
    for (const [name, t] of this.steps) (slots[name] ??= {})[ADAM_SLOTS.step] = Float32Array.of(t);
    return { id: this.id, iterations: this.iterations, slots };
  }

  setState(state: OptimizerState): void {
    if (state.id !== this.id) {
      throw new SparseLearningError('E_CHECKPOINT_INCOMPATIBLE', `optimizer state of '${state.id}' given to '${this.id}'`, {
        expected: this.id,
        got: state.id,
      });
    }
    const tensors: Record<string, Record<string, Float32Array>> = {};
    this.steps.clear();
    for (const [name, slots] of Object.entries(state.slots)) {
      for (const [slot, values] of Object.entries(slots)) {
        if (slot === ADAM_SLOTS.step) this.steps.set(name, values[0]);
        else (tensors[name] ??= {})[slot] = values;
      }
    }
    this.iterations = state.iterations;
    this.slots.restore(tensors);
  }

  dispose(): void {
    this.slots.clear();
    this.steps.clear();
  }
}
