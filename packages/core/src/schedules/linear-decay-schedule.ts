import type { PruneRateSchedule } from '../contracts/schedules.js';
import { checkInteger, checkRange, checkStep } from './validate.js';

/** Registry id of {@link LinearDecaySchedule}. */
export const LINEAR_DECAY_SCHEDULE_ID = 'linear';

/** Options of {@link LinearDecaySchedule}. */
export interface LinearDecayScheduleOptions {
  /** Initial prune rate `p0`, in `[0, 1]`. */
  readonly initial: number;
  /** `T_max`: the rate reaches 0 after this many mini-batches. */
  readonly totalSteps: number;
}

/**
 * Linear prune-rate decay (docs/algorithm.md#the-prune-rate-schedule, `--decay-schedule linear`): `p(t) = p0 − t · p0 / T`.
 *
 * Deviations: the official class subtracts `p0/T` once per step; the closed form agrees within 2.5e-13
 * (golden `prune-rate-linear-*.json`). Past `T` the rate is clamped at 0 instead of going negative (a negative
 * prune rate has no meaning; the official residue at `t = T` is about −2.4e-13).
 */
export class LinearDecaySchedule implements PruneRateSchedule {
  readonly id = LINEAR_DECAY_SCHEDULE_ID;
  readonly initial: number;
  readonly totalSteps: number;

  constructor(options: LinearDecayScheduleOptions) {
    checkRange('linear.initial', options.initial, 0, 1, '0 <= initial <= 1');
    checkInteger('linear.totalSteps', options.totalSteps, 1);
    this.initial = options.initial;
    this.totalSteps = options.totalSteps;
  }

  /** The prune rate after `step` mini-batches. */
  rateAt(step: number): number {
    checkStep('step', step);
    return Math.max(0, this.initial - (step * this.initial) / this.totalSteps);
  }
}
