import { absolute, removeLowestActive } from '@sparse-learning/core';
import type { LayerView, PruneRequest, PruneStrategy, StrategyContext } from '@sparse-learning/core';

/** Registry id of {@link MagnitudePrune}. */
export const MAGNITUDE_PRUNE_ID = 'magnitude';

/** Options of {@link MagnitudePrune}. There are none today; the parameter exists so every plugin is configured the same way. */
export type MagnitudePruneOptions = Record<string, never>;

/**
 * Magnitude pruning, the Sparse Momentum default (docs/algorithm.md#the-mask-update, official `magnitude_prune`): removes the
 * `r = request.count` active weights with the smallest `|w|`.
 *
 * Edge case kept from the official code: when `r == 0` the result is `mask ∧ (w ≠ 0)`, which can drop active
 * weights that are exactly 0 (the engine does not count-check a zero request).
 *
 * Ties in `|w|` are broken by position (lower index first); PyTorch's sort is not stable, so on ties the
 * official choice is arbitrary (docs/algorithm.md#pitfalls-of-the-official-code).
 */
export class MagnitudePrune implements PruneStrategy {
  readonly id = MAGNITUDE_PRUNE_ID;
  readonly countPolicy = 'exact' as const;

  constructor(readonly options?: MagnitudePruneOptions) {}

  prune(layer: LayerView, request: PruneRequest, _ctx: StrategyContext): Uint8Array {
    if (request.count <= 0) return nonzeroMask(layer);
    return removeLowestActive(layer.mask, absolute(layer.weight), request.count);
  }
}

/** `mask ∧ (w ≠ 0)`: the official `weight.data != 0.0` return for a zero removal count. */
export function nonzeroMask(layer: LayerView): Uint8Array {
  const out = new Uint8Array(layer.size);
  for (let i = 0; i < layer.size; i++) out[i] = layer.mask[i] === 1 && layer.weight[i] !== 0 ? 1 : 0;
  return out;
}
