import type { MaskUpdateTrigger, TrainingPosition } from '../contracts/mask-update-trigger.js';
import { outOfRangeError } from '../errors.js';

/** Registry id of {@link EveryKStepsTrigger}. */
export const EVERY_K_STEPS_TRIGGER_ID = 'every-k-steps';

/** Options of {@link EveryKStepsTrigger}, all in optimizer steps (mini-batches). */
export interface EveryKStepsTriggerOptions {
  /** Period `k` (official `prune_every_k_steps`; RigL `frequency`). Integer >= 1. */
  readonly every: number;
  /** First step at which an update may fire (default 0). Updates fire at `begin + j·k`. */
  readonly begin?: number;
  /** Last step at which an update may fire, inclusive (default: no end). */
  readonly end?: number;
}

/**
 * Fires every `k` optimizer steps between bounds (docs/algorithm.md#when-masks-change alternative: official `Masking(prune_every_k_steps)`
 * fires when `steps % k == 0`; RigL adds begin/end steps). Fires when `step >= begin`, `step <= end` and
 * `(step − begin) % k == 0`, with `step` the number of completed steps (so never before the first step).
 * Never fires at epoch ends: do not combine with {@link EpochEndTrigger}.
 */
export class EveryKStepsTrigger implements MaskUpdateTrigger {
  readonly id = EVERY_K_STEPS_TRIGGER_ID;
  readonly every: number;
  readonly begin: number;
  readonly end: number;

  constructor(options: EveryKStepsTriggerOptions) {
    const begin = options.begin ?? 0;
    const end = options.end ?? Number.POSITIVE_INFINITY;
    if (!Number.isInteger(options.every) || options.every < 1) {
      throw outOfRangeError('everyKSteps.every', options.every, 'an integer >= 1');
    }
    if (!Number.isInteger(begin) || begin < 0) throw outOfRangeError('everyKSteps.begin', begin, 'an integer >= 0');
    if (end !== Number.POSITIVE_INFINITY && (!Number.isInteger(end) || end < begin)) {
      throw outOfRangeError('everyKSteps.end', end, `an integer >= begin (${begin})`);
    }
    this.every = options.every;
    this.begin = begin;
    this.end = end;
  }

  afterStep(position: TrainingPosition): boolean {
    const { step } = position;
    return step > 0 && step >= this.begin && step <= this.end && (step - this.begin) % this.every === 0;
  }

  afterEpoch(_position?: TrainingPosition): boolean {
    return false;
  }
}
