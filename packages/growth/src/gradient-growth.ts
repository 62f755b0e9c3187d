import { SparseLearningError, absolute, addHighestInactive } from '@sparse-learning/core';
import type { GrowthRequest, GrowthStrategy, LayerRequirement, LayerView, StrategyContext } from '@sparse-learning/core';

/** Registry id of {@link GradientGrowth}. */
export const GRADIENT_GROWTH_ID = 'gradient';

/** Options of {@link GradientGrowth}. None today. */
export type GradientGrowthOptions = Record<string, never>;

/**
 * Gradient growth (RigL, Evci et al. 2020; official `gradient_growth`, docs/algorithm.md#strategy-variants): enables the `count` positions
 * with the largest `|gradient|` of the last mini-batch among the positions that are 0 after pruning. Restricted
 * to zero positions (the official top-k over all positions has the issue-#22 flaw). Needs the dense gradient:
 * `requires: ['gradient']`; throws `E_ENGINE_STATE` if it is missing.
 */
export class GradientGrowth implements GrowthStrategy {
  readonly id = GRADIENT_GROWTH_ID;
  readonly countPolicy = 'exact' as const;
  readonly requires: readonly LayerRequirement[] = ['gradient'];

  constructor(readonly options?: GradientGrowthOptions) {}

  grow(layer: LayerView, request: GrowthRequest, _ctx: StrategyContext): Uint8Array {
    if (layer.gradient === null) {
      throw new SparseLearningError(
        'E_ENGINE_STATE',
        `gradient growth needs the dense gradient of layer '${layer.name}', but none was supplied (the trainer supplies it when a strategy requires 'gradient')`,
        { layer: layer.name },
      );
    }
    return addHighestInactive(layer.mask, absolute(layer.gradient), request.count);
  }
}
