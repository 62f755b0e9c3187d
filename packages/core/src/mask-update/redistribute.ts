/**
 * The budget arithmetic of the Sparse Momentum cycle, ported literally from the official
 * `Masking.adjust_prune_rate` and `Masking.calc_growth_redistribution` (docs/algorithm.md#the-mask-update and d).
 * Plain float64, as Python computes it.
 */

/** Inputs of the >80 %-dense prune-rate adjustment for one layer. */
export interface PruneRateAdjustmentLayer {
  readonly size: number;
  /** Zero count before pruning, `z_i`. */
  readonly zeros: number;
  /** Normalised redistribution share `v_i`. */
  readonly share: number;
}

/**
 * Per-layer prune rates `p_i` (docs/algorithm.md#the-mask-update): a layer more than 80 % dense (`z_i/n_i < threshold`) whose share
 * exceeds the uniform share (`(1/L)/v_i < 1`) prunes only `min(z_i/n_i, p)`, so small layers that
 * redistribution is filling up are not emptied again.
 */
export function adjustPruneRates(
  layers: readonly PruneRateAdjustmentLayer[],
  pruneRate: number,
  denseSparsityThreshold = 0.2,
): number[] {
  const expectedShare = 1 / layers.length;
  return layers.map(({ size, zeros, share }) => {
    const sparsity = zeros / size;
    if (sparsity < denseSparsityThreshold && expectedShare / share < 1) return Math.min(sparsity, pruneRate);
    return pruneRate;
  });
}

/** Inputs of the redistribution loop for one layer. */
export interface RegrowthLayer {
  /** Normalised share `v_i` (NaN-free; a layer without statistic has share 0). */
  readonly share: number;
  /** `z_i + ceil(p_i · nz_i)`: zero slots after pruning as the official code counts them. */
  readonly freeSlots: number;
}

/** Outcome of the redistribution loop. */
export interface RegrowthPlan {
  /** Float targets `g_i` after the cap and the overflow passes. */
  readonly targets: number[];
  /** Number of passes the loop ran. */
  readonly passes: number;
  /** False when the pass limit stopped the loop with residual left ("Layers are too full!"). */
  readonly converged: boolean;
}

/**
 * Shares the regrowth budget `G` over layers (docs/algorithm.md#the-mask-update): first pass `g_i = ceil(v_i · G)`; every pass adds
 * the *same* absolute `mean_res` to every layer, caps each at `capFraction · freeSlots_i`, and collects the
 * excess; `mean_res = residual / L` (capped layers included, so the loop converges geometrically). Ported
 * literally, including the exact `residual > 0` float comparison.
 */
export function planRegrowth(
  layers: readonly RegrowthLayer[],
  budget: number,
  capFraction = 0.99,
  maxPasses = 1000,
): RegrowthPlan {
  const targets = layers.map(({ share }) => Math.ceil(share * budget));
  let meanResidual = 0;
  let residual = Number.POSITIVE_INFINITY;
  let passes = 0;
  while (residual > 0 && passes < maxPasses) {
    residual = 0;
    for (let i = 0; i < layers.length; i++) {
      const regrowth = targets[i] + meanResidual;
      const cap = capFraction * layers[i].freeSlots;
      if (regrowth > cap) {
        targets[i] = cap;
        residual += regrowth - cap;
      } else {
        targets[i] = regrowth;
      }
    }
    meanResidual = layers.length === 0 ? 0 : residual / layers.length;
    passes++;
  }
  return { targets, passes, converged: !(residual > 0) };
}
