import {
  MaskUpdater,
  PLUGIN_TOKENS,
  PluginRegistry,
  TOKENS,
  nullEventSink,
  silentLogger,
  type DensityDistribution,
  type EventSink,
  type GradientTransform,
  type GrowthStrategy,
  type InitHook,
  type LearningRateSchedule,
  type Logger,
  type Masking,
  type MaskUpdaterOptions,
  type MaskUpdateTrigger,
  type PluginChoice,
  type PluginContext,
  type PluginKind,
  type PluginKinds,
  type PruneRateSchedule,
  type PruneStrategy,
  type RedistributionStrategy,
  type Rng,
  type RunSettings,
  type SparseOptimizer,
  type Token,
} from '@sparse-learning/core';
import { Container } from 'inversify';
import { PLUGIN_LIST_SLOTS, PLUGIN_SLOTS } from '../config/plugin-slots.js';
import type { ExperimentConfig } from '../config/schema.js';
import { getPreset } from '../presets/index.js';
import type { Preset } from '../presets/preset.js';
import { BUILTIN_PLUGIN_MODULES } from './builtin-plugins.js';
import type { LoadedPlugin } from './plugin-loader.js';

/**
 * The registry of one run: the built-in plugin modules, then the user's plugins (an id a user's plugin
 * reuses is refused with the module that registered it first).
 */
export function createRegistry(plugins: readonly LoadedPlugin[] = []): PluginRegistry {
  const registry = new PluginRegistry();
  for (const module of BUILTIN_PLUGIN_MODULES) registry.add(module, `builtin ${module.name}`);
  for (const plugin of plugins) registry.add(plugin.module, `plugin ${plugin.specifier} (${plugin.resolved})`);
  return registry;
}

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

/** The plugin chosen for every slot of a configuration, options validated and completed. */
export interface ChosenPlugins {
  readonly slots: Readonly<Record<string, PluginChoice>>;
  readonly lists: Readonly<Record<string, readonly PluginChoice[]>>;
}

/**
 * Resolves every plugin field of `config` against `registry` and validates each plugin's options against its
 * own schema. Every slot is checked even when the preset does not use it (a typo in `--growth` of a dense run
 * is still an error): fail early, before any data is loaded or any weight trained.
 *
 * @throws `E_UNKNOWN_ID` naming the kind and listing the valid ids; the option errors of the plugin's schema
 *   (`E_CONFIG_INVALID`, `E_OUT_OF_RANGE`, `E_UNKNOWN_ID`, naming the plugin and the option).
 */
export function choosePlugins(config: ExperimentConfig, registry: PluginRegistry): ChosenPlugins {
  const values = config as unknown as Record<string, unknown>;
  const slots: Record<string, PluginChoice> = {};
  for (const { field, optionsField, kind } of PLUGIN_SLOTS) {
    slots[field] = registry.choose(kind, { id: values[field] as string, options: values[optionsField] as Record<string, unknown> });
  }
  const lists: Record<string, PluginChoice[]> = {};
  for (const { field, kind } of PLUGIN_LIST_SLOTS) {
    lists[field] = ((values[field] as { id: string; options?: Record<string, unknown> }[] | undefined) ?? []).map((ref) => registry.choose(kind, ref));
  }
  return { slots, lists };
}

/** What `config.json` records of the composition: every chosen plugin with its complete options. */
export function describeChoices(choices: ChosenPlugins): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [field, choice] of Object.entries(choices.slots)) record[field] = { id: choice.plugin.id, options: choice.options };
  for (const [field, list] of Object.entries(choices.lists)) record[field] = list.map((c) => ({ id: c.plugin.id, options: c.options }));
  return record;
}

/**
 * Checks the plugin ids and options of `config` against the built-in modules and `plugins` without composing
 * anything: the runner calls it before touching the backend, the data or the disk, so a typo fails in
 * milliseconds. Also checks the preset id.
 */
export async function checkStrategyIds(config: ExperimentConfig, plugins: readonly LoadedPlugin[] = []): Promise<void> {
  getPreset(config.preset);
  choosePlugins(config, createRegistry(plugins));
}

/** The parts of a run that checkpoints and `config.json` describe (what the preset and the plugins decided). */
export interface RunPlan {
  readonly sparsity: Preset['sparsity'];
  readonly maskUpdater: Partial<MaskUpdaterOptions>;
  readonly trigger: MaskUpdateTrigger;
  readonly pruneRateSchedule: PruneRateSchedule;
  readonly gradientTransforms: readonly GradientTransform[];
}

/** What the composition root built for one experiment. */
export interface Composition {
  /** The experiment's child container. */
  readonly container: Container;
  /** Every registered plugin (built-ins and the user's), for listings and error messages. */
  readonly registry: PluginRegistry;
  readonly preset: Preset;
  readonly choices: ChosenPlugins;
  readonly plan: RunPlan;
  /** The mask-update cycle, or null for static and dense runs. */
  readonly maskUpdater: MaskUpdater | null;
  /** The initial-mask distribution, or null for dense runs. */
  readonly distribution: DensityDistribution | null;
  readonly prune: PruneStrategy;
  readonly growth: GrowthStrategy;
  readonly redistribution: RedistributionStrategy;
  readonly trigger: MaskUpdateTrigger;
  readonly pruneRateSchedule: PruneRateSchedule;
  readonly learningRateSchedule: LearningRateSchedule;
  readonly optimizer: SparseOptimizer;
  readonly gradientTransforms: readonly GradientTransform[];
  readonly initHooks: readonly InitHook[];
  /** Runs the init hooks once the initial masks are drawn and applied (DeepR fixes its signs here). */
  runInitHooks(masking: Masking, rng: Rng): void;
}

