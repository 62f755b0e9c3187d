import type { LayerRequirement, LayerView, StrategyContext } from './layer-view.js';

/** What the engine asks of a prune hook for one layer (docs/algorithm.md#the-mask-update). */
export interface PruneRequest {
  /** `r_i = ceil(p_i · nz_i)`: how many active weights to remove. */
  readonly count: number;
  /** `p_i`, the layer's prune rate after the >80 %-dense adjustment (docs/algorithm.md#the-mask-update). */
  readonly pruneRate: number;
}

/**
 * Removes weights from a layer's mask (docs/algorithm.md#the-mask-update, docs/algorithm.md#strategy-variants).
 *
 * Contract (checked by the engine and by `@sparse-learning/testing`):
 * - returns a new `Uint8Array` mask of the layer's size, 0/1 only;
 * - never activates a position (the result is a subset of `layer.mask`);
 * - with `countPolicy: 'exact'` removes exactly `request.count` weights (when `request.count` is 0 the
 *   official magnitude rule returns `mask ∧ (w ≠ 0)` and may drop active zeros);
 * - with `countPolicy: 'free'` decides its own count (sign-flip pruning, global thresholds).
 */
export interface PruneStrategy {
  /** Registry id, lower-kebab (e.g. `'magnitude'`). */
  readonly id: string;
  readonly countPolicy: 'exact' | 'free';
  /**
   * True for strategies that prune against one global threshold (docs/algorithm.md#strategy-variants `global_magnitude`): the engine
   * then scales regrowth as the official code does, `regrow_i = floor(total_removed / (baseline·p_i) · g_i)`.
   */
  readonly global?: boolean;
  /** Inputs the hook needs besides weights and masks. */
  readonly requires?: readonly LayerRequirement[];
  /** Called once per update with every layer before any {@link PruneStrategy.prune} call (global thresholds). */
  prepare?(layers: readonly LayerView[], ctx: StrategyContext): void;
  /** Returns the layer's mask after pruning. */
  prune(layer: LayerView, request: PruneRequest, ctx: StrategyContext): Uint8Array;
}
