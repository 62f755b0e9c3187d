import type { MaskUpdaterOptions } from '@sparse-learning/core';
import type { PluginRefInput } from '../config/plugin-slots.js';
import type { PartialConfig } from '../config/schema.js';

/** A plugin slot as a preset writes it: an id, or an id with options for that plugin only. */
type Slot = string | PluginRefInput;

/**
 * What a preset sets: configuration defaults over the dataset recipe and under the user's file and flags —
 * plugin ids with their options, and recipe fields — validated exactly like a user's configuration.
 */
export type PresetConfig = Omit<PartialConfig, 'prune' | 'growth' | 'redistribution' | 'densityDistribution' | 'decaySchedule' | 'lrSchedule' | 'trigger' | 'optimizer' | 'gradientTransforms' | 'initHooks'> & {
  readonly prune?: Slot;
  readonly growth?: Slot;
  readonly redistribution?: Slot;
  readonly densityDistribution?: Slot;
  readonly decaySchedule?: Slot;
  readonly lrSchedule?: Slot;
  readonly trigger?: Slot;
  readonly optimizer?: Slot;
  readonly gradientTransforms?: readonly Slot[];
  readonly initHooks?: readonly Slot[];
};

/**
 * A preset is data (cf. rollup and unified, whose presets are lists of plugins): plugin ids and options plus
 * recipe settings (`config`), and the two engine settings no plugin owns — whether the run is sparse at all
 * and how the prune–regrow cycle shares the regrowth (`maskUpdater`). The composition root does the wiring.
 */
export interface Preset {
  /** Registry id, lower-kebab. */
  readonly id: string;
  /** One-line human description (shown by `sparse-learning presets`). */
  readonly summary: string;
  /** The paper it reproduces. */
  readonly reference: string;
  /**
   * `'dynamic'`: masks and mask updates; `'static'`: a fixed random mask, never updated; `'dense'`: no masks
   * at all (the official `--dense`; the density is recorded as 1).
   */
  readonly sparsity: 'dynamic' | 'static' | 'dense';
  /** Engine options of the prune–regrow cycle (regrowth mode, controller...). */
  readonly maskUpdater: Partial<MaskUpdaterOptions>;
  /** Configuration defaults (applied over the dataset recipe; the user's file and flags win). */
  readonly config: PresetConfig;
}