/** The sizes of a run that only the dataset knows. */
export interface RunSize {
  /** Optimizer steps per epoch (after `maxBatches`). */
  readonly stepsPerEpoch: number;
  /** `epochs × stepsPerEpoch`: `T_max` of the prune-rate schedule. */
  readonly totalSteps: number;
}

/** The run settings plugin factories build on. */
export function runSettingsOf(config: ExperimentConfig, size: RunSize): RunSettings {
  return {
    epochs: config.epochs,
    stepsPerEpoch: size.stepsPerEpoch,
    totalSteps: size.totalSteps,
    density: config.density,
    pruneRate: config.pruneRate,
    lr: config.lr,
    momentum: config.momentum,
    nesterov: config.nesterov,
    l2: config.l2,
    decayFrequency: config.decayFrequency,
  };
}

function get<T>(container: Container, token: Token<T>): T {
  return container.get<T>(token);
}

/**
 * The composition root of one experiment — the only code that builds inversify containers. Creates a child
 * of `root`, validates the chosen plugins (see {@link choosePlugins}), binds what each plugin's factory builds
 * under its kind's typed token (`PLUGIN_TOKENS`), binds the preset's engine options, and resolves the
 * {@link MaskUpdater} (which injects the prune, redistribution and growth strategies) and everything else
 * the trainer needs.
 */
export async function composeExperiment(
  root: Container,
  config: ExperimentConfig,
  plugins: readonly LoadedPlugin[] = [],
  size: RunSize = { stepsPerEpoch: 1, totalSteps: config.epochs },
): Promise<Composition> {
  const preset = getPreset(config.preset);
  const registry = createRegistry(plugins);
  const choices = choosePlugins(config, registry);
  const container = new Container({ parent: root });
  const logger = container.isBound(TOKENS.Logger) ? get(container, TOKENS.Logger) : silentLogger;
  const events = container.isBound(TOKENS.EventSink) ? get(container, TOKENS.EventSink) : nullEventSink;
  const ctx: PluginContext = { run: runSettingsOf(config, size), logger, events };
  const bindChoice = <K extends PluginKind>(choice: PluginChoice<K>) =>
    container
      .bind<PluginKinds[K]>(PLUGIN_TOKENS[choice.kind])
      .toDynamicValue(() => registry.create(choice, ctx))
      .inSingletonScope();
  for (const choice of Object.values(choices.slots)) bindChoice(choice);
  for (const list of Object.values(choices.lists)) for (const choice of list) bindChoice(choice);
  container.bind(TOKENS.MaskUpdaterOptions).toConstantValue(preset.maskUpdater);
  container.bind(MaskUpdater).toSelf().inSingletonScope();

  const all = <T>(token: Token<T>): T[] => (container.isBound(token) ? container.getAll<T>(token) : []);
  const prune = get(container, TOKENS.PruneStrategy);
  const growth = get(container, TOKENS.GrowthStrategy);
  const redistribution = get(container, TOKENS.RedistributionStrategy);
  const trigger = get(container, TOKENS.MaskUpdateTrigger);
  const pruneRateSchedule = get(container, TOKENS.PruneRateSchedule);
  const gradientTransforms = all(TOKENS.GradientTransform);
  const initHooks = all(TOKENS.InitHook);
  return {
    container,
    registry,
    preset,
    choices,
    plan: { sparsity: preset.sparsity, maskUpdater: preset.maskUpdater, trigger, pruneRateSchedule, gradientTransforms },
    maskUpdater: preset.sparsity === 'dynamic' ? container.get(MaskUpdater) : null,
    distribution: preset.sparsity === 'dense' ? null : get(container, TOKENS.DensityDistribution),
    prune,
    growth,
    redistribution,
    trigger,
    pruneRateSchedule,
    learningRateSchedule: get(container, TOKENS.LearningRateSchedule),
    optimizer: get(container, TOKENS.Optimizer),
    gradientTransforms,
    initHooks,
    runInitHooks(masking, rng) {
      if (initHooks.length === 0) return;
      const masks = masking.readMasks();
      const layers = masking.layers.map((layer, l) => ({
        name: layer.name,
        shape: layer.shape,
        size: layer.size,
        weight: Float32Array.from(layer.variable.dataSync() as Float32Array),
        mask: masks[l],
      }));
      for (const hook of initHooks) hook.afterMaskInit({ layers, prune, growth, redistribution, rng, logger });
    },
  };
}

/** The ids registered per plugin kind (built-ins plus the given plugins), for `--help` and listings. */
export function listPluginIds(plugins: readonly LoadedPlugin[] = []): Record<PluginKind, string[]> {
  const registry = createRegistry(plugins);
  return Object.fromEntries(Object.keys(PLUGIN_TOKENS).map((kind) => [kind, registry.ids(kind as PluginKind)])) as Record<PluginKind, string[]>;
}
