import type { LayerRequirement, LayerView, StrategyContext } from './layer-view.js';

/**
 * Decides how the freed budget is shared across layers (docs/algorithm.md#the-mask-update, docs/algorithm.md#strategy-variants): returns the raw statistic `s_i`
 * of one layer, measured *before* pruning. The engine normalises `v_i = s_i / Σ s_j` (skipping NaN), applies
 * the >80 %-dense adjustment, and runs the 0.99-capped, evenly-overflowing redistribution loop.
 *
 * Contract: a finite number ≥ 0, or NaN for a layer with no active weight (excluded from the sum, as in the
 * official code). Must not depend on anything but the view, the context and its own options.
 */
export interface RedistributionStrategy {
  readonly id: string;
  readonly requires?: readonly LayerRequirement[];
  /**
   * `true`: the statistic is measured *after* pruning — the views carry the pruned mask and its active count
   * (DSR reallocates in proportion to each layer's surviving weights, Mostafa & Wang 2019 §3). The engine then
   * skips the >80 %-dense prune-rate adjustment (docs/algorithm.md#the-mask-update), which needs the shares before pruning.
   * Default `false` (Sparse Momentum: measured before pruning).
   */
  readonly afterPrune?: boolean;
  statistic(layer: LayerView, ctx: StrategyContext): number;
}
