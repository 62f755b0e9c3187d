import { CosineDecaySchedule, EveryKStepsTrigger } from '@sparse-learning/core';
import type { Preset } from './preset.js';

/** Registry id of {@link riglPreset}. */
export const RIGL_PRESET_ID = 'rigl';

/**
 * RigL (Evci et al. 2020), an extra baseline: every ΔT = `maskUpdate.every` steps (default 100) until
 * T_end = `maskUpdate.endFraction · T_max` (default 0.75), each layer drops the fraction
 * `α(t) = α/2 · (1 + cos(π t / T_end))` (α = `pruneRate`, default 0.3) of its active weights with the smallest
 * magnitude and regrows as many zero positions with the largest dense-gradient magnitude in the same layer;
 * new weights start at 0.
 *
 * Deviations from the RigL paper: uniform Bernoulli initial masks by default (RigL uses ERK for CNNs; set
 * `densityDistribution: 'erk'`); the dataset's Sparse Momentum recipe (SGD-Nesterov, step LR) instead of
 * RigL's; the gradient is the last mini-batch's dense gradient (RigL uses the same; no extra batch).
 */
export const riglPreset: Preset = {
  id: RIGL_PRESET_ID,
  summary: 'RigL: magnitude drop, gradient growth every ΔT = 100 steps until 75 % of training, cosine drop fraction',
  reference: 'Evci et al. 2020, "Rigging the Lottery", ICML (extra baseline)',
  defaults: () => ({
    prune: 'magnitude',
    growth: 'gradient',
    redistribution: 'none',
    pruneRate: 0.3,
    decaySchedule: 'cosine',
    densityDistribution: 'uniform-bernoulli',
    maskUpdate: { mode: 'steps', every: 100, endFraction: 0.75 },
  }),
  plan: ({ config, totalSteps }) => {
    const end = Math.max(1, Math.floor(config.maskUpdate.endFraction * totalSteps));
    return {
      sparsity: 'dynamic',
      maskUpdater: { regrowth: 'in-place', controller: false },
      trigger: new EveryKStepsTrigger({ every: config.maskUpdate.every, end }),
      pruneRateSchedule: new CosineDecaySchedule({ initial: config.pruneRate, totalSteps: end, etaMin: 0 }),
      gradientTransforms: [],
    };
  },
};
