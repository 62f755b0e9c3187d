/**
 * @sparse-learning/redistribution — redistribution statistics for the Sparse Momentum engine (spec §1.8 a,
 * §1.9): `momentum` (default), `magnitude`, `uniform` (alias `none`, the paper's "no redistribution"), `nonzero`,
 * `surviving` (DSR, measured after pruning).
 */
import { ContainerModule } from 'inversify';
import { TOKENS } from '@sparse-learning/core';
import { MAGNITUDE_REDISTRIBUTION_ID, MagnitudeRedistribution } from './magnitude-redistribution.js';
import { MOMENTUM_REDISTRIBUTION_ID, MomentumRedistribution } from './momentum-redistribution.js';
import { NONZERO_REDISTRIBUTION_ID, NonzeroRedistribution } from './nonzero-redistribution.js';
import { SURVIVING_REDISTRIBUTION_ID, SurvivingRedistribution } from './surviving-redistribution.js';
import { NONE_REDISTRIBUTION_ID, UNIFORM_REDISTRIBUTION_ID, UniformRedistribution } from './uniform-redistribution.js';

export * from './momentum-redistribution.js';
export * from './magnitude-redistribution.js';
export * from './uniform-redistribution.js';
export * from './nonzero-redistribution.js';
export * from './surviving-redistribution.js';
export { meanAbsOverActive } from './mean-over-active.js';

/** Every redistribution id this package registers (`none` is an alias of `uniform`). */
export const redistributionStrategyIds = [
  MOMENTUM_REDISTRIBUTION_ID,
  MAGNITUDE_REDISTRIBUTION_ID,
  UNIFORM_REDISTRIBUTION_ID,
  NONE_REDISTRIBUTION_ID,
  NONZERO_REDISTRIBUTION_ID,
  SURVIVING_REDISTRIBUTION_ID,
] as const;

/** A redistribution id of this package. */
export type RedistributionStrategyId = (typeof redistributionStrategyIds)[number];

/** Binds every redistribution strategy under `TOKENS.RedistributionStrategy`, named by its id. */
export const redistributionModule = new ContainerModule(({ bind }) => {
  bind(TOKENS.RedistributionStrategy).to(MomentumRedistribution).whenNamed(MOMENTUM_REDISTRIBUTION_ID);
  bind(TOKENS.RedistributionStrategy).to(MagnitudeRedistribution).whenNamed(MAGNITUDE_REDISTRIBUTION_ID);
  bind(TOKENS.RedistributionStrategy).to(UniformRedistribution).whenNamed(UNIFORM_REDISTRIBUTION_ID);
  bind(TOKENS.RedistributionStrategy).to(UniformRedistribution).whenNamed(NONE_REDISTRIBUTION_ID);
  bind(TOKENS.RedistributionStrategy).to(NonzeroRedistribution).whenNamed(NONZERO_REDISTRIBUTION_ID);
  bind(TOKENS.RedistributionStrategy).to(SurvivingRedistribution).whenNamed(SURVIVING_REDISTRIBUTION_ID);
});
