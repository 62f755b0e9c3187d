import type { Preset } from './preset.js';

/** Registry id of {@link setPreset}. */
export const SET_PRESET_ID = 'set';

/**
 * Sparse Evolutionary Training (Mocanu et al. 2018; docs/algorithm.md#baselines): Erdős–Rényi initial masks, and after every
 * epoch (but the last) each layer removes a fraction ζ = 0.3 of its active weights by the SET rule (half the
 * smallest positive, half the largest negative weights) and regrows exactly as many at uniformly random zero
 * positions of the *same* layer — no cross-layer redistribution, no growth controller. ζ stays constant.
 *
 * Deviations from the SET paper, each chosen to match how the Sparse Momentum paper ran its baselines (DSR
 * codebase) or to keep the comparison fair:
 * - new weights start at 0 (SET draws them from the initialisation distribution);
 * - the just-pruned positions are excluded from regrowth (DSR codebase);
 * - the initial mask is Erdős–Rényi by default (`densityDistribution: 'erdos-renyi'`, per-layer density
 *   ∝ (n_in + n_out)/(n_in·n_out) at the same total); set `densityDistribution: 'uniform-bernoulli'` for
 *   the uniform masks of the other presets;
 * - the training recipe (optimizer, LR schedule, epochs, L2) is the dataset's Sparse Momentum recipe, not
 *   SET's own (SET used plain SGD with dropout on its own MLPs).
 */
export const setPreset: Preset = {
  id: SET_PRESET_ID,
  summary: 'SET: SET-rule prune ζ = 0.3 per epoch, random regrowth in the same layer, Erdős–Rényi init',
  reference: 'Mocanu et al. 2018, Nature Communications 9:2383',
  sparsity: 'dynamic',
  maskUpdater: { regrowth: 'in-place', controller: false },
  config: {
    prune: 'set',
    growth: { id: 'random', options: { exactCount: true, excludeJustPruned: true } },
    redistribution: 'none',
    pruneRate: 0.3,
    decaySchedule: 'constant',
    densityDistribution: 'erdos-renyi',
    trigger: 'epoch-end',
  },
};
