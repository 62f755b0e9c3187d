import {
  ConstantSchedule,
  CosineDecaySchedule,
  EpochEndTrigger,
  EveryKStepsTrigger,
  LinearDecaySchedule,
  type MaskUpdateTrigger,
  type PruneRateSchedule,
} from '@sparse-learning/core';
import type { PresetContext } from './preset.js';

/**
 * The prune-rate schedule named by `config.decaySchedule` (spec §1.6): cosine to 0.005, linear to 0, or
 * constant; `T_max = epochs × batches per epoch`, stepped once per mini-batch.
 */
export function pruneRateScheduleFor({ config, totalSteps }: PresetContext): PruneRateSchedule {
  switch (config.decaySchedule) {
    case 'linear':
      return new LinearDecaySchedule({ initial: config.pruneRate, totalSteps });
    case 'constant':
      return new ConstantSchedule({ rate: config.pruneRate });
    case 'cosine':
    default:
      return new CosineDecaySchedule({
        initial: config.pruneRate,
        totalSteps,
        etaMin: Math.min(0.005, config.pruneRate),
      });
  }
}

/**
 * The mask-update trigger named by `config.maskUpdate` (spec §1.7): after every epoch but the last, or every
 * `every` steps up to `endFraction · T_max` (inclusive).
 */
export function triggerFor({ config, totalSteps }: PresetContext): MaskUpdateTrigger {
  if (config.maskUpdate.mode === 'steps') {
    return new EveryKStepsTrigger({
      every: config.maskUpdate.every,
      end: Math.floor(config.maskUpdate.endFraction * totalSteps),
    });
  }
  return new EpochEndTrigger();
}
