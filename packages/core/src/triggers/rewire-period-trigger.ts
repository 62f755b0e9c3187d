import { outOfRangeError } from '../errors.js';
import type { MaskUpdateTrigger, TrainingPosition } from '../contracts/mask-update-trigger.js';

/** A step of a rewire-period schedule: from `epoch` (0-based) on, reallocate every `every` iterations. */
export interface RewirePeriodStep {
  readonly epoch: number;
  readonly every: number;
}

/**
 * The DSR codebase's published rewire-period schedule (`learning_schedules/wrnet_schedule_long.yaml`,
 * `rewire_period_schedule`): every 100 iterations, 200 from epoch 25, 400 from epoch 80, 800 from epoch 140.
 */
export const DSR_REWIRE_PERIODS: readonly RewirePeriodStep[] = Object.freeze([
  { epoch: 0, every: 100 },
  { epoch: 25, every: 200 },
  { epoch: 80, every: 400 },
  { epoch: 140, every: 800 },
]);

/** Registry id of {@link RewirePeriodTrigger}. */
export const REWIRE_PERIOD_TRIGGER_ID = 'rewire-period';

/**
 * DSR's reallocation trigger (DSR codebase training loop; Mostafa & Wang 2019, §3; docs/algorithm.md#baselines): after the optimizer step of
 * iteration `j` (0-based, counted over the whole run), reallocate when `j ≠ 0` and `j mod P(epoch) = 0`, with
 * `P` the period of the current epoch in a piecewise-constant schedule, and only before `stopEpoch`
 * (`--stop-rewire-epoch`). With `step` = completed steps, `j = step − 1`: with `P = 100` updates run after
 * steps 101, 201, 301, …. Never fires at epoch ends.
 */
export class RewirePeriodTrigger implements MaskUpdateTrigger {
  readonly id = REWIRE_PERIOD_TRIGGER_ID;
  readonly schedule: readonly RewirePeriodStep[];
  readonly stopEpoch: number;

  constructor(schedule: readonly RewirePeriodStep[], stopEpoch = Number.POSITIVE_INFINITY) {
    if (schedule.length === 0 || schedule[0].epoch !== 0) {
      throw outOfRangeError('rewirePeriods', JSON.stringify(schedule), 'a non-empty schedule whose first step is at epoch 0');
    }
    schedule.forEach((s, i) => {
      if (!Number.isInteger(s.every) || s.every < 1) throw outOfRangeError('rewirePeriods.every', s.every, 'an integer >= 1');
      if (i > 0 && !(Number.isInteger(s.epoch) && s.epoch > schedule[i - 1].epoch)) {
        throw outOfRangeError('rewirePeriods.epoch', s.epoch, `an integer > ${schedule[i - 1].epoch} (epochs increase)`);
      }
    });
    this.schedule = schedule;
    this.stopEpoch = stopEpoch;
  }

  /** The period `P` in force during (0-based) `epoch`. */
  periodAt(epoch: number): number {
    let every = this.schedule[0].every;
    for (const s of this.schedule) if (epoch >= s.epoch) every = s.every;
    return every;
  }

  afterStep(position: TrainingPosition): boolean {
    const j = position.step - 1;
    if (j <= 0 || position.epoch >= this.stopEpoch) return false;
    return j % this.periodAt(position.epoch) === 0;
  }

  afterEpoch(_position?: TrainingPosition): boolean {
    return false;
  }
}
