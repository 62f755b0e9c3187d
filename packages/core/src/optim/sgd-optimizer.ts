import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerState, SparseOptimizer } from '../contracts/optimizer.js';
import { SparseLearningError, outOfRangeError } from '../errors.js';
import { checkLearningRate, variableFor } from './checks.js';
import { SlotStore } from './slot-store.js';

/** Registry id of {@link SgdOptimizer}. */
export const SGD_OPTIMIZER_ID = 'sgd';

/** Name of SGD's slot in {@link OptimizerState} (PyTorch `optimizer.state[p]['momentum_buffer']`). */
export const MOMENTUM_BUFFER_SLOT = 'momentum_buffer';

/**
 * Name of the optional fused SGD kernel (issue 6: fewer kernel launches per step). A backend that registers a
 * kernel under this name (the `native` backend of `@sparse-learning/backend-native` does) gets one kernel
 * launch per variable instead of up to eight element-wise ops; elsewhere the plain `tf.*` chain runs.
 *
 * Contract: inputs `{ w, grad, buf? }` (float32, same shape; `buf` = previous momentum buffer, absent on the
 * first step), attrs `{ learningRate, momentum, nesterov, weightDecay }`; outputs `[w']` when `momentum` is 0,
 * else `[w', buf']`, both new tensors, computed exactly as {@link SgdOptimizer} documents with every
 * operation rounded to float32 in the same order as the `tf.*` chain (so results are identical).
 */
export const SGD_STEP_KERNEL = 'SparseLearningSgdStep';

/**
 * Name of the optional fused SGD kernel that also applies the mask (issue 10): the contract of
 * {@link SGD_STEP_KERNEL} plus an input `mask` (float32 0/1, the variable's size), with
 * `w' = (w − lr·update) ⊙ mask` — the trainer's `W ← W ⊙ M` after the update, in the same launch. The buffer is
 * not masked. A separate name (not an optional input of the unmasked kernel) so a backend built before it
 * can never silently ignore the mask.
 */
export const SGD_STEP_MASKED_KERNEL = 'SparseLearningSgdStepMasked';

/** Options of {@link SgdOptimizer} (PyTorch `torch.optim.SGD` with dampening 0). */
export interface SgdOptimizerOptions {
  /** Learning rate of the first step; the trainer overwrites it before every step. */
  readonly learningRate: number;
  /** Momentum `μ` in `[0, 1)` (official 0.9). 0 disables the buffer. */
  readonly momentum?: number;
  /** Nesterov momentum (official true). Requires `momentum > 0`. */
  readonly nesterov?: boolean;
  /** L2 coefficient added to the gradient, `g = grad + wd·w` (official 5e-4). */
  readonly weightDecay?: number;
}

/**
 * SGD with (Nesterov) momentum and weight decay, PyTorch semantics (docs/algorithm.md#one-training-step, docs/algorithm.md#recipes), with dense momentum
 * buffers readable per variable name — what sparse momentum grows from.
 *
 * Per variable and step: `g = grad + wd·w`; `buf = g` on the first step, else `buf = μ·buf + g`;
 * `update = nesterov ? g + μ·buf : buf`; `w ← w − lr·update`. Every entry is updated, masked ones included:
 * the gradient is dense and never masked, the trainer re-applies the mask afterwards.
 *
 * Why not `tf.train.momentum`: it has no weight decay, hides its accumulators and its learning rate is fixed.
 * Float32 throughout; reproduces the torch golden cases within 1e-6.
 *
 * Fast path: when the active backend registers {@link SGD_STEP_KERNEL}, each variable is updated by that one
 * fused kernel (same float32 rounding, so the same results); otherwise by the `tf.*` chain below. The trainer
 * calls {@link SgdOptimizer.applyGradientsMasked} when it has masks, which folds `W ← W ⊙ M` into the same
 * launch where the backend registers {@link SGD_STEP_MASKED_KERNEL}.
 */
export class SgdOptimizer implements SparseOptimizer {
  readonly id = SGD_OPTIMIZER_ID;
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  private lr: number;
  private iterations = 0;
  private readonly slots = new SlotStore();

  constructor(options: SgdOptimizerOptions) {
    const momentum = options.momentum ?? 0;
    const weightDecay = options.weightDecay ?? 0;
    checkLearningRate(options.learningRate);
    if (!Number.isFinite(momentum) || momentum < 0 || momentum >= 1) {
      throw outOfRangeError('sgd.momentum', momentum, '0 <= momentum < 1');
    }
    if (!Number.isFinite(weightDecay) || weightDecay < 0) {
      throw outOfRangeError('sgd.weightDecay', weightDecay, 'a finite number >= 0');
    }
    if (options.nesterov && momentum === 0) {
      throw outOfRangeError('sgd.momentum', momentum, 'momentum > 0 when nesterov is true');
    }
    this.lr = options.learningRate;
    this.momentum = momentum;
    this.nesterov = options.nesterov ?? false;
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
    this.update(gradients, variables, null);
  }

