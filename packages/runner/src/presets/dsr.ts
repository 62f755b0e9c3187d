import type { Preset } from './preset.js';

/** Registry id of {@link dsrPreset}. */
export const DSR_PRESET_ID = 'dsr';

/**
 * Dynamic Sparse Reparameterization (Mostafa & Wang 2019, ICML, §3 and Algorithm 1; docs/algorithm.md#baselines), as the DSR
 * codebase runs it with `--rewire --threshold-prune --rewire-scaling` (the code the Sparse Momentum paper took
 * its DSR numbers from):
 * - prune: every active weight with `|w| < H`, one global threshold (`adaptive-threshold`); `H` starts at
 *   1e-3 and is halved when more than 1.1·N_p were pruned, doubled when fewer than 0.9·N_p (N_p = 600);
 * - reallocation: exactly the pruned total is regrown, shared across layers in proportion to each layer's
 *   surviving weights (`surviving`, engine `regrowth: 'proportional'`: round half to even, the rounding
 *   discrepancy to a random layer);
 * - growth: uniformly random zero positions of the layer, excluding the just-pruned ones; new weights 0;
 * - when: after iteration `j ≠ 0` with `j mod P = 0`, `P` from the published DSR schedule 100 → 200 @25 →
 *   400 @80 → 800 @140 epochs (trigger `rewire-period`), scaled by its option `every / 100` (so
 *   `--trigger-opt every=50` halves every period), until its `endFraction` of the run (DSR: never stops);
 * - initial masks: the same exact count in every layer (`uniform-exact`; DSR draws `int((1−s)·n + 0.1)` per
 *   tensor); no growth controller, no Sparse Momentum prune-rate adjustment.
 *
 * Deviations, each chosen to match how the other baselines here are run or because the source is not public:
 * - the training recipe (SGD-Nesterov, step LR, L2 5e-4, 100 epochs) is the dataset's Sparse Momentum recipe,
 *   not DSR's own (its MNIST learning-rate and L1/L2 settings are not in the sources we read);
 * - the rewire-period schedule is DSR's published WRN/CIFAR file; its MNIST schedule file is not public;
 * - DSR's threshold and growth act on every masked tensor here (all LeNet kernels, as for the other presets);
 * - if a negative rounding discrepancy lands on a layer that wanted less than it, DSR grows more than it pruned
 *   (it logs a discrepancy); here the total is kept exact (see `planProportionalRegrowth`).
 */
export const dsrPreset: Preset = {
  id: DSR_PRESET_ID,
  summary: 'DSR: global adaptive threshold |w| < H (N_p = 600), regrowth ∝ surviving weights, random growth',
  reference: 'Mostafa & Wang 2019, "Dynamic Sparse Reparameterization", ICML (§3, Algorithm 1)',
  sparsity: 'dynamic',
  maskUpdater: { regrowth: 'proportional', controller: false },
  config: {
    prune: 'adaptive-threshold',
    growth: { id: 'random', options: { exactCount: true, excludeJustPruned: true } },
    redistribution: 'surviving',
    // the threshold decides the count; the schedule only feeds the event log.
    pruneRate: 0,
    decaySchedule: 'constant',
    densityDistribution: 'uniform-exact',
    trigger: 'rewire-period',
  },
};
