import { addHighestInactive } from '@sparse-learning/core';
import type { GrowthRequest, GrowthStrategy, LayerRequirement, LayerView, StrategyContext } from '@sparse-learning/core';

/** Registry id of the example strategy. */
export const MOMENTUM_GRADIENT_GROWTH_ID = 'momentum-gradient';

/** Options of {@link MomentumGradientGrowth}. */
export interface MomentumGradientGrowthOptions {
  /** How much the latest gradient counts: score `|m|·(1 + gradientWeight·|g|)`. */
  readonly gradientWeight: number;
}

/**
 * A user-written growth strategy: like Sparse Momentum's growth it enables the zero positions whose momentum is
 * largest, but it boosts those the *latest* gradient still pushes hard, score `|m|·(1 + gradientWeight·|g|)`,
 * so of two positions with similar accumulated momentum the one that is still being pulled now wins.
 */
export class MomentumGradientGrowth implements GrowthStrategy {
  readonly id = MOMENTUM_GRADIENT_GROWTH_ID;
  readonly countPolicy = 'exact' as const;
  readonly requires: readonly LayerRequirement[] = ['momentum', 'gradient'];

  constructor(readonly options: MomentumGradientGrowthOptions = { gradientWeight: 1 }) {}

  grow(layer: LayerView, request: GrowthRequest, _ctx: StrategyContext): Uint8Array {
    const { momentum, gradient } = layer;
    if (!momentum || !gradient) throw new Error(`${this.id} needs momentum and gradient of '${layer.name}'`);
    const w = this.options.gradientWeight;
    const score = new Float32Array(layer.size);
    for (let i = 0; i < layer.size; i++) score[i] = Math.abs(momentum[i]) * (1 + w * Math.abs(gradient[i]));
    return addHighestInactive(layer.mask, score, request.count); // only zero positions, exactly `count`
  }
}
