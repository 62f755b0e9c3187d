/**
 * Dependency-injection tokens (inversify `Symbol.for` keys). A plugin binds its class under the strategy's
 * token *named* by its id, e.g. `bind(GROWTH_STRATEGY).to(MomentumGrowth).whenNamed('momentum')`; the
 * composition root (the runner) resolves the ids named in the configuration.
 *
 * esbuild (tsup, vitest) emits no decorator metadata: every injected constructor parameter needs an explicit
 * `@inject(TOKEN)`.
 */
export const TOKENS = {
  PruneStrategy: Symbol.for('@sparse-learning/core/PruneStrategy'),
  RedistributionStrategy: Symbol.for('@sparse-learning/core/RedistributionStrategy'),
  GrowthStrategy: Symbol.for('@sparse-learning/core/GrowthStrategy'),
  PruneRateSchedule: Symbol.for('@sparse-learning/core/PruneRateSchedule'),
  LearningRateSchedule: Symbol.for('@sparse-learning/core/LearningRateSchedule'),
  DensityDistribution: Symbol.for('@sparse-learning/core/DensityDistribution'),
  MaskUpdateTrigger: Symbol.for('@sparse-learning/core/MaskUpdateTrigger'),
  GradientTransform: Symbol.for('@sparse-learning/core/GradientTransform'),
  Optimizer: Symbol.for('@sparse-learning/core/Optimizer'),
  Logger: Symbol.for('@sparse-learning/core/Logger'),
  EventSink: Symbol.for('@sparse-learning/core/EventSink'),
  Rng: Symbol.for('@sparse-learning/core/Rng'),
  MaskUpdaterOptions: Symbol.for('@sparse-learning/core/MaskUpdaterOptions'),
  MaskUpdater: Symbol.for('@sparse-learning/core/MaskUpdater'),
  /** Options objects of the built-in plugins, one token per plugin (bound by the composition root). */
  PruneOptions: Symbol.for('@sparse-learning/core/PruneOptions'),
  GrowthOptions: Symbol.for('@sparse-learning/core/GrowthOptions'),
  RedistributionOptions: Symbol.for('@sparse-learning/core/RedistributionOptions'),
} as const;

/** The type of the {@link TOKENS} values. */
export type Token = (typeof TOKENS)[keyof typeof TOKENS];
