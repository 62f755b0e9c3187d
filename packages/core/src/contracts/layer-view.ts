import type { Logger } from '../logger.js';
import type { Rng } from '../rng.js';

/**
 * What a strategy hook sees of one prunable tensor during a mask update: a read-only snapshot as flat
 * typed arrays in the tensor's own (TensorFlow.js, row-major) layout. Strategies never receive the engine,
 * the optimizer or tensors: they compute on numbers, the engine keeps the books (counts, caps, apply order).
 *
 * Mutating these arrays is a contract violation; the engine hands out copies where it matters.
 */
export interface LayerView {
  /** Variable name (e.g. `dense_Dense1/kernel`). */
  readonly name: string;
  /** Position of the layer in masking order (model parameter order). */
  readonly index: number;
  /** Tensor shape (TensorFlow.js layout: Dense `[in, out]`, Conv2D `[kh, kw, in, out]`). */
  readonly shape: readonly number[];
  /** Number of elements `n_i`. */
  readonly size: number;
  /** Current weights (0 wherever the mask was 0 before this update; pruned weights keep their value until the mask is applied after growth). */
  readonly weight: Float32Array;
  /**
   * The mask this hook works on (1 = active): the mask *before* pruning for prune and redistribution hooks,
   * the mask *after* pruning for growth hooks.
   */
  readonly mask: Uint8Array;
  /** The optimizer's momentum view (SGD: momentum buffer; Adam: `m/(sqrt(v)+1e-8)`), dense; null when the optimizer has none yet. */
  readonly momentum: Float32Array | null;
  /** The last dense gradient, when some strategy declared it needs it (see {@link LayerRequirement}); otherwise null. */
  readonly gradient: Float32Array | null;
  /** Number of ones in {@link LayerView.mask}. */
  readonly activeCount: number;
  /** For growth hooks only: the mask before this update's pruning (lets a strategy exclude just-pruned positions, as DSR/DeepR do). */
  readonly maskBeforePrune?: Uint8Array;
}

/**
 * Optional persistence for strategies that keep state across updates (e.g. DeepR's fixed signs). The runner
 * stores it in checkpoints; the value must be JSON-serialisable (typed arrays are allowed).
 */
export interface StatefulStrategy {
  getState(): unknown;
  setState(state: unknown): void;
}

/** True for any plugin product (strategy, transform, distribution) that keeps state across updates. */
export function isStatefulStrategy(value: unknown): value is StatefulStrategy {
  const v = value as Partial<StatefulStrategy> | null;
  return !!v && typeof v.getState === 'function' && typeof v.setState === 'function';
}

/** Optional per-layer inputs a strategy can ask the engine to supply. */
export type LayerRequirement = 'momentum' | 'gradient';

/** Read-only context of one mask update, passed to every hook. */
export interface StrategyContext {
  /** Completed optimizer steps (mini-batches) so far. */
  readonly step: number;
  /** Completed epochs so far (the update after epoch 1 sees `epoch = 1`). */
  readonly epoch: number;
  /** The global prune rate `p` of this update (before the >80 %-dense adjustment, docs/algorithm.md#the-mask-update). */
  readonly pruneRate: number;
  /** The float target count of active weights, `Σ n_i·d` (docs/algorithm.md#the-mask-update). */
  readonly baselineNonzero: number;
  /** Number of prunable tensors `L`. */
  readonly layerCount: number;
  /** The seeded stream of the mask update (random growth draws from it). */
  readonly rng: Rng;
  readonly logger: Logger;
}
