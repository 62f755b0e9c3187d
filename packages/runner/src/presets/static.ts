import type { Preset } from './preset.js';

/** Registry id of {@link staticPreset}. */
export const STATIC_PRESET_ID = 'static';

/**
 * Static sparse training: a fixed random mask drawn once (by `densityDistribution`, uniform Bernoulli by
 * default) and never updated — the "static sparse" baseline of Mostafa & Wang 2019 (§4). Masked weights stay
 * at zero after every step; the prune rate is 0 throughout.
 */
export const staticPreset: Preset = {
  id: STATIC_PRESET_ID,
  summary: 'Static sparse: fixed random mask, never updated',
  reference: 'Mostafa & Wang 2019 "static sparse" baseline',
  sparsity: 'static',
  maskUpdater: {},
  config: { densityDistribution: 'uniform-bernoulli', pruneRate: 0, decaySchedule: 'constant' },
};
