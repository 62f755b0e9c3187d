import { definePluginModule } from '../plugin.js';
import { erdosRenyiPlugin, erkPlugin, uniformBernoulliPlugin, uniformExactPlugin } from './density-plugins.js';
import { adamOptimizerPlugin, sgdOptimizerPlugin } from './optimizer-plugins.js';
import {
  constantLrPlugin,
  constantPruneRatePlugin,
  cosineDecayPlugin,
  linearDecayPlugin,
  stepLrPlugin,
} from './schedule-plugins.js';
import { epochEndTriggerPlugin, everyKStepsTriggerPlugin, rewirePeriodTriggerPlugin } from './trigger-plugins.js';

export * from './density-plugins.js';
export * from './optimizer-plugins.js';
export * from './schedule-plugins.js';
export * from './trigger-plugins.js';

/**
 * The plugins `@sparse-learning/core` ships: density distributions, prune-rate and learning-rate schedules,
 * mask-update triggers and optimizers (DeepR's gradient transform is `@sparse-learning/prune`'s, with its other plugins). (`custom` densities need a per-layer map: library API only.)
 */
export const corePlugins = definePluginModule({
  name: '@sparse-learning/core',
  plugins: [
    uniformBernoulliPlugin,
    uniformExactPlugin,
    erdosRenyiPlugin,
    erkPlugin,
    cosineDecayPlugin,
    linearDecayPlugin,
    constantPruneRatePlugin,
    stepLrPlugin,
    constantLrPlugin,
    epochEndTriggerPlugin,
    everyKStepsTriggerPlugin,
    rewirePeriodTriggerPlugin,
    sgdOptimizerPlugin,
    adamOptimizerPlugin,
  ],
});
