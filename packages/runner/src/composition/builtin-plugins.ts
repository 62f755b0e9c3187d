import { corePlugins, type PluginModule } from '@sparse-learning/core';
import { growthPlugins } from '@sparse-learning/growth';
import { prunePlugins } from '@sparse-learning/prune';
import { redistributionPlugins } from '@sparse-learning/redistribution';

/**
 * The plugin modules every experiment registers before the user's: core (density distributions, schedules,
 * triggers, optimizers, DeepR's gradient transform), prune (with DeepR's init hook), growth, redistribution.
 */
export const BUILTIN_PLUGIN_MODULES: readonly PluginModule[] = [corePlugins, prunePlugins, growthPlugins, redistributionPlugins];
