/**
 * @sparse-learning/growth — growth strategies for the Sparse Momentum engine (spec §1.8 e, §1.11):
 * `momentum` (default), `random`, `gradient` (RigL).
 */
import { ContainerModule } from 'inversify';
import { TOKENS } from '@sparse-learning/core';
import { GRADIENT_GROWTH_ID, GradientGrowth } from './gradient-growth.js';
import { MOMENTUM_GROWTH_ID, MomentumGrowth } from './momentum-growth.js';
import { RANDOM_GROWTH_ID, RandomGrowth } from './random-growth.js';

export * from './momentum-growth.js';
export * from './random-growth.js';
export * from './gradient-growth.js';

/** Every growth strategy id this package registers. */
export const growthStrategyIds = [MOMENTUM_GROWTH_ID, RANDOM_GROWTH_ID, GRADIENT_GROWTH_ID] as const;

/** A growth strategy id of this package. */
export type GrowthStrategyId = (typeof growthStrategyIds)[number];

/** Binds every growth strategy under `TOKENS.GrowthStrategy`, named by its id. */
export const growthModule = new ContainerModule(({ bind }) => {
  bind(TOKENS.GrowthStrategy).to(MomentumGrowth).whenNamed(MOMENTUM_GROWTH_ID);
  bind(TOKENS.GrowthStrategy).to(RandomGrowth).whenNamed(RANDOM_GROWTH_ID);
  bind(TOKENS.GrowthStrategy).to(GradientGrowth).whenNamed(GRADIENT_GROWTH_ID);
});
