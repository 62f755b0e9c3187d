import type { PruneRateSchedule } from '../contracts/schedules.js';
import { checkInteger, checkRange, checkStep } from './validate.js';

/** Registry id of {@link CosineDecaySchedule}. */
export const COSINE_DECAY_SCHEDULE_ID = 'cosine';

/** Options of {@link CosineDecaySchedule}. */
export interface CosineDecayScheduleOptions {
  /** Initial prune rate `p0` (official default 0.5), in `[0, 1]`. */
  readonly initial: number;
  /** `T_max = epochs × batchesPerEpoch`: the number of mini-batches over which the rate decays. */
  readonly totalSteps: number;
  /** Floor `eta_min` reached at `t = T_max` (official 0.005), in `[0, initial]`. */
  readonly etaMin?: number;
}

/**
 * Cosine prune-rate decay (docs/algorithm.md#the-prune-rate-schedule, the official `CosineDecay`, a wrapper around torch's
 * `CosineAnnealingLR` with `eta_min = 0.005`): `p(t) = etaMin + (p0 − etaMin)(1 + cos(πt/T)) / 2`.
 *
 * Deviation: torch evaluates the cosine recursively, we use the closed form; the two agree within 8e-15 on
 * the golden cases (`golden/schedule/prune-rate-cosine-*.json`). Like torch, the curve is periodic past `T`.
 */
export class CosineDecaySchedule implements PruneRateSchedule {
  readonly id = COSINE_DECAY_SCHEDULE_ID;
  readonly initial: number;
  readonly totalSteps: number;
  readonly etaMin: number;

  constructor(options: CosineDecayScheduleOptions) {
    const etaMin = options.etaMin ?? 0.005;
    checkRange('cosine.initial', options.initial, 0, 1, '0 <= initial <= 1');
    checkInteger('cosine.totalSteps', options.totalSteps, 1);
    checkRange('cosine.etaMin', etaMin, 0, options.initial, `0 <= etaMin <= initial (${options.initial})`);
    this.initial = options.initial;
    this.totalSteps = options.totalSteps;
    this.etaMin = etaMin;
  }

  /** The prune rate after `step` mini-batches. */
  rateAt(step: number): number {
    checkStep('step', step);
    return this.etaMin + ((this.initial - this.etaMin) * (1 + Math.cos((Math.PI * step) / this.totalSteps))) / 2;
  }
}
