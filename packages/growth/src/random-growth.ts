import { inject, injectable, optional } from 'inversify';
import { TOKENS } from '@sparse-learning/core';
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
 * Random growth (spec §1.11, official `random_growth`). Candidates are the positions that are 0 after pruning
 * (optionally without the just-pruned ones). Default: each candidate is enabled independently with
 * probability `count / nCandidates` using `ctx.rng` (one draw per candidate, in index order), so the number
 * grown is random with expectation `count` and the growth-deficit controller absorbs the drift. With
 * `exactCount`, exactly `count` candidates are drawn without replacement (partial Fisher–Yates on `ctx.rng`).
 * New weights start at 0 (a just-pruned weight regrown keeps its value, as for every growth mode).
 */
@injectable()
export class RandomGrowth implements GrowthStrategy {
  readonly id = RANDOM_GROWTH_ID;
  private readonly exactCount: boolean;
  private readonly excludeJustPruned: boolean;

  constructor(@inject(TOKENS.GrowthOptions) @optional() readonly options?: RandomGrowthOptions) {
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
    const candidates: number[] = [];
    const justPruned: number[] = [];
    for (let i = 0; i < layer.size; i++) {
      if (mask[i] !== 0) continue;
      if (before && before[i] === 1) justPruned.push(i);
      else candidates.push(i);
    }
    const out = mask.slice();
    const count = request.count;
    if (count <= 0) return out;
    if (this.exactCount) {
      const fromCandidates = Math.min(count, candidates.length);
      for (const i of sample(candidates, fromCandidates, ctx.rng)) out[i] = 1;
      for (const i of sample(justPruned, Math.min(count - fromCandidates, justPruned.length), ctx.rng)) out[i] = 1;
      return out;
    }
    if (candidates.length === 0) return out;
    const probability = count / candidates.length;
    for (const i of candidates) if (ctx.rng.next() < probability) out[i] = 1;
    return out;
  }
}

/** `k` distinct elements of `pool` drawn uniformly (partial Fisher–Yates; `pool` is reordered). */
function sample(pool: number[], k: number, rng: Rng): number[] {
  for (let j = 0; j < k; j++) {
    const r = j + rng.int(pool.length - j);
    const tmp = pool[j];
    pool[j] = pool[r];
    pool[r] = tmp;
  }
  return pool.slice(0, k);
}
