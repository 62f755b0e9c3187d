import type { DensityDistribution } from './contracts/density-distribution.js';
import type { GradientTransform } from './contracts/gradient-transform.js';
import type { GrowthStrategy } from './contracts/growth-strategy.js';
import type { InitHook } from './contracts/init-hook.js';
import type { MaskUpdateTrigger } from './contracts/mask-update-trigger.js';
import type { SparseOptimizer } from './contracts/optimizer.js';
import type { PruneStrategy } from './contracts/prune-strategy.js';
import type { RedistributionStrategy } from './contracts/redistribution-strategy.js';
import type { LearningRateSchedule, PruneRateSchedule } from './contracts/schedules.js';
import type { EventSink } from './events.js';
import type { Logger } from './logger.js';
import type { MaskUpdaterOptions } from './mask-update/types.js';
import type { PluginKind, PluginKinds } from './plugins/plugin.js';

/**
 * A typed inversify service identifier: a `Symbol.for` key that remembers the type bound under it, so
 * `resolve(container, TOKENS.GrowthStrategy)` is a `GrowthStrategy` without a cast.
 */
export type Token<T> = symbol & { readonly __service?: T };

function token<T>(name: string): Token<T> {
  return Symbol.for(`@sparse-learning/core/${name}`) as Token<T>;
}

/**
 * The service identifiers of a run's container. The composition root (the runner) binds what each plugin
 * factory built under its kind's token and the engine's classes (`MaskUpdater`, bound under its own class)
 * inject them. esbuild (tsup, vitest) emits no decorator metadata: every injected constructor parameter
 * needs an explicit `@inject(TOKEN)`.
 */
export const TOKENS = {
  PruneStrategy: token<PruneStrategy>('PruneStrategy'),
  GrowthStrategy: token<GrowthStrategy>('GrowthStrategy'),
  RedistributionStrategy: token<RedistributionStrategy>('RedistributionStrategy'),
  DensityDistribution: token<DensityDistribution>('DensityDistribution'),
  PruneRateSchedule: token<PruneRateSchedule>('PruneRateSchedule'),
  LearningRateSchedule: token<LearningRateSchedule>('LearningRateSchedule'),
  MaskUpdateTrigger: token<MaskUpdateTrigger>('MaskUpdateTrigger'),
  Optimizer: token<SparseOptimizer>('Optimizer'),
  /** Bound once per configured transform, in order (`getAll`). */
  GradientTransform: token<GradientTransform>('GradientTransform'),
  /** Bound once per configured hook, in order (`getAll`). */
  InitHook: token<InitHook>('InitHook'),
  Logger: token<Logger>('Logger'),
  EventSink: token<EventSink>('EventSink'),
  MaskUpdaterOptions: token<Partial<MaskUpdaterOptions>>('MaskUpdaterOptions'),
} as const;

/** The token each plugin kind's product is bound under. */
export const PLUGIN_TOKENS: { readonly [K in PluginKind]: Token<PluginKinds[K]> } = {
  prune: TOKENS.PruneStrategy,
  growth: TOKENS.GrowthStrategy,
  redistribution: TOKENS.RedistributionStrategy,
  'density-distribution': TOKENS.DensityDistribution,
  'prune-rate-schedule': TOKENS.PruneRateSchedule,
  'learning-rate-schedule': TOKENS.LearningRateSchedule,
  'mask-update-trigger': TOKENS.MaskUpdateTrigger,
  optimizer: TOKENS.Optimizer,
  'gradient-transform': TOKENS.GradientTransform,
  'init-hook': TOKENS.InitHook,
};
