import { definePlugin, definePluginModule } from '@sparse-learning/core';
import { MAGNITUDE_REDISTRIBUTION_ID, MagnitudeRedistribution } from './magnitude-redistribution.js';
import { MOMENTUM_REDISTRIBUTION_ID, MomentumRedistribution } from './momentum-redistribution.js';
import { NONZERO_REDISTRIBUTION_ID, NonzeroRedistribution } from './nonzero-redistribution.js';
import { SURVIVING_REDISTRIBUTION_ID, SurvivingRedistribution } from './surviving-redistribution.js';
import { NONE_REDISTRIBUTION_ID, UNIFORM_REDISTRIBUTION_ID, UniformRedistribution } from './uniform-redistribution.js';

/** Momentum redistribution, the Sparse Momentum default (paper §3; docs/algorithm.md#strategy-variants). */
export const momentumRedistributionPlugin = definePlugin({
  kind: 'redistribution',
  id: MOMENTUM_REDISTRIBUTION_ID,
  summary: 'share regrowth by mean |momentum| of the active weights (Sparse Momentum)',
  options: {},
  create: () => new MomentumRedistribution(),
});

/** Magnitude redistribution (paper §4 ablation). */
export const magnitudeRedistributionPlugin = definePlugin({
  kind: 'redistribution',
  id: MAGNITUDE_REDISTRIBUTION_ID,
  summary: 'share regrowth by mean |w| of the active weights',
  options: {},
  create: () => new MagnitudeRedistribution(),
});

/** Non-zero redistribution: keep the current layer distribution. */
export const nonzeroRedistributionPlugin = definePlugin({
  kind: 'redistribution',
  id: NONZERO_REDISTRIBUTION_ID,
  summary: 'share regrowth by the number of non-zero weights (keeps the layer distribution)',
  options: {},
  create: () => new NonzeroRedistribution(),
});

/** The paper's "no redistribution" ablation: regrowth proportional to the tensor size. */
export const uniformRedistributionPlugin = definePlugin({
  kind: 'redistribution',
  id: UNIFORM_REDISTRIBUTION_ID,
  summary: 'share regrowth by tensor size (the paper\'s "no redistribution")',
  options: {},
  create: () => new UniformRedistribution(),
});

/** `none`, the official name of `uniform`. */
export const noneRedistributionPlugin = definePlugin({
  kind: 'redistribution',
  id: NONE_REDISTRIBUTION_ID,
  summary: "same as 'uniform' (the official --redistribution none)",
  options: {},
  create: () => new UniformRedistribution(),
});

/** DSR's reallocation in proportion to the surviving weights (Mostafa & Wang 2019, §3). */
export const survivingRedistributionPlugin = definePlugin({
  kind: 'redistribution',
  id: SURVIVING_REDISTRIBUTION_ID,
  summary: 'share regrowth by the weights that survived pruning (DSR; measured after pruning)',
  options: {},
  create: () => new SurvivingRedistribution(),
});

/** Every plugin of `@sparse-learning/redistribution`, as one module (the shape a user's plugin file exports too). */
export const redistributionPlugins = definePluginModule({
  name: '@sparse-learning/redistribution',
  plugins: [
    momentumRedistributionPlugin,
    magnitudeRedistributionPlugin,
    nonzeroRedistributionPlugin,
    uniformRedistributionPlugin,
    noneRedistributionPlugin,
    survivingRedistributionPlugin,
  ],
});
