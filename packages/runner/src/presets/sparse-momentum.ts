import type { Preset } from './preset.js';

/** Registry id of {@link sparseMomentumPreset}. */
export const SPARSE_MOMENTUM_PRESET_ID = 'sparse-momentum';

/**
 * Sparse Momentum (Dettmers & Zettlemoyer 2019, §3 and Algorithm 1; docs/algorithm.md): uniform Bernoulli
 * initial masks at density `d`, magnitude pruning, momentum redistribution (0.99 cap, even overflow), momentum
 * growth, prune rate 0.5 with cosine decay to 0.005 stepped per mini-batch, one prune–regrow cycle after every
 * epoch except the last, the growth-deficit controller on. Training: the dataset's recipe (SGD with Nesterov
 * momentum 0.9, L2 5e-4, LR ×0.1 every `decayFrequency` mini-batches); the last-epoch test error is reported.
 *
 * Deviations from the official HEAD code (documented in `@sparse-learning/core`): momentum growth picks only
 * among zero positions (the issue-#22 fix; `growthOptions.legacyTopK` restores HEAD), a negative regrowth
 * budget is clamped instead of switching on almost a whole layer.
 */
export const sparseMomentumPreset: Preset = {
  id: SPARSE_MOMENTUM_PRESET_ID,
  summary: 'Sparse Momentum: magnitude prune, momentum redistribution and growth, cosine prune rate, per epoch',
  reference: 'Dettmers & Zettlemoyer 2019, arXiv:1907.04840 (§3, Algorithm 1)',
  sparsity: 'dynamic',
  maskUpdater: { regrowth: 'redistribute', controller: true },
  config: {
    prune: 'magnitude',
    growth: 'momentum',
    redistribution: 'momentum',
    decaySchedule: 'cosine',
    densityDistribution: 'uniform-bernoulli',
    trigger: 'epoch-end',
  },
};
