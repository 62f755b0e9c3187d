import 'reflect-metadata';
import { Container } from 'inversify';
import { MaskUpdater, PLUGIN_TOKENS, PluginRegistry, TOKENS, corePlugins, silentLogger } from '@sparse-learning/core';
import type { PluginRef, RunSettings } from '@sparse-learning/core';
import { growthPlugins } from '@sparse-learning/growth';
import { prunePlugins } from '@sparse-learning/prune';
import { redistributionPlugins } from '@sparse-learning/redistribution';
import customGrowthPlugins from './plugin.js';

/** Which plugin fills each slot of the engine, with its options. */
export interface EngineChoice {
  readonly prune: PluginRef;
  readonly redistribution: PluginRef;
  readonly growth: PluginRef;
}

/** The built-in plugin modules plus this example's: what the runner registers when given `--plugin`. */
export function createExampleRegistry(): PluginRegistry {
  return new PluginRegistry([corePlugins, prunePlugins, growthPlugins, redistributionPlugins, customGrowthPlugins]);
}

/**
 * A composition root in miniature, as the runner's: validates the chosen ids and options against the
 * registry, binds what each plugin's factory builds under its kind's typed token, and resolves the
 * {@link MaskUpdater}, which injects the three strategies.
 */
export function createEngineContainer(choice: EngineChoice, registry = createExampleRegistry()): Container {
  const container = new Container();
  const run = {} as RunSettings; // these strategies read no run settings
  for (const kind of ['prune', 'redistribution', 'growth'] as const) {
    const chosen = registry.choose(kind, choice[kind]);
    container.bind(PLUGIN_TOKENS[kind]).toDynamicValue(() => registry.create(chosen, { run, logger: silentLogger }));
  }
  container.bind(TOKENS.MaskUpdaterOptions).toConstantValue({});
  container.bind(MaskUpdater).toSelf();
  return container;
}
