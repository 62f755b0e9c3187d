import type { Preset } from './preset.js';

/** Registry id of {@link riglPreset}. */
export const RIGL_PRESET_ID = 'rigl';

/**
 * RigL (Evci et al. 2020, §3), an extra baseline: every ΔT = `triggerOptions.every` steps (default 100) until
 * T_end = `triggerOptions.endFraction · T_max` (default 0.75), each layer drops the fraction
 * `α(t) = α/2 · (1 + cos(π t / T_end))` (α = `pruneRate`, default 0.3) of its active weights with the smallest
 * magnitude and regrows as many zero positions with the largest dense-gradient magnitude in the same layer;
 * new weights start at 0.
 *
 * Deviations from the RigL paper: uniform Bernoulli initial masks by default (RigL uses ERK for CNNs; set
 * `densityDistribution: 'erk'`); the dataset's Sparse Momentum recipe (SGD-Nesterov, step LR) instead of
 * RigL's; the gradient is the last mini-batch's dense gradient (RigL uses the same; no extra batch). The
 * cosine decay's `endFraction` is set separately from the trigger's: change both to move T_end.
 */
export const riglPreset: Preset = {
  id: RIGL_PRESET_ID,
  summary: 'RigL: magnitude drop, gradient growth every ΔT = 100 steps until 75 % of training, cosine drop fraction',
  reference: 'Evci et al. 2020, "Rigging the Lottery", ICML (extra baseline)',
  sparsity: 'dynamic',
  maskUpdater: { regrowth: 'in-place', controller: false },
  config: {
    prune: 'magnitude',
    growth: 'gradient',
    redistribution: 'none',
    pruneRate: 0.3,
    decaySchedule: { id: 'cosine', options: { etaMin: 0, endFraction: 0.75 } },
    densityDistribution: 'uniform-bernoulli',
    trigger: { id: 'every-k-steps', options: { every: 100, endFraction: 0.75 } },
  },
};
