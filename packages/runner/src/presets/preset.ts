import type {
  GradientTransform,
  Masking,
  PruneStrategy,
  Rng,
  MaskUpdateTrigger,
  MaskUpdaterOptions,
  PruneRateSchedule,
} from '@sparse-learning/core';
import type { ExperimentConfig, PartialConfig } from '../config/schema.js';

/** What a preset needs to know to plan a run. */
export interface PresetContext {
  readonly config: ExperimentConfig;
  /** Optimizer steps per epoch (after `maxBatches`). */
  readonly stepsPerEpoch: number;
  /** `epochs × stepsPerEpoch`: `T_max` of the prune-rate schedule (spec §1.6). */
  readonly totalSteps: number;
}

/** The parts of a run that only a preset decides (everything else is plain configuration). */
export interface PresetPlan {
  /**
   * `'dynamic'`: masks and mask updates; `'static'`: a fixed random mask, never updated; `'dense'`: no masks
   * at all (the official `--dense`).
   */
  readonly sparsity: 'dynamic' | 'static' | 'dense';
  /** Engine options of the prune–regrow cycle (regrowth mode, controller...). */
  readonly maskUpdater: Partial<MaskUpdaterOptions>;
  /** Options handed to the growth strategy under `TOKENS.GrowthOptions`. */
  readonly growthOptions?: Readonly<Record<string, unknown>>;
  /** Options handed to the prune strategy under `TOKENS.PruneOptions`. */
  readonly pruneOptions?: Readonly<Record<string, unknown>>;
  /** Options handed to the redistribution strategy under `TOKENS.RedistributionOptions`. */
  readonly redistributionOptions?: Readonly<Record<string, unknown>>;
  readonly trigger: MaskUpdateTrigger;
  readonly pruneRateSchedule: PruneRateSchedule;
  readonly gradientTransforms: readonly GradientTransform[];
  /**
   * Runs once after the initial masks are drawn and applied, before the first step (e.g. DeepR fixes every
   * connection's sign at initialisation).
   */
  readonly afterInit?: (init: PresetInit) => void;
}

/** What {@link PresetPlan.afterInit} sees. */
export interface PresetInit {
  readonly masking: Masking;
  readonly prune: PruneStrategy;
  /** A stream forked for the preset from the run's seed. */
  readonly rng: Rng;
}

/**
 * A preset = configuration defaults (over the dataset recipe, under the user's file and flags) plus a plan for
 * the parts configuration does not express. Presets are just data and functions: the composition root does
 * the wiring (cf. rollup/unified presets, which are lists of plugins).
 */
export interface Preset {
  /** Registry id, lower-kebab. */
  readonly id: string;
  /** One-line human description (shown by `sparse-learning presets`). */
  readonly summary: string;
  /** The paper it reproduces. */
  readonly reference: string;
  /** Defaults applied over the dataset recipe (spec §4.3); the user's config file and flags win. */
  defaults(recipe: PartialConfig): PartialConfig;
  plan(ctx: PresetContext): PresetPlan;
}
