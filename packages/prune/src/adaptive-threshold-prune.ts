import { SparseLearningError, outOfRangeError } from '@sparse-learning/core';
import type { LayerView, PruneRequest, PruneStrategy, StatefulStrategy, StrategyContext } from '@sparse-learning/core';

/** Registry id of {@link AdaptiveThresholdPrune}. */
export const ADAPTIVE_THRESHOLD_PRUNE_ID = 'adaptive-threshold';

/** Options of {@link AdaptiveThresholdPrune}; the defaults are the DSR codebase's (docs/algorithm.md#recipes, docs/algorithm.md#baselines). */
export interface AdaptiveThresholdPruneOptions {
  /** Starting threshold `H` (DSR: `threshold = 1.0e-3`). */
  readonly initialThreshold?: number;
  /** Target number of weights pruned per reallocation, `N_p` (DSR `--n-prune-params`, default 600). */
  readonly targetPruned?: number;
  /** Fractional tolerance `δ` of `N_p` (DSR: 0.1, the `1.1·N_p` / `0.9·N_p` bounds). */
  readonly tolerance?: number;
  /** Factor by which `H` is multiplied or divided (DSR: 2). */
  readonly gain?: number;
}

/** Serialisable state: the threshold for the next reallocation. */
export interface AdaptiveThresholdPruneState {
  readonly threshold: number;
}

/**
 * DSR's pruning (Mostafa & Wang 2019, "Parameter efficient training of deep convolutional neural networks by
 * dynamic sparse reparameterization", ICML, §3 and Algorithm 1; docs/algorithm.md#baselines), ported from the DSR codebase
 * (`SparseTensor.prune_threshold` and the threshold update of its training loop). At each reallocation every
 * active weight with `|w| < H` is pruned, one global threshold `H` for all layers; if that would empty a layer,
 * its first active weight (lowest flat index) is kept. Then `H` adapts toward the target count `N_p` for the
 * *next* reallocation: `K > (1+δ)·N_p` → `H / gain`; `K < (1−δ)·N_p` → `H · gain`, with `K` the total pruned.
 *
 * `countPolicy: 'free'` (the threshold decides the count); `global` is not set, so the engine does not apply
 * Sparse Momentum's global regrowth scaling — DSR regrows exactly the pruned total (engine option
 * `regrowth: 'proportional'`, used by the `dsr` preset). `H` persists across updates and checkpoints.
 *
 * The comparison `|w| < H` is done in float32, as PyTorch compares a float32 tensor with a Python scalar.
 * The threshold is adapted inside {@link AdaptiveThresholdPrune.prepare}, from the count it is about to prune;
 * DSR adapts it after regrowth from the same count, so the sequence of thresholds is the same.
 */
export class AdaptiveThresholdPrune implements PruneStrategy, StatefulStrategy {
  readonly id = ADAPTIVE_THRESHOLD_PRUNE_ID;
  readonly countPolicy = 'free' as const;
  private threshold: number;
  /** The threshold of the current update (set by `prepare`; `threshold` already holds the next one). */
  private applied: number;
  private readonly targetPruned: number;
  private readonly tolerance: number;
  private readonly gain: number;

  constructor(readonly options?: AdaptiveThresholdPruneOptions) {
    this.threshold = options?.initialThreshold ?? 1e-3;
    this.targetPruned = options?.targetPruned ?? 600;
    this.tolerance = options?.tolerance ?? 0.1;
    this.gain = options?.gain ?? 2;
    if (!(this.threshold > 0 && Number.isFinite(this.threshold))) throw outOfRangeError('initialThreshold', this.threshold, 'a finite number > 0');
    if (!(this.targetPruned >= 0 && Number.isFinite(this.targetPruned))) throw outOfRangeError('targetPruned', this.targetPruned, 'a finite number >= 0');
    if (!(this.tolerance >= 0 && this.tolerance < 1)) throw outOfRangeError('tolerance', this.tolerance, '0 <= tolerance < 1');
    if (!(this.gain > 1 && Number.isFinite(this.gain))) throw outOfRangeError('gain', this.gain, 'a finite number > 1');
    this.applied = this.threshold;
  }

  /** The threshold the next update will prune with. */
  get currentThreshold(): number {
    return this.threshold;
  }

  /** Fixes this update's threshold and adapts the next one from the count it prunes. */
  prepare(layers: readonly LayerView[], ctx: StrategyContext): void {
    this.applied = this.threshold;
    let pruned = 0;
    for (const layer of layers) pruned += prunedCount(layer, this.applied);
    if (pruned > (1 + this.tolerance) * this.targetPruned) this.threshold /= this.gain;
    else if (pruned < (1 - this.tolerance) * this.targetPruned) this.threshold *= this.gain;
    ctx.logger.debug('adaptive threshold', { threshold: this.applied, pruned, target: this.targetPruned, next: this.threshold });
  }

  prune(layer: LayerView, _request: PruneRequest, _ctx: StrategyContext): Uint8Array {
    const h = Math.fround(this.applied);
    const out = layer.mask.slice();
    let kept = -1;
    for (let i = 0; i < layer.size; i++) {
      if (out[i] !== 1) continue;
      if (Math.abs(layer.weight[i]) < h) out[i] = 0;
      else kept = i;
    }
    if (kept < 0) {
      // Every active weight is below H: DSR keeps one ("removing all. keeping one"), the first active index.
      const first = layer.mask.indexOf(1);
      if (first >= 0) out[first] = 1;
    }
    return out;
  }

  getState(): AdaptiveThresholdPruneState {
    return { threshold: this.threshold };
  }

  setState(state: unknown): void {
    const s = state as Partial<AdaptiveThresholdPruneState> | null;
    if (!s || typeof s.threshold !== 'number' || !(s.threshold > 0) || !Number.isFinite(s.threshold)) {
      throw new SparseLearningError('E_CHECKPOINT_INVALID', `adaptive-threshold prune state must be { threshold > 0 }, got ${JSON.stringify(state)}`);
    }
    this.threshold = s.threshold;
    this.applied = s.threshold;
  }
}

/** How many active weights of `layer` a threshold prunes (DSR keeps one when all would go). */
function prunedCount(layer: LayerView, threshold: number): number {
  const h = Math.fround(threshold);
  let below = 0;
  for (let i = 0; i < layer.size; i++) if (layer.mask[i] === 1 && Math.abs(layer.weight[i]) < h) below++;
  return below > 0 && below === layer.activeCount ? below - 1 : below;
}
