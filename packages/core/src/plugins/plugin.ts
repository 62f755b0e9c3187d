import type { DensityDistribution } from '../contracts/density-distribution.js';
import type { GradientTransform } from '../contracts/gradient-transform.js';
import type { GrowthStrategy } from '../contracts/growth-strategy.js';
import type { InitHook } from '../contracts/init-hook.js';
import type { MaskUpdateTrigger } from '../contracts/mask-update-trigger.js';
import type { SparseOptimizer } from '../contracts/optimizer.js';
import type { PruneStrategy } from '../contracts/prune-strategy.js';
import type { RedistributionStrategy } from '../contracts/redistribution-strategy.js';
import type { LearningRateSchedule, PruneRateSchedule } from '../contracts/schedules.js';
import type { EventSink } from '../events.js';
import type { Logger } from '../logger.js';
import type { OptionsOf, OptionsSchema } from './options.js';

/** What each plugin kind builds. One entry per pluggable slot of a run. */
export interface PluginKinds {
  prune: PruneStrategy;
  growth: GrowthStrategy;
  redistribution: RedistributionStrategy;
  'density-distribution': DensityDistribution;
  'prune-rate-schedule': PruneRateSchedule;
  'learning-rate-schedule': LearningRateSchedule;
  'mask-update-trigger': MaskUpdateTrigger;
  optimizer: SparseOptimizer;
  'gradient-transform': GradientTransform;
  'init-hook': InitHook;
}

/** A pluggable kind (`'prune'`, `'growth'`, …). */
export type PluginKind = keyof PluginKinds;

/** Every kind, in the order listings show them. */
export const PLUGIN_KINDS: readonly PluginKind[] = [
  'prune',
  'growth',
  'redistribution',
  'density-distribution',
  'prune-rate-schedule',
  'learning-rate-schedule',
  'mask-update-trigger',
  'optimizer',
  'gradient-transform',
  'init-hook',
];

/**
 * The run's settings a factory may build on (the official `main.py` options, resolved): a schedule needs the
 * number of steps, an optimizer the learning rate. Plugin options are for what is specific to one plugin.
 */
export interface RunSettings {
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  /** `epochs × stepsPerEpoch`: `T_max` of the prune-rate schedule (paper §3, cosine decay). */
  readonly totalSteps: number;
  readonly density: number;
  /** Initial prune rate `p0`. */
  readonly pruneRate: number;
  readonly lr: number;
  readonly momentum: number;
  readonly nesterov: boolean;
  /** L2 weight decay. */
  readonly l2: number;
  /** LR decay period in mini-batches (official `--decay_frequency`). */
  readonly decayFrequency: number;
}

/** What a plugin factory receives besides its own validated options. */
export interface PluginContext {
  readonly run: RunSettings;
  readonly logger: Logger;
  /** Where a plugin may emit events of its own (the run's sink; a no-op sink outside a run). */
  readonly events?: EventSink;
}

/**
 * A plugin: a kind, an id, a typed options schema and a factory. The engine never sees plugins, only the
 * objects their factories build; the registry validates options against the schema before calling `create`,
 * so `create` receives complete, typed options (defaults filled in).
 */
export interface Plugin<K extends PluginKind = PluginKind, S extends OptionsSchema = OptionsSchema> {
  readonly kind: K;
  /** Registry id, lower-kebab, unique within its kind. */
  readonly id: string;
  /** One line for listings (`sparse-learning plugins`, `--help`). */
  readonly summary: string;
  readonly options: S;
  create(options: OptionsOf<S>, ctx: PluginContext): PluginKinds[K];
}

/** Any plugin, whatever its kind and options. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyPlugin = Plugin<PluginKind, any>;

/** Declares a plugin with its types checked: the identity function, for inference. */
export function definePlugin<K extends PluginKind, S extends OptionsSchema>(plugin: Plugin<K, S>): Plugin<K, S> {
  return plugin;
}

/**
 * What a plugin package (and a user's plugin file) exports: a name and its plugins. Load order decides
 * nothing: ids are unique per kind across every loaded module.
 */
export interface PluginModule {
  /** For messages and listings, e.g. `@sparse-learning/growth`. */
  readonly name: string;
  readonly plugins: readonly AnyPlugin[];
}

/** Declares a plugin module (identity, for inference). */
export function definePluginModule(module: PluginModule): PluginModule {
  return module;
}

/** Duck-typed check (a user's file may build the object by hand, without importing this package). */
export function isPluginModule(value: unknown): value is PluginModule {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { name?: unknown }).name === 'string' &&
    Array.isArray((value as { plugins?: unknown }).plugins)
  );
}
