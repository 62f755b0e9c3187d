import { EPOCH_END_TRIGGER_ID, EpochEndTrigger } from '../../triggers/epoch-end-trigger.js';
import { EVERY_K_STEPS_TRIGGER_ID, EveryKStepsTrigger } from '../../triggers/every-k-steps-trigger.js';
import { DSR_REWIRE_PERIODS, REWIRE_PERIOD_TRIGGER_ID, RewirePeriodTrigger, type RewirePeriodStep } from '../../triggers/rewire-period-trigger.js';
import { option } from '../options.js';
import { definePlugin } from '../plugin.js';

/** One mask update after every epoch but the last, the Sparse Momentum default (paper §3, Algorithm 1). */
export const epochEndTriggerPlugin = definePlugin({
  kind: 'mask-update-trigger',
  id: EPOCH_END_TRIGGER_ID,
  summary: 'after every epoch except the last (official)',
  options: {},
  create: () => new EpochEndTrigger(),
});

/** A mask update every `every` steps until `endFraction` of the run (RigL's ΔT and T_end; DeepR every step). */
export const everyKStepsTriggerPlugin = definePlugin({
  kind: 'mask-update-trigger',
  id: EVERY_K_STEPS_TRIGGER_ID,
  summary: 'every k optimizer steps until a fraction of the run (RigL ΔT, T_end; DeepR every step)',
  options: {
    every: option.integer(100, 'period in optimizer steps', { min: 1 }),
    endFraction: option.number(1, 'last update at floor(endFraction · total steps), inclusive', { greaterThan: 0, max: 1 }),
  },
  create: ({ every, endFraction }, { run }) =>
    new EveryKStepsTrigger({ every, end: Math.max(1, Math.floor(endFraction * run.totalSteps)) }),
});

function periodSchedule(value: unknown): RewirePeriodStep[] {
  if (!Array.isArray(value)) throw new Error('needs a list of steps');
  return value.map((step, i) => {
    const s = step as Partial<RewirePeriodStep> | null;
    if (!s || typeof s !== 'object' || typeof s.epoch !== 'number' || typeof s.every !== 'number') {
      throw new Error(`step ${i} must be an object { epoch, every }`);
    }
    return { epoch: s.epoch, every: s.every };
  });
}

/**
 * DSR's reallocation trigger (Mostafa & Wang 2019, §3; docs/algorithm.md#baselines): after iteration `j ≠ 0` with
 * `j mod P(epoch) = 0`, `P` from a per-epoch schedule (DSR's published 100 → 200 @25 → 400 @80 → 800 @140),
 * every period scaled by `every / 100`, until `endFraction` of the run in whole epochs (DSR: never stops).
 */
export const rewirePeriodTriggerPlugin = definePlugin({
  kind: 'mask-update-trigger',
  id: REWIRE_PERIOD_TRIGGER_ID,
  summary: "every P(epoch) iterations, DSR's schedule 100 → 200 @25 → 400 @80 → 800 @140 (DSR)",
  options: {
    every: option.number(100, 'the first period; every later period scales with it (every / 100)', { greaterThan: 0 }),
    periods: option.json<readonly RewirePeriodStep[]>(DSR_REWIRE_PERIODS, 'the period schedule by epoch', '[{ "epoch": integer, "every": integer }, …] starting at epoch 0', periodSchedule),
    endFraction: option.number(1, 'stop rewiring at this fraction of the run, in whole epochs', { greaterThan: 0, max: 1 }),
  },
  create: ({ every, periods, endFraction }, { run }) => {
    const scaled = periods.map((s) => ({ epoch: s.epoch, every: Math.max(1, Math.round((s.every * every) / 100)) }));
    const stopEpoch = endFraction >= 1 ? Number.POSITIVE_INFINITY : Math.floor((endFraction * run.totalSteps) / run.stepsPerEpoch);
    return new RewirePeriodTrigger(scaled, stopEpoch);
  },
});
