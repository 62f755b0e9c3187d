import type { Preset } from './preset.js';

/** Registry id of {@link densePreset}. */
export const DENSE_PRESET_ID = 'dense';

/**
 * The dense baseline (official `--dense`): no masks and no mask updates; same optimizer and recipe as Sparse
 * Momentum. `density` is recorded as 1 whatever the configuration says.
 */
export const densePreset: Preset = {
  id: DENSE_PRESET_ID,
  summary: 'Dense baseline: no masking, same recipe',
  reference: 'official main.py --dense',
  sparsity: 'dense',
  maskUpdater: {},
  config: { density: 1, pruneRate: 0, decaySchedule: 'constant' },
};
