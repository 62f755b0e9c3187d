import type { Preset } from './preset.js';
import { pruneRateScheduleFor, triggerFor } from './common.js';

/** Registry id of {@link sparseMomentumPreset}. */
export const SPARSE_MOMENTUM_PRESET_ID = 'sparse-momentum';

/**
 * Sparse Momentum (Dettmers & Zettlemoyer 2019), the paper's recipe per dataset (spec §4.3): uniform
 * Bernoulli initial masks at density `d`, magnitude pruning, momentum redistribution (0.99 cap, even overflow),
 * momentum growth, prune rate 0.5 with cosine decay to 0.005 stepped per mini-batch, one prune–regrow cycle
 * after every epoch except the last (spec §1.7–1.8), the growth-deficit controller on. Training: SGD with
 * Nesterov momentum 0.9, L2 5e-4, LR ×0.1 every `decayFrequency` mini-batches; the last-epoch test error is
 * reported (no best-validation selection).
 *
 * Deviations from the official HEAD code (all documented in `@sparse-learning/core`): momentum growth picks
 * only among zero positions (the issue-#22 fix), a negative regrowth budget is clamped instead of switching on
 * almost a whole layer, and the SET prune mode is the intended rule rather than HEAD's broken one.
 */
export const sparseMomentumPreset: Preset = {
  id: SPARSE_MOMENTUM_PRESET_ID,
  summary: 'Sparse Momentum: magnitude prune, momentum redistribution and growth, cosine prune rate, per epoch',
  reference: 'Dettmers & Zettlemoyer 2019, arXiv:1907.04840 (spec §1, §4.3)',
  defaults: () => ({
    prune: 'magnitude',
    growth: 'momentum',
    redistribution: 'momentum',
    decaySchedule: 'cosine',
    densityDistribution: 'uniform-bernoulli',
    maskUpdate: { mode: 'epoch' },
  }),
  plan: (ctx) => ({
    sparsity: 'dynamic',
    maskUpdater: { regrowth: 'redistribute', controller: true },
    trigger: triggerFor(ctx),
    pruneRateSchedule: pruneRateScheduleFor(ctx),
    gradientTransforms: [],
  }),
};
