import { definePlugin, definePluginModule, option } from '@sparse-learning/core';
import { GRADIENT_GROWTH_ID, GradientGrowth } from './gradient-growth.js';
import { MOMENTUM_GROWTH_ID, MomentumGrowth } from './momentum-growth.js';
import { RANDOM_GROWTH_ID, RandomGrowth } from './random-growth.js';

/** Momentum growth, the Sparse Momentum default (paper §3; docs/algorithm.md#strategy-variants). */
export const momentumGrowthPlugin = definePlugin({
  kind: 'growth',
  id: MOMENTUM_GROWTH_ID,
  summary: 'enable the zero positions with the largest |momentum| (Sparse Momentum)',
  options: {
    legacyTopK: option.boolean(false, 'official issue-#22 top-k over all positions (may grow fewer than asked)'),
  },
  create: (options) => new MomentumGrowth(options),
});

/** Random growth: the official Bernoulli draw, or exact counts as SET, DSR and DeepR regrow. */
export const randomGrowthPlugin = definePlugin({
  kind: 'growth',
  id: RANDOM_GROWTH_ID,
  summary: 'enable random zero positions (official Bernoulli draw, or exactCount for SET/DeepR)',
  options: {
    exactCount: option.boolean(false, 'enable exactly the requested count (SET, DSR, DeepR) instead of a Bernoulli draw'),
    excludeJustPruned: option.boolean(false, 'positions pruned in this update are not candidates (DSR, DeepR)'),
  },
  create: (options) => new RandomGrowth(options),
});

/** Gradient growth (RigL, Evci et al. 2020). */
export const gradientGrowthPlugin = definePlugin({
  kind: 'growth',
  id: GRADIENT_GROWTH_ID,
  summary: 'enable the zero positions with the largest |gradient| of the last batch (RigL)',
  options: {},
  create: () => new GradientGrowth(),
});

/** Every plugin of `@sparse-learning/growth`, as one module (the shape a user's plugin file exports too). */
export const growthPlugins = definePluginModule({
  name: '@sparse-learning/growth',
  plugins: [momentumGrowthPlugin, randomGrowthPlugin, gradientGrowthPlugin],
});
