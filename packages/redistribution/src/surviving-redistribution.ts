import type { LayerView, RedistributionStrategy, StrategyContext } from '@sparse-learning/core';

/** Registry id of {@link SurvivingRedistribution}. */
export const SURVIVING_REDISTRIBUTION_ID = 'surviving';

/** Options of {@link SurvivingRedistribution}. None today. */
export type SurvivingRedistributionOptions = Record<string, never>;

/**
 * DSR's reallocation statistic (Mostafa & Wang 2019, Algorithm 1; DSR codebase `--rewire-scaling`; docs/algorithm.md#baselines):
 * `s_i` = the number of weights of layer `i` that *survived* this update's pruning, so the freed parameters go
 * to layers in proportion to what they kept. `afterPrune: true` makes the engine call it on the pruned mask
 * (before pruning, for the >80 %-dense prune-rate adjustment, it counts the active weights). NaN for a layer
 * without active weights, as the other count statistics.
 *
 * DSR computes `grow_backs ∝ mean(K_l / R_l) · R_l`, which is `∝ R_l` (the mean is one number for all layers);
 * the engine's normalisation gives the same shares.
 */
export class SurvivingRedistribution implements RedistributionStrategy {
  readonly id = SURVIVING_REDISTRIBUTION_ID;
  readonly afterPrune = true;

  constructor(readonly options?: SurvivingRedistributionOptions) {}

  statistic(layer: LayerView, _ctx: StrategyContext): number {
    let count = 0;
    for (let i = 0; i < layer.size; i++) count += layer.mask[i];
    return count === 0 ? Number.NaN : count;
  }
}
