import type { LayerView, RedistributionStrategy, StrategyContext } from '@sparse-learning/core';
import { meanAbsOverActive } from './mean-over-active.js';

/** Registry id of {@link MagnitudeRedistribution}. */
export const MAGNITUDE_REDISTRIBUTION_ID = 'magnitude';

/** Options of {@link MagnitudeRedistribution}. None today. */
export type MagnitudeRedistributionOptions = Record<string, never>;

/**
 * Magnitude redistribution (docs/algorithm.md#strategy-variants, official `magnitude_redistribution`): `s_i` = mean `|w|` over the
 * layer's active weights; NaN for a layer without active weights.
 */
export class MagnitudeRedistribution implements RedistributionStrategy {
  readonly id = MAGNITUDE_REDISTRIBUTION_ID;

  constructor(readonly options?: MagnitudeRedistributionOptions) {}

  statistic(layer: LayerView, _ctx: StrategyContext): number {
    return meanAbsOverActive(layer.weight, layer.mask);
  }
}
