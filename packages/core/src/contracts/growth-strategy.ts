import type { LayerRequirement, LayerView, StrategyContext } from './layer-view.js';

/** What the engine asks of a growth hook for one layer (docs/algorithm.md#the-mask-update). */
export interface GrowthRequest {
  /** `regrow_i = floor(g_i)` from the redistribution loop: how many positions to enable. */
  readonly count: number;
}

/**
 * Enables new weights in a layer (docs/algorithm.md#the-mask-update, docs/algorithm.md#strategy-variants). `layer.mask` is the mask *after pruning*: the
 * positions that are 0 there (just-pruned ones included) are the candidates. New weights keep their current
 * value: 0 for positions that were masked before the update, the old value for a weight pruned and regrown in
 * the same update (the engine applies the mask once, after growth).
 *
 * Contract (checked by the engine and by `@sparse-learning/testing`):
 * - returns a new `Uint8Array` mask of the layer's size, 0/1 only, a superset of `layer.mask`;
 * - `countPolicy: 'exact'` enables exactly `request.count` positions (or every zero position if fewer exist);
 * - `'at-most'` enables at most `request.count` (e.g. the official issue-#22 top-k behaviour);
 * - `'stochastic'` enables a random number whose expectation is `request.count` (official random growth).
 */
export interface GrowthStrategy {
  readonly id: string;
  readonly countPolicy: 'exact' | 'at-most' | 'stochastic';
  readonly requires?: readonly LayerRequirement[];
  grow(layer: LayerView, request: GrowthRequest, ctx: StrategyContext): Uint8Array;
}
