import { countNonZero, countTurnedOff } from '@sparse-learning/core';
import type { GrowthRequest, GrowthStrategy, LayerView, Rng, StrategyContext } from '@sparse-learning/core';

/** Registry id of {@link RandomGrowth}. */
export const RANDOM_GROWTH_ID = 'random';

/** Options of {@link RandomGrowth}. */
export interface RandomGrowthOptions {
  /**
   * `true`: enable exactly `count` uniformly random candidate positions (`countPolicy: 'exact'`), as SET,
   * DSR and DeepR do. Default `false`: the official per-element Bernoulli draw (`'stochastic'`).
   */
  readonly exactCount?: boolean;
  /**
   * `true`: positions pruned in this very update are not candidates (DSR / DeepR "regrow elsewhere"). In
   * exact-count mode, if the other zero positions are too few, the remainder is drawn from the just-pruned
   * ones so that the count stays exact. Default `false` (official: every zero position is a candidate).
   */
  readonly excludeJustPruned?: boolean;
}

/**
 * Random growth (docs/algorithm.md#strategy-variants, official `random_growth`). Candidates are the positions that are 0 after pruning
 * (optionally without the just-pruned ones). Default: each candidate is enabled independently with
 * probability `count / nCandidates` using `ctx.rng` (one draw per candidate, in index order), so the number
 * grown is random with expectation `count` and the growth-deficit controller absorbs the drift. With
 * `exactCount`, exactly `count` candidates are drawn without replacement (partial Fisher–Yates on `ctx.rng`).
 * New weights start at 0 (a just-pruned weight regrown keeps its value, as for every growth mode).
 */
export class RandomGrowth implements GrowthStrategy {
  readonly id = RANDOM_GROWTH_ID;
  private readonly exactCount: boolean;
  private readonly excludeJustPruned: boolean;

  constructor(readonly options?: RandomGrowthOptions) {
    this.exactCount = options?.exactCount ?? false;
    this.excludeJustPruned = options?.excludeJustPruned ?? false;
  }

  /** `'stochastic'`, or `'exact'` with {@link RandomGrowthOptions.exactCount}. */
  get countPolicy(): 'exact' | 'stochastic' {
    return this.exactCount ? 'exact' : 'stochastic';
  }

  grow(layer: LayerView, request: GrowthRequest, ctx: StrategyContext): Uint8Array {
    const { mask } = layer;
    const before = this.excludeJustPruned ? layer.maskBeforePrune : undefined;
    const out = mask.slice();
    const count = request.count;
    if (count <= 0) return out;
    const isCandidate = (i: number): boolean => mask[i] === 0 && !(before && before[i] === 1);
    // Zero positions of the pruned mask, minus the just-pruned ones when they are excluded: counted four
    // bytes at a time (issue 14: DeepR grows after every step, a few dozen positions of a whole layer).
    const zeros = layer.size - countNonZero(mask);
    const justPruned = before ? countTurnedOff(before, mask) : 0;
    const candidates = zeros - justPruned;
    if (!this.exactCount) {
      if (candidates === 0) return out;
      const probability = count / candidates;
      for (let i = 0; i < layer.size; i++) if (isCandidate(i) && ctx.rng.next() < probability) out[i] = 1;
      return out;
    }
    const fromCandidates = Math.min(count, candidates);
    pick(out, layer.size, fromCandidates, candidates, isCandidate, ctx.rng);
    const fromPruned = Math.min(count - fromCandidates, justPruned);
    if (fromPruned > 0) pick(out, layer.size, fromPruned, justPruned, (i) => mask[i] === 0 && before![i] === 1, ctx.rng);
    return out;
  }
}

/**
 * Switches on `k` uniformly random positions among the `pool` positions satisfying `eligible` (and still off
 * in `out`). When `k` is small against the pool (DeepR and SET regrow a handful per step), rejection sampling
 * over the whole layer costs O(k); otherwise a partial Fisher–Yates over the listed pool, O(size).
 */
function pick(out: Uint8Array, size: number, k: number, pool: number, eligible: (i: number) => boolean, rng: Rng): void {
  if (k <= 0) return;
  if (k * 4 <= pool && pool * 4 >= size) {
    let picked = 0;
    while (picked < k) {
      const i = rng.int(size);
      if (out[i] === 0 && eligible(i)) {
        out[i] = 1;
        picked++;
      }
    }
    return;
  }
  const listed: number[] = [];
  for (let i = 0; i < size; i++) if (out[i] === 0 && eligible(i)) listed.push(i);
  for (const i of sample(listed, k, rng)) out[i] = 1;
}

function sample(pool: number[], k: number, rng: Rng): number[] {
  for (let j = 0; j < k; j++) {
    const r = j + rng.int(pool.length - j);
    const tmp = pool[j];
    pool[j] = pool[r];
    pool[r] = tmp;
  }
  return pool.slice(0, k);
}
