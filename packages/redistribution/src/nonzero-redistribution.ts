import type { LayerView, RedistributionStrategy, StrategyContext } from '@sparse-learning/core';

/** Registry id of {@link NonzeroRedistribution}. */
export const NONZERO_REDISTRIBUTION_ID = 'nonzero';

/** Options of {@link NonzeroRedistribution}. None today. */
export type NonzeroRedistributionOptions = Record<string, never>;

/**
 * Non-zero redistribution (docs/algorithm.md#strategy-variants, official `nonzero_redistribution`): `s_i` = number of weights `w ≠ 0`
 * (over the whole tensor, as the official code counts; masked weights are 0), so regrowth is proportional to
 * the layer's current size and roughly keeps the current layer distribution. 0 for an empty layer.
 */
export class NonzeroRedistribution implements RedistributionStrategy {
  readonly id = NONZERO_REDISTRIBUTION_ID;

  constructor(readonly options?: NonzeroRedistributionOptions) {}

  statistic(layer: LayerView, _ctx: StrategyContext): number {
    let count = 0;
    for (let i = 0; i < layer.size; i++) if (layer.weight[i] !== 0) count++;
    return count;
  }
}
