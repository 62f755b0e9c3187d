import { ConstantSchedule, EpochEndTrigger } from '@sparse-learning/core';
import type { Preset } from './preset.js';

/** Registry id of {@link densePreset}. */
export const DENSE_PRESET_ID = 'dense';

/**
 * The dense baseline (official `--dense`): no masks and no mask updates; same optimizer and recipe as Sparse
 * Momentum. `density` is reported as 1 whatever the configuration says.
 */
export const densePreset: Preset = {
  id: DENSE_PRESET_ID,
  summary: 'Dense baseline: no masking, same recipe',
  reference: 'official main.py --dense (spec §2.1)',
  defaults: () => ({ density: 1 }),
  plan: () => ({
    sparsity: 'dense',
    maskUpdater: {},
    trigger: new EpochEndTrigger(),
    pruneRateSchedule: new ConstantSchedule({ rate: 0 }),
    gradientTransforms: [],
  }),
};
