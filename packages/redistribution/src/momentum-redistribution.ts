import { SparseLearningError } from '@sparse-learning/core';
import type { LayerRequirement, LayerView, RedistributionStrategy, StrategyContext } from '@sparse-learning/core';
import { meanAbsOverActive } from './mean-over-active.js';

/** Registry id of {@link MomentumRedistribution}. */
export const MOMENTUM_REDISTRIBUTION_ID = 'momentum';

/** Options of {@link MomentumRedistribution}. None today. */
export type MomentumRedistributionOptions = Record<string, never>;

/**
 * Momentum redistribution, the Sparse Momentum default (docs/algorithm.md#the-mask-update, docs/algorithm.md#strategy-variants, official `momentum_redistribution`):
 * `s_i` = mean `|momentum|` over the layer's active weights (Adam: the engine's momentum view
 * `m/(sqrt(v)+1e-8)`). NaN for a layer without active weights.
 *
 * Throws `E_ENGINE_STATE` when the optimizer has no momentum yet (before the first step).
 */
export class MomentumRedistribution implements RedistributionStrategy {
  readonly id = MOMENTUM_REDISTRIBUTION_ID;
  readonly requires: readonly LayerRequirement[] = ['momentum'];

  constructor(readonly options?: MomentumRedistributionOptions) {}

  statistic(layer: LayerView, _ctx: StrategyContext): number {
    if (layer.momentum === null) {
      throw new SparseLearningError(
        'E_ENGINE_STATE',
        `momentum redistribution needs the optimizer's momentum of layer '${layer.name}', but it is null (no optimizer step yet, or an optimizer without momentum)`,
        { layer: layer.name },
      );
    }
    return meanAbsOverActive(layer.momentum, layer.mask);
  }
}
