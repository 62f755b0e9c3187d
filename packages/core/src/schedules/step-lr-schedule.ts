import type { LearningRateSchedule } from '../contracts/schedules.js';
import { checkInteger, checkRange, checkStep } from './validate.js';

/** Registry id of {@link StepLrSchedule}. */
export const STEP_LR_SCHEDULE_ID = 'step-lr';

/** Options of {@link StepLrSchedule}. */
export interface StepLrScheduleOptions {
  /** Initial learning rate `lr0` (> 0). */
  readonly initial: number;
  /** Decay period in mini-batches (official `--decay_frequency`, 25000 for MNIST). */
  readonly stepSize: number;
  /** Multiplicative factor per period (official 0.1), in `(0, 1]`. */
  readonly gamma?: number;
  /**
   * True (official `mnist_cifar/main.py`): the scheduler is stepped *before* every batch, so batch `b` sees
   * `b + 1` scheduler steps. False: stepped after, batch `b` sees `b` steps.
   */
  readonly steppedBeforeEachBatch?: boolean;
}

/**
 * torch `StepLR` on a per-mini-batch clock (docs/algorithm.md#recipes): batch `b` (0-based, over the whole run) uses
 * `lr0 · γ^floor((b + 1) / stepSize)`.
 *
 * The power is computed by repeated multiplication, as torch's chainable form does, so the values are
 * bit-identical to torch's (`0.1 · 0.1 = 0.010000000000000002`, golden `lr-steplr-25000.json`), not the
 * rounded decimals `Math.pow` would give.
 */
export class StepLrSchedule implements LearningRateSchedule {
  readonly id = STEP_LR_SCHEDULE_ID;
  readonly initial: number;
  readonly stepSize: number;
  readonly gamma: number;
  readonly steppedBeforeEachBatch: boolean;

  constructor(options: StepLrScheduleOptions) {
    const gamma = options.gamma ?? 0.1;
    checkRange('stepLr.initial', options.initial, Number.MIN_VALUE, Number.MAX_VALUE, 'initial > 0');
    checkInteger('stepLr.stepSize', options.stepSize, 1);
    checkRange('stepLr.gamma', gamma, Number.MIN_VALUE, 1, '0 < gamma <= 1');
    this.initial = options.initial;
    this.stepSize = options.stepSize;
    this.gamma = gamma;
    this.steppedBeforeEachBatch = options.steppedBeforeEachBatch ?? true;
  }

  /** The learning rate of mini-batch `batch` (0-based global index). */
  rateAt(batch: number): number {
    checkStep('batch', batch);
    const schedulerSteps = this.steppedBeforeEachBatch ? batch + 1 : batch;
    const decays = Math.floor(schedulerSteps / this.stepSize);
    let lr = this.initial;
    for (let k = 0; k < decays; k++) lr *= this.gamma;
    return lr;
  }
}
