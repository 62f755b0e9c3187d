import {
  MaskUpdater,
  TOKENS,
  unknownIdError,
  type DensityDistribution,
  type EventSink,
  type GrowthStrategy,
  type Logger,
  type PruneStrategy,
  type RedistributionStrategy,
  nullEventSink,
  silentLogger,
} from '@sparse-learning/core';
import { Container } from 'inversify';
import type { ExperimentConfig } from '../config/schema.js';
import type { PresetPlan } from '../presets/preset.js';
import { BUILTIN_MODULES } from './builtin-modules.js';
import type { LoadedPlugin } from './plugin-loader.js';
import { BindingRegistry, loadRecording } from './recording-loader.js';

/**
 * The root container of a process: services shared by every experiment (logger, event sink). Everything that
 * belongs to one experiment lives in a child container (see {@link composeExperiment}), so no singleton of one
 * run can leak into the next (TOOLCHAIN.md pitfall).
 */
export function createRootContainer(services: { logger?: Logger; events?: EventSink } = {}): Container {
  const root = new Container();
  root.bind(TOKENS.Logger).toConstantValue(services.logger ?? silentLogger);
  root.bind(TOKENS.EventSink).toConstantValue(services.events ?? nullEventSink);
  return root;
}

/** What the composition root resolved for one experiment. */
export interface Composition {
  /** The experiment's child container. */
  readonly container: Container;
  /** Ids bound per token (built-ins and plugins), for listings and error messages. */
  readonly registry: BindingRegistry;
  /** The mask-update cycle, or null for static and dense runs. */
  readonly maskUpdater: MaskUpdater | null;
  /** The initial-mask distribution, or null for dense runs. */
  readonly distribution: DensityDistribution | null;
  readonly prune: PruneStrategy;
  readonly growth: GrowthStrategy;
  readonly redistribution: RedistributionStrategy;
}

/** Loads the built-in modules and the plugins into `container`, recording the ids they bind. */
export async function loadModules(container: Container, plugins: readonly LoadedPlugin[]): Promise<BindingRegistry> {
  const registry = new BindingRegistry();
  for (const { name, module } of BUILTIN_MODULES) await loadRecording(container, module, registry, name);
  for (const plugin of plugins) await loadRecording(container, plugin.module, registry, `plugin ${plugin.specifier}`);
  return registry;
}

function resolveNamed<T>(
  container: Container,
  registry: BindingRegistry,
  token: symbol,
  kind: string,
  id: string,
): T {
  if (!registry.has(token, id)) throw unknownIdError(kind, id, registry.ids(token));
  return container.get<T>(token, { name: id });
}

/**
 * The composition root of one experiment — the only code that builds inversify containers. Creates a child
 * of `root`, loads the built-in plugin modules and the user's plugins into it, binds the preset's options for
 * the strategies, resolves the prune, growth, redistribution and density-distribution ids named in `config`,
 * and builds the {@link MaskUpdater} from them.
 *
 * Every id is checked even when the preset does not use it (a typo in `--growth` of a dense run is still an
 * error): fail early, before any data is loaded or any weight trained.
 *
 * @throws `E_UNKNOWN_ID` naming the kind and listing the valid ids (built-ins plus plugins).
 */
export async function composeExperiment(
  root: Container,
  config: ExperimentConfig,
  plan: PresetPlan,
  plugins: readonly LoadedPlugin[] = [],
): Promise<Composition> {
  const container = new Container({ parent: root });
  const registry = await loadModules(container, plugins);
  container.bind(TOKENS.PruneOptions).toConstantValue(plan.pruneOptions ?? {});
  container.bind(TOKENS.GrowthOptions).toConstantValue(plan.growthOptions ?? {});
  container.bind(TOKENS.RedistributionOptions).toConstantValue(plan.redistributionOptions ?? {});
  container.bind(TOKENS.MaskUpdaterOptions).toConstantValue(plan.maskUpdater);

  const prune = resolveNamed<PruneStrategy>(container, registry, TOKENS.PruneStrategy, 'prune strategy', config.prune);
  const growth = resolveNamed<GrowthStrategy>(container, registry, TOKENS.GrowthStrategy, 'growth strategy', config.growth);
  const redistribution = resolveNamed<RedistributionStrategy>(
    container,
    registry,
    TOKENS.RedistributionStrategy,
    'redistribution strategy',
    config.redistribution,
  );
  const distribution = resolveNamed<DensityDistribution>(
    container,
    registry,
    TOKENS.DensityDistribution,
    'density distribution',
    config.densityDistribution,
  );

  // The engine injects the strategies unnamed: bind the chosen ones as the default for this experiment.
  container.bind(TOKENS.PruneStrategy).toConstantValue(prune).whenDefault();
  container.bind(TOKENS.GrowthStrategy).toConstantValue(growth).whenDefault();
  container.bind(TOKENS.RedistributionStrategy).toConstantValue(redistribution).whenDefault();
  container.bind(TOKENS.MaskUpdater).to(MaskUpdater).inSingletonScope();

  return {
    container,
    registry,
    maskUpdater: plan.sparsity === 'dynamic' ? container.get<MaskUpdater>(TOKENS.MaskUpdater) : null,
    distribution: plan.sparsity === 'dense' ? null : distribution,
    prune,
    growth,
    redistribution,
  };
}

/** Lists the ids registered per strategy kind (built-ins plus the given plugins), for `--help` and listings. */
export async function listStrategyIds(plugins: readonly LoadedPlugin[] = []): Promise<Record<string, string[]>> {
  const container = new Container();
  const registry = await loadModules(container, plugins);
  return {
    prune: registry.ids(TOKENS.PruneStrategy),
    growth: registry.ids(TOKENS.GrowthStrategy),
    redistribution: registry.ids(TOKENS.RedistributionStrategy),
    densityDistribution: registry.ids(TOKENS.DensityDistribution),
  };
}

/**
 * Checks the strategy ids of `config` against the built-in modules and `plugins` without composing anything:
 * the runner calls it before touching the backend, the data or the disk, so a typo fails in milliseconds.
 * @throws `E_UNKNOWN_ID` listing the valid ids of the kind.
 */
export async function checkStrategyIds(config: ExperimentConfig, plugins: readonly LoadedPlugin[] = []): Promise<void> {
  const container = new Container();
  const registry = await loadModules(container, plugins);
  const checks: [symbol, string, string][] = [
    [TOKENS.PruneStrategy, 'prune strategy', config.prune],
    [TOKENS.GrowthStrategy, 'growth strategy', config.growth],
    [TOKENS.RedistributionStrategy, 'redistribution strategy', config.redistribution],
    [TOKENS.DensityDistribution, 'density distribution', config.densityDistribution],
  ];
  for (const [token, kind, id] of checks) if (!registry.has(token, id)) throw unknownIdError(kind, id, registry.ids(token));
}
