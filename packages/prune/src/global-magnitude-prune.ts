import { SparseLearningError, outOfRangeError } from '@sparse-learning/core';
import type { LayerView, PruneRequest, PruneStrategy, StatefulStrategy, StrategyContext } from '@sparse-learning/core';

/** Registry id of {@link GlobalMagnitudePrune}. */
export const GLOBAL_MAGNITUDE_PRUNE_ID = 'global-magnitude';

/** Options of {@link GlobalMagnitudePrune}; the defaults are the official `Masking` settings. */
export interface GlobalMagnitudePruneOptions {
  /** Starting threshold `τ` (official `prune_threshold = 0.001`). */
  readonly initialThreshold?: number;
  /** Accepted relative miss of the removal target (official `tolerance = 0.02`). */
  readonly tolerance?: number;
  /** Starting multiplicative step of the search (official `increment = 0.2`); decays ×0.99 per adjustment. */
  readonly initialIncrement?: number;
  /**
   * Official quirk: the search stops as soon as the removed count equals the previous count (which starts at
   * 0), so a first threshold that removes nothing — or a step too small to change the count on a small or
   * coarse network — ends the search early and prunes far fewer than asked. `true` replaces the search by the
   * exact threshold `τ = k-th smallest active |w|`, `k = ceil(p · baselineNonzero)` (removes exactly `k` when
   * there are no ties). Default `false` (official search).
   */
  readonly exactThreshold?: boolean;
  /** Safety bound on search iterations (the official loop has none; it always ends because the step decays). */
  readonly maxIterations?: number;
}

/** Serialisable search state (kept across updates, as the official `Masking` keeps it). */
export interface GlobalMagnitudePruneState {
  readonly threshold: number;
  readonly increment: number;
}

/**
 * Global magnitude pruning (docs/algorithm.md#strategy-variants, official `global_magnitude_prune`): one threshold `τ` for every layer.
 * In {@link GlobalMagnitudePrune.prepare} the threshold is searched so that the number of active weights with
 * `|w| ≤ τ` is within ±`tolerance` of `ceil(p · baselineNonzero)`: too many → `τ ·= 1 − inc`, too few →
 * `τ ·= 1 + inc`, `inc ·= 0.99` after each adjustment, stop when the count stops changing. Each layer then keeps
 * `mask ∧ (|w| > τ)`. `τ` and `inc` persist across updates (and checkpoints, via {@link StatefulStrategy}).
 *
 * `global: true` makes the engine scale regrowth as the official code does; `countPolicy: 'free'`.
 *
 * Deviation: the official code takes `p` from the *last* masked layer's adjusted rate `p_i` (an accident of
 * dict iteration; equal to `p` unless that layer is > 80 % dense); this port uses the global `ctx.pruneRate`.
 * The comparison `|w| > τ` is done in float32, as PyTorch compares a float32 tensor with a Python scalar.
 */
export class GlobalMagnitudePrune implements PruneStrategy, StatefulStrategy {
  readonly id = GLOBAL_MAGNITUDE_PRUNE_ID;
  readonly countPolicy = 'free' as const;
  readonly global = true;
  private threshold: number;
  private increment: number;
  private readonly tolerance: number;
  private readonly exactThreshold: boolean;
  private readonly maxIterations: number;

  constructor(readonly options?: GlobalMagnitudePruneOptions) {
    this.threshold = options?.initialThreshold ?? 0.001;
    this.increment = options?.initialIncrement ?? 0.2;
    this.tolerance = options?.tolerance ?? 0.02;
    this.exactThreshold = options?.exactThreshold ?? false;
    this.maxIterations = options?.maxIterations ?? 100_000;
    if (!(this.threshold > 0)) throw outOfRangeError('initialThreshold', this.threshold, '> 0');
    if (!(this.increment > 0 && this.increment < 1)) throw outOfRangeError('initialIncrement', this.increment, '0 < increment < 1');
    if (!(this.tolerance >= 0)) throw outOfRangeError('tolerance', this.tolerance, '>= 0');
  }

  /** The current threshold `τ`. */
  get currentThreshold(): number {
    return this.threshold;
  }

  prepare(layers: readonly LayerView[], ctx: StrategyContext): void {
    const toKill = Math.ceil(ctx.pruneRate * ctx.baselineNonzero);
    if (this.exactThreshold) {
      this.threshold = kthSmallestActive(layers, toKill);
      return;
    }
    const low = toKill * (1 - this.tolerance);
    const high = toKill * (1 + this.tolerance);
    let total = 0;
    let previous = 0;
    let iterations = 0;
    while ((total < low || total > high) && iterations < this.maxIterations) {
      iterations++;
      total = countAtOrBelow(layers, this.threshold);
      if (total === previous) break;
      previous = total;
      if (total > high) {
        this.threshold *= 1 - this.increment;
        this.increment *= 0.99;
      } else if (total < low) {
        this.threshold *= 1 + this.increment;
        this.increment *= 0.99;
      }
    }
    ctx.logger.debug('global magnitude threshold', { threshold: this.threshold, removed: total, target: toKill, iterations });
  }

  prune(layer: LayerView, _request: PruneRequest, _ctx: StrategyContext): Uint8Array {
    const tau = Math.fround(this.threshold);
    const out = new Uint8Array(layer.size);
    for (let i = 0; i < layer.size; i++) out[i] = layer.mask[i] === 1 && Math.abs(layer.weight[i]) > tau ? 1 : 0;
    return out;
  }

  getState(): GlobalMagnitudePruneState {
    return { threshold: this.threshold, increment: this.increment };
  }

  setState(state: unknown): void {
    const s = state as Partial<GlobalMagnitudePruneState> | null;
    if (!s || typeof s.threshold !== 'number' || typeof s.increment !== 'number' || !(s.threshold > 0)) {
      throw new SparseLearningError('E_CHECKPOINT_INVALID', `global-magnitude prune state must be { threshold > 0, increment }, got ${JSON.stringify(state)}`);
    }
    this.threshold = s.threshold;
    this.increment = s.increment;
  }
}

/** Active weights with `|w| ≤ τ` over all layers (official: `nonzeros − #(|w| > τ)`). */
function countAtOrBelow(layers: readonly LayerView[], threshold: number): number {
  const tau = Math.fround(threshold);
  let count = 0;
  for (const layer of layers) {
    const { mask, weight } = layer;
    for (let i = 0; i < layer.size; i++) if (mask[i] === 1 && !(Math.abs(weight[i]) > tau)) count++;
  }
  return count;
}

/**
 * The `k`-th smallest active `|w|` over all layers (0 when `k ≤ 0`, so nothing is pruned): the threshold that
 * removes exactly `k` weights with `|w| ≤ τ` when there are no ties.
 */
function kthSmallestActive(layers: readonly LayerView[], k: number): number {
  if (k <= 0) return Number.MIN_VALUE;
  const values: number[] = [];
  for (const layer of layers) for (let i = 0; i < layer.size; i++) if (layer.mask[i] === 1) values.push(Math.abs(layer.weight[i]));
  if (values.length === 0) return Number.MIN_VALUE;
  values.sort((a, b) => a - b);
  return values[Math.min(k, values.length) - 1] || Number.MIN_VALUE;
}
