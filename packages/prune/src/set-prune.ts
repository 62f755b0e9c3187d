import { inject, injectable, optional } from 'inversify';
import { TOKENS, absolute, removeLowestActive } from '@sparse-learning/core';
import type { LayerView, PruneRequest, PruneStrategy, StrategyContext } from '@sparse-learning/core';
import { nonzeroMask } from './magnitude-prune.js';

/** Registry id of {@link SetPrune}. */
export const SET_PRUNE_ID = 'set';

/** Options of {@link SetPrune}. None today. */
export type SetPruneOptions = Record<string, never>;

/**
 * The pruning rule SET intends (Mocanu et al. 2018; spec §6.1, §1.10): of the `r = request.count` weights to
 * remove, `⌈r/2⌉` are the smallest *positive* active weights and `⌊r/2⌋` the *largest negative* active weights
 * (those closest to zero), so that exactly `r` go (the spec's "⌈r/2⌉ each" would remove `r + 1` for odd `r`;
 * the extra one is taken from the positive side). If one sign has too few active weights, the rest comes from
 * the other sign; active weights that are exactly 0 are used only when both signs together are too few.
 *
 * Deliberately NOT the official HEAD `magnitude_and_negativity_prune`, whose second stage (after the issue-#19
 * "fix", commit `f99c2f2`) zeroes almost the whole mask every cycle (spec §1.10, §7 issue 19).
 *
 * `r == 0` returns `mask ∧ (w ≠ 0)`, as the official SET mode does.
 */
@injectable()
export class SetPrune implements PruneStrategy {
  readonly id = SET_PRUNE_ID;
  readonly countPolicy = 'exact' as const;

  constructor(@inject(TOKENS.PruneOptions) @optional() readonly options?: SetPruneOptions) {}

  prune(layer: LayerView, request: PruneRequest, _ctx: StrategyContext): Uint8Array {
    const r = request.count;
    if (r <= 0) return nonzeroMask(layer);
    const { mask, weight, size } = layer;
    const positive = new Uint8Array(size);
    const negative = new Uint8Array(size);
    const zero = new Uint8Array(size);
    let nPos = 0;
    let nNeg = 0;
    for (let i = 0; i < size; i++) {
      if (mask[i] !== 1) continue;
      if (weight[i] > 0) {
        positive[i] = 1;
        nPos++;
      } else if (weight[i] < 0) {
        negative[i] = 1;
        nNeg++;
      } else {
        zero[i] = 1;
      }
    }
    // Half from each sign; a short side hands its remainder to the other one.
    let takePos = Math.min(Math.ceil(r / 2), nPos);
    const takeNeg = Math.min(r - takePos, nNeg);
    takePos = Math.min(r - takeNeg, nPos);
    const takeZero = r - takePos - takeNeg;

    // Smallest positive and largest negative weights are both the smallest |w| within their sign.
    const scores = absolute(weight);
    const out = mask.slice();
    for (const [pool, take] of [
      [positive, takePos],
      [negative, takeNeg],
      [zero, takeZero],
    ] as const) {
      if (take <= 0) continue;
      const kept = removeLowestActive(pool, scores, take);
      for (let i = 0; i < size; i++) if (pool[i] === 1 && kept[i] === 0) out[i] = 0;
    }
    return out;
  }
}
