import {
  ERDOS_RENYI_DISTRIBUTION_ID,
  ERK_DISTRIBUTION_ID,
  ErdosRenyiDistribution,
  ErkDistribution,
  TOKENS,
  UNIFORM_BERNOULLI_DISTRIBUTION_ID,
  UNIFORM_EXACT_DISTRIBUTION_ID,
  UniformBernoulliDistribution,
  UniformExactDistribution,
} from '@sparse-learning/core';
import { growthModule } from '@sparse-learning/growth';
import { pruneModule } from '@sparse-learning/prune';
import { redistributionModule } from '@sparse-learning/redistribution';
import { ContainerModule } from 'inversify';

/**
 * Initial-mask distributions of `@sparse-learning/core` (spec §1.4), bound under `TOKENS.DensityDistribution`
 * by id. Core exports the classes without a module (they take plain options), so the composition root binds
 * them; `custom` needs a per-layer map and is only available through the library API.
 */
export const densityDistributionModule = new ContainerModule(({ bind }) => {
  bind(TOKENS.DensityDistribution).toDynamicValue(() => new UniformBernoulliDistribution()).whenNamed(UNIFORM_BERNOULLI_DISTRIBUTION_ID);
  bind(TOKENS.DensityDistribution).toDynamicValue(() => new UniformExactDistribution()).whenNamed(UNIFORM_EXACT_DISTRIBUTION_ID);
  bind(TOKENS.DensityDistribution).toDynamicValue(() => new ErdosRenyiDistribution()).whenNamed(ERDOS_RENYI_DISTRIBUTION_ID);
  bind(TOKENS.DensityDistribution).toDynamicValue(() => new ErkDistribution()).whenNamed(ERK_DISTRIBUTION_ID);
});

/** The plugin modules every experiment loads before the user's, with the names errors and listings use. */
export const BUILTIN_MODULES: readonly { readonly name: string; readonly module: ContainerModule }[] = [
  { name: 'builtin:prune (@sparse-learning/prune)', module: pruneModule },
  { name: 'builtin:growth (@sparse-learning/growth)', module: growthModule },
  { name: 'builtin:redistribution (@sparse-learning/redistribution)', module: redistributionModule },
  { name: 'builtin:density (@sparse-learning/core)', module: densityDistributionModule },
];
