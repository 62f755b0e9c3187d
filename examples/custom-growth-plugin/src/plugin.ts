import { definePlugin, definePluginModule, option } from '@sparse-learning/core';
import { MOMENTUM_GRADIENT_GROWTH_ID, MomentumGradientGrowth } from './momentum-gradient-growth.js';

/**
 * The plugin module a user ships: a name and its plugins, each a kind, an id, a typed options schema and a
 * factory. `sparse-learning train --plugin <this file> --growth momentum-gradient --growth-opt gradientWeight=2`
 * loads it; the runner validates `gradientWeight` against the schema before calling `create`.
 */
export default definePluginModule({
  name: 'example-custom-growth',
  plugins: [
    definePlugin({
      kind: 'growth',
      id: MOMENTUM_GRADIENT_GROWTH_ID,
      summary: 'momentum growth boosted by the latest gradient, |m|·(1 + w·|g|)',
      options: { gradientWeight: option.number(1, 'weight w of the latest gradient', { min: 0 }) },
      create: (options) => new MomentumGradientGrowth(options),
    }),
  ],
});
