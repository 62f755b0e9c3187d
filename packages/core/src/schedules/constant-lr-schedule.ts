import type { LearningRateSchedule } from '../contracts/schedules.js';
import { checkRange, checkStep } from './validate.js';

/** Registry id of {@link ConstantLrSchedule}. */
export const CONSTANT_LR_SCHEDULE_ID = 'constant';

/** Options of {@link ConstantLrSchedule}. */
export interface ConstantLrScheduleOptions {
  /** The learning rate of every batch (> 0). */
  readonly rate: number;
}

/** A fixed learning rate (docs/algorithm.md#recipes with no decay; useful for tests and short runs). */
export class ConstantLrSchedule implements LearningRateSchedule {
  readonly id = CONSTANT_LR_SCHEDULE_ID;
  readonly rate: number;

  constructor(options: ConstantLrScheduleOptions) {
    checkRange('constantLr.rate', options.rate, Number.MIN_VALUE, Number.MAX_VALUE, 'rate > 0');
    this.rate = options.rate;
  }

  rateAt(batch: number): number {
    checkStep('batch', batch);
    return this.rate;
  }
}
