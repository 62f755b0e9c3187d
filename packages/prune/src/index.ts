/**
 * @sparse-learning/prune — prune strategies for the Sparse Momentum engine (spec §1.8 c, §1.10, §6.2):
 * `magnitude` (default), `set` (the rule SET intends), `global-magnitude`, `sign-flip` (DeepR),
 * `adaptive-threshold` (DSR).
 */
import { ContainerModule } from 'inversify';
import { TOKENS } from '@sparse-learning/core';
import { ADAPTIVE_THRESHOLD_PRUNE_ID, AdaptiveThresholdPrune } from './adaptive-threshold-prune.js';
import { GLOBAL_MAGNITUDE_PRUNE_ID, GlobalMagnitudePrune } from './global-magnitude-prune.js';
import { MAGNITUDE_PRUNE_ID, MagnitudePrune } from './magnitude-prune.js';
import { SET_PRUNE_ID, SetPrune } from './set-prune.js';
import { SIGN_FLIP_PRUNE_ID, SignFlipPrune } from './sign-flip-prune.js';

export * from './magnitude-prune.js';
export * from './set-prune.js';
export * from './global-magnitude-prune.js';
export * from './sign-flip-prune.js';
export * from './adaptive-threshold-prune.js';

/** Every prune strategy id this package registers. */
export const pruneStrategyIds = [MAGNITUDE_PRUNE_ID, SET_PRUNE_ID, GLOBAL_MAGNITUDE_PRUNE_ID, SIGN_FLIP_PRUNE_ID, ADAPTIVE_THRESHOLD_PRUNE_ID] as const;

/** A prune strategy id of this package. */
export type PruneStrategyId = (typeof pruneStrategyIds)[number];

/**
 * Binds every prune strategy under `TOKENS.PruneStrategy`, named by its id. Strategies are transient: stateful
 * ones (`global-magnitude`, `sign-flip`, `adaptive-threshold`) get a fresh instance per resolution, so one engine = one instance.
 */
export const pruneModule = new ContainerModule(({ bind }) => {
  bind(TOKENS.PruneStrategy).to(MagnitudePrune).whenNamed(MAGNITUDE_PRUNE_ID);
  bind(TOKENS.PruneStrategy).to(SetPrune).whenNamed(SET_PRUNE_ID);
  bind(TOKENS.PruneStrategy).to(GlobalMagnitudePrune).whenNamed(GLOBAL_MAGNITUDE_PRUNE_ID);
  bind(TOKENS.PruneStrategy).to(SignFlipPrune).whenNamed(SIGN_FLIP_PRUNE_ID);
  bind(TOKENS.PruneStrategy).to(AdaptiveThresholdPrune).whenNamed(ADAPTIVE_THRESHOLD_PRUNE_ID);
});
