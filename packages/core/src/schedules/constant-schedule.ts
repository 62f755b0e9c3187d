import type { PruneRateSchedule } from '../contracts/schedules.js';
import { checkRange, checkStep } from './validate.js';

/** Registry id of {@link ConstantSchedule}. */
export const CONSTANT_SCHEDULE_ID = 'constant';

/** Options of {@link ConstantSchedule}. */
export interface ConstantScheduleOptions {
  /** The prune rate at every step, in `[0, 1]`. */
  readonly rate: number;
}

/** A prune rate that never decays (an ablation of docs/algorithm.md#the-prune-rate-schedule; DeepR/SET-style fixed rates). */
export class ConstantSchedule implements PruneRateSchedule {
  readonly id = CONSTANT_SCHEDULE_ID;
  readonly rate: number;

  constructor(options: ConstantScheduleOptions) {
    checkRange('constant.rate', options.rate, 0, 1, '0 <= rate <= 1');
    this.rate = options.rate;
  }

  rateAt(step: number): number {
    checkStep('step', step);
    return this.rate;
  }
}
