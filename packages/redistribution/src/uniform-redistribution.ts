import { outOfRangeError } from '@sparse-learning/core';
import type { LayerView, RedistributionStrategy, StrategyContext } from '@sparse-learning/core';

/** Registry id of {@link UniformRedistribution}. */
export const UNIFORM_REDISTRIBUTION_ID = 'uniform';
/** The official name of the same mode (`--redistribution none`), registered as an alias. */
export const NONE_REDISTRIBUTION_ID = 'none';

/** Options of {@link UniformRedistribution}. None today. */
export type UniformRedistributionOptions = Record<string, never>;

/**
 * The paper's "no redistribution" ablation (docs/algorithm.md#strategy-variants, official `no_redistribution`): `s_i = n_i / baselineNonzero`,
 * so after normalisation regrowth is proportional to the *tensor size* `n_i` (not to what the layer lost): a
 * layer that drifted denser or sparser than `d` drifts back towards uniform density. Finite even for a layer
 * without active weights, as in the official code.
 */
export class UniformRedistribution implements RedistributionStrategy {
  readonly id: string = UNIFORM_REDISTRIBUTION_ID;

  constructor(readonly options?: UniformRedistributionOptions) {}

  statistic(layer: LayerView, ctx: StrategyContext): number {
    if (!(ctx.baselineNonzero > 0)) throw outOfRangeError('baselineNonzero', ctx.baselineNonzero, '> 0');
    return layer.size / ctx.baselineNonzero;
  }
}
