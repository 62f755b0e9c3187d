import * as tf from '@tensorflow/tfjs-core';
import type { OptimizerState, SparseOptimizer } from '../contracts/optimizer.js';
import { SparseLearningError, outOfRangeError } from '../errors.js';
import { checkLearningRate, variableFor } from './checks.js';
import { SlotStore } from './slot-store.js';

/** Registry id of {@link SgdOptimizer}. */
export const SGD_OPTIMIZER_ID = 'sgd';

/** Name of SGD's slot in {@link OptimizerState} (PyTorch `optimizer.state[p]['momentum_buffer']`). */
export const MOMENTUM_BUFFER_SLOT = 'momentum_buffer';

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
 * SGD with (Nesterov) momentum and weight decay, PyTorch semantics (spec §1.5, §4.2), with dense momentum
 * buffers readable per variable name — what sparse momentum grows from.
 *
 * Per variable and step: `g = grad + wd·w`; `buf = g` on the first step, else `buf = μ·buf + g`;
 * `update = nesterov ? g + μ·buf : buf`; `w ← w − lr·update`. Every entry is updated, masked ones included:
 * the gradient is dense and never masked, the trainer re-applies the mask afterwards.
 *
 * Why not `tf.train.momentum`: it has no weight decay, hides its accumulators and its learning rate is fixed.
 * Float32 throughout; reproduces the torch golden cases within 1e-6.
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
    const { momentum: mu, nesterov, weightDecay: wd } = this;
    const lr = this.lr;
    for (const [name, grad] of Object.entries(gradients)) {
      const variable = variableFor(this.id, name, variables);
      const previous = mu > 0 ? this.slots.get(name, MOMENTUM_BUFFER_SLOT, variable.shape) : undefined;
      const buffer: tf.Tensor | undefined = tf.tidy((): tf.Tensor | undefined => {
        const g = wd !== 0 ? tf.add(grad, tf.mul(variable, wd)) : grad;
        let update: tf.Tensor = g;
        let buf: tf.Tensor | undefined;
        if (mu > 0) {
          buf = previous ? tf.add(tf.mul(previous, mu), g) : tf.clone(g);
          update = nesterov ? tf.add(g, tf.mul(buf, mu)) : buf;
        }
        variable.assign(tf.sub(variable, tf.mul(update, lr)));
        // Kept: an enclosing tidy (the trainer's step) must not dispose the buffer; the slot store owns it.
        return buf ? tf.keep(buf) : undefined;
      });
      if (buffer) this.slots.set(name, MOMENTUM_BUFFER_SLOT, buffer);
    }
    this.iterations++;
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
