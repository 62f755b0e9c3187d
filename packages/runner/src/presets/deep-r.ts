import type { Preset } from './preset.js';

/** Registry id of {@link deepRPreset}. */
export const DEEP_R_PRESET_ID = 'deep-r';

/**
 * Deep Rewiring (Bellec et al. 2018, §2; docs/algorithm.md#baselines): every connection has a fixed sign (the `sign-flip` prune
 * strategy draws and keeps it); after *every* optimizer step, active weights whose sign left their fixed sign
 * become dormant and exactly as many dormant connections, chosen uniformly at random among the zero positions
 * of the same layer excluding the just-pruned ones, are activated at 0 — so the number of connections is
 * constant at every step. Signs are fixed at initialisation (init hook `deep-r-signs`). Gradients of active
 * weights get Gaussian noise `sqrt(2ηT)` and the L1 term `α·sign(w)`
 * (gradient transform `deep-r-noise-l1`); the temperature `T` follows a per-epoch schedule (DSR CIFAR schedule
 * 1e-5 → 1e-8 @25 → 1e-12 @80 → 1e-15 @140, option `temperature` of the transform). No growth controller, no redistribution.
 *
 * Deviations, following the DSR codebase the Sparse Momentum paper took its DeepR numbers from:
 * - weight decay is off by default (`l2: 0`, as DSR ran DeepR), the L1 term takes its place;
 * - noise is added to the gradient before momentum SGD (not to the update), `η` = the transform's option `eta` (0.01);
 * - a regrown connection starts at exactly 0 and takes the fixed sign as soon as it moves; if its first move
 *   goes against the fixed sign it is pruned again at the next step (the original re-activates at θ = 0 too);
 * - the training recipe (SGD-Nesterov, step LR) is the dataset's Sparse Momentum recipe.
 *
 * Two behaviours of the DSR codebase stay options, off by default (issue 14, results/README.md: alone, neither
 * helped in short diagnostic runs at 2 %): `--prune-opt signs=first-move` (a regrown connection takes the sign
 * of its first move instead of a drawn one) and the transform option `maskGradient` (dormant weights get no
 * gradient, so a regrown weight starts without accumulated momentum). The DSR codebase's MNIST network has
 * batch norm and no biases: `--model dsr-mnist-mlp`.
 */
export const deepRPreset: Preset = {
  id: DEEP_R_PRESET_ID,
  summary: 'DeepR: sign-flip prune every step, random in-place regrowth, gradient noise sqrt(2ηT) + L1, no L2',
  reference: 'Bellec et al. 2018, "Deep Rewiring", ICLR (§2)',
  sparsity: 'dynamic',
  maskUpdater: { regrowth: 'in-place', controller: false },
  config: {
    prune: 'sign-flip',
    growth: { id: 'random', options: { exactCount: true, excludeJustPruned: true } },
    redistribution: 'none',
    // sign-flip pruning decides its own count; the schedule only feeds the event log.
    pruneRate: 0,
    decaySchedule: 'constant',
    densityDistribution: 'uniform-bernoulli',
    l2: 0,
    trigger: { id: 'every-k-steps', options: { every: 1, endFraction: 1 } },
    gradientTransforms: ['deep-r-noise-l1'],
    initHooks: ['deep-r-signs'],
  },
};