  /**
   * The update, then `W ← W ⊙ M` for every variable named in `masks` (what the trainer's `masking.apply()`
   * does after {@link SgdOptimizer.applyGradients}), with identical results: on a backend that registers
   * {@link SGD_STEP_MASKED_KERNEL} the multiply runs inside the one fused launch per variable; otherwise it is
   * the same `tf.mul` the masking runs, right after the variable's update. Buffers are never masked.
   */
  applyGradientsMasked(
    gradients: Readonly<Record<string, tf.Tensor>>,
    variables: Readonly<Record<string, tf.Variable>>,
    masks: Readonly<Record<string, tf.Tensor>>,
  ): void {
    this.update(gradients, variables, masks);
    // A masked variable without a gradient this step still gets W ← W ⊙ M, as masking.apply() would do.
    tf.tidy(() => {
      for (const [name, mask] of Object.entries(masks)) {
        if (gradients[name]) continue;
        const variable = variableFor(this.id, name, variables);
        variable.assign(tf.mul(variable, mask));
      }
    });
  }

  private update(
    gradients: Readonly<Record<string, tf.Tensor>>,
    variables: Readonly<Record<string, tf.Variable>>,
    masks: Readonly<Record<string, tf.Tensor>> | null,
  ): void {
    const { momentum: mu, nesterov, weightDecay: wd } = this;
    const lr = this.lr;
    // Looked up once per step: a backend may or may not provide the fused kernels (see SGD_STEP_KERNEL).
    const backend = tf.getBackend();
    const fused = tf.getKernel(SGD_STEP_KERNEL, backend) !== undefined;
    const fusedMasked = masks !== null && tf.getKernel(SGD_STEP_MASKED_KERNEL, backend) !== undefined;
    for (const [name, grad] of Object.entries(gradients)) {
      const variable = variableFor(this.id, name, variables);
      const previous = mu > 0 ? this.slots.get(name, MOMENTUM_BUFFER_SLOT, variable.shape) : undefined;
      const mask = masks?.[name];
      const maskFusable = mask !== undefined && fusedMasked && mask.dtype === 'float32' && mask.size === variable.size;
      if ((mask === undefined ? fused : maskFusable) && this.canFuse(grad, variable, previous)) {
        const buffer = tf.tidy((): tf.Tensor | undefined => {
          const inputs: tf.NamedTensorMap = previous ? { w: variable, grad, buf: previous } : { w: variable, grad };
          if (mask !== undefined) inputs.mask = mask;
          const attrs = { learningRate: lr, momentum: mu, nesterov, weightDecay: wd };
          const out = tf.engine().runKernel(mask !== undefined ? SGD_STEP_MASKED_KERNEL : SGD_STEP_KERNEL, inputs, attrs) as tf.Tensor[];
          variable.assign(out[0]);
          return mu > 0 ? tf.keep(out[1]) : undefined;
        });
        if (buffer) this.slots.set(name, MOMENTUM_BUFFER_SLOT, buffer);
        continue;
      }
      const buffer: tf.Tensor | undefined = tf.tidy((): tf.Tensor | undefined => {
        let buf: tf.Tensor | undefined;
        if (fused && this.canFuse(grad, variable, previous)) {
          // The masked kernel is missing (or the mask does not fit it): the unmasked kernel, then the multiply.
          const inputs: tf.NamedTensorMap = previous ? { w: variable, grad, buf: previous } : { w: variable, grad };
          const attrs = { learningRate: lr, momentum: mu, nesterov, weightDecay: wd };
          const out = tf.engine().runKernel(SGD_STEP_KERNEL, inputs, attrs) as tf.Tensor[];
          variable.assign(mask !== undefined ? tf.mul(out[0], mask) : out[0]);
          buf = mu > 0 ? out[1] : undefined;
        } else {
          const g = wd !== 0 ? tf.add(grad, tf.mul(variable, wd)) : grad;
          let update: tf.Tensor = g;
          if (mu > 0) {
            buf = previous ? tf.add(tf.mul(previous, mu), g) : tf.clone(g);
            update = nesterov ? tf.add(g, tf.mul(buf, mu)) : buf;
          }
          const next = tf.sub(variable, tf.mul(update, lr));
          variable.assign(mask !== undefined ? tf.mul(next, mask) : next);
        }
        // Kept: an enclosing tidy (the trainer's step) must not dispose the buffer; the slot store owns it.
        return buf ? tf.keep(buf) : undefined;
      });
      if (buffer) this.slots.set(name, MOMENTUM_BUFFER_SLOT, buffer);
    }
    this.iterations++;
  }

  /** The fused kernel handles float32 tensors of one shape only; anything else takes the `tf.*` chain. */
  private canFuse(grad: tf.Tensor, variable: tf.Variable, previous: tf.Tensor | undefined): boolean {
    return (
      grad.dtype === 'float32' &&
      variable.dtype === 'float32' &&
      tf.util.arraysEqual(grad.shape, variable.shape) &&
      (!previous || (previous.dtype === 'float32' && previous.size === variable.size))
    );
  }

  /** A clone of the momentum buffer of `name` (the caller disposes it); null before its first step. */
  momentumOf(name: string): tf.Tensor | null {
    const buffer = this.slots.get(name, MOMENTUM_BUFFER_SLOT);
    return buffer ? tf.clone(buffer) : null;
  }

  getState(): OptimizerState {
    return { id: this.id, iterations: this.iterations, slots: this.slots.snapshot() };
  }

  setState(state: OptimizerState): void {
    if (state.id !== this.id) {
      throw new SparseLearningError('E_CHECKPOINT_INCOMPATIBLE', `optimizer state of '${state.id}' given to '${this.id}'`, {
        expected: this.id,
        got: state.id,
      });
    }
    this.iterations = state.iterations;
    this.slots.restore(state.slots);
  }

  dispose(): void {
    this.slots.clear();
  }
}
