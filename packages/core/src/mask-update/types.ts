import type { MaskUpdateEvent } from '../events.js';
import type { Logger } from '../logger.js';
import type { Rng } from '../rng.js';

/** One prunable tensor handed to {@link MaskUpdater.update}: flat arrays in the tensor's own layout. */
export interface MaskUpdateLayerInput {
  readonly name: string;
  readonly shape: readonly number[];
  /** Current weights; exactly 0 where `mask` is 0 (as left by the last `apply`). Not mutated. */
  readonly weight: Float32Array;
  /** Current 0/1 mask. Not mutated. */
  readonly mask: Uint8Array;
  /** Optimizer momentum view (dense), or null. */
  readonly momentum: Float32Array | null;
  /** Last dense gradient, or null (supplied when a strategy `requires` it). */
  readonly gradient: Float32Array | null;
}

/** The growth-deficit controller's state (docs/algorithm.md#the-mask-update). */
export interface ControllerState {
  /** Added to the next update's regrowth budget `G`. */
  readonly adjustedGrowth: number;
  /** History of `baseline − total` deltas, one per update. */
  readonly adjustments: readonly number[];
}

/** Everything one mask update reads. */
export interface MaskUpdateInput {
  readonly layers: readonly MaskUpdateLayerInput[];
  /** Global prune rate `p` of this update (from the prune-rate schedule). */
  readonly pruneRate: number;
  /** Float target count of active weights (docs/algorithm.md#the-mask-update). */
  readonly baselineNonzero: number;
  readonly controller: ControllerState;
  readonly step: number;
  readonly epoch: number;
  readonly rng: Rng;
  readonly logger?: Logger;
}

/** One layer's outcome. */
export interface MaskUpdateLayerResult {
  readonly name: string;
  /** The new mask. */
  readonly mask: Uint8Array;
  /** The new weights: input weights × new mask (pruned-and-regrown weights keep their value). */
  readonly weight: Float32Array;
  readonly activeBefore: number;
  readonly activeAfter: number;
  /** `p_i` after the >80 %-dense adjustment. */
  readonly pruneRate: number;
  readonly removed: number;
  /** Float regrowth target after the cap and overflow loop. */
  readonly regrowTarget: number;
  /** Requested regrowth `floor(regrowTarget)` (or the in-place / global variants). */
  readonly regrow: number;
  /** Positions actually enabled by growth. */
  readonly grown: number;
  readonly stat: number;
  readonly share: number;
  /** Flat indices removed by pruning (ascending). */
  readonly prunedIndices: number[];
  /** Flat indices enabled by growth (ascending; may include just-pruned ones). */
  readonly grownIndices: number[];
}

/** Everything one mask update produced. */
export interface MaskUpdateResult {
  readonly layers: readonly MaskUpdateLayerResult[];
  readonly totalRemoved: number;
  readonly totalNonzero: number;
  /** Controller state after the update. */
  readonly controller: ControllerState;
  /** Passes of the overflow loop. */
  readonly passes: number;
  readonly warnings: readonly string[];
  /** The same outcome as a structured event (no index lists). */
  readonly event: MaskUpdateEvent;
}

/** Engine options of the update cycle. Defaults are the official behaviour. */
export interface MaskUpdaterOptions {
  /** Share of a layer's zero slots (after pruning) that growth may fill: 0.99 officially (docs/algorithm.md#the-mask-update). */
  readonly capFraction: number;
  /** A layer is "nearly dense" below this sparsity (0.2 officially, docs/algorithm.md#the-mask-update). */
  readonly denseSparsityThreshold: number;
  /** Pass limit of the overflow loop (1000 officially). */
  readonly maxRedistributionPasses: number;
  /**
   * `'redistribute'` (official): the removed total plus the controller term is shared across layers by the
   * redistribution statistic. `'in-place'`: every layer regrows exactly what it lost (DSR-codebase SET and
   * DeepR, docs/algorithm.md#baselines), no cap, no controller. `'proportional'` (DSR codebase `--rewire-scaling`,
   * docs/algorithm.md#baselines, DSR): exactly the removed total is regrown, shared by the redistribution shares with round-half-to-even,
   * the rounding discrepancy added to one random layer, each layer capped at its zero positions before pruning,
   * repeated until every removed weight is placed; no cap fraction, no controller (see `planProportionalRegrowth`).
   */
  readonly regrowth: 'redistribute' | 'in-place' | 'proportional';
  /** Run the growth-deficit controller (docs/algorithm.md#the-mask-update). Official: true. */
  readonly controller: boolean;
  /**
   * What to do when the regrowth budget `G` is negative (the official code then slices `idx[:-k]` and switches
   * on almost a whole layer, a bug): `'clamp'` (default) treats negative targets as 0 and records a warning;
   * `'error'` throws `E_NEGATIVE_GROWTH_BUDGET`.
   */
  readonly negativeBudget: 'clamp' | 'error';
  /**
   * What to do when the redistribution statistic is 0 (or NaN) for every layer while weights were removed, so
   * shares `s_i / Σ s` are undefined (the official code divides 0 by 0 and stops with a ValueError):
   * `'error'` (default, the official outcome as a coded error) throws `E_ZERO_REDISTRIBUTION`;
   * `'in-place'` lets every layer regrow what it lost in this update and records a warning. Either way no
   * weight is silently lost.
   */
  readonly zeroStatistics: 'error' | 'in-place';
}

/** The official settings. */
export const DEFAULT_MASK_UPDATER_OPTIONS: MaskUpdaterOptions = Object.freeze({
  capFraction: 0.99,
  denseSparsityThreshold: 0.2,
  maxRedistributionPasses: 1000,
  regrowth: 'redistribute',
  controller: true,
  negativeBudget: 'clamp',
  zeroStatistics: 'error',
});
