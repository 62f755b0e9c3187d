import { maskWords, selectExtremes } from '@sparse-learning/core';
import type { LayerView, PruneRequest, PruneStrategy, StrategyContext } from '@sparse-learning/core';
import { nonzeroMask } from './magnitude-prune.js';

/** Registry id of {@link SetPrune}. */
export const SET_PRUNE_ID = 'set';

/** Options of {@link SetPrune}. None today. */
export type SetPruneOptions = Record<string, never>;

/**
 * The pruning rule SET intends (Mocanu et al. 2018; docs/algorithm.md#baselines, docs/algorithm.md#strategy-variants): of the `r = request.count` weights to
 * remove, `⌈r/2⌉` are the smallest *positive* active weights and `⌊r/2⌋` the *largest negative* active weights
 * (those closest to zero), so that exactly `r` go (the spec's "⌈r/2⌉ each" would remove `r + 1` for odd `r`;
 * the extra one is taken from the positive side). If one sign has too few active weights, the rest comes from
 * the other sign.
 *
 * Active weights that are exactly 0 go FIRST (up to `r`), and the sign split applies to the rest: 0 is the
 * value closest to zero of either sign, SET's own code drops every exact zero at each evolution step
 * (`rewireMask` in Mocanu's SET-MLP code keeps only `w > smallestPositive` or `w < largestNegative`), and the
 * DSR codebase and magnitude pruning remove smallest-|w| first. Protecting them instead is a ratchet: a weight
 * regrown at 0 (docs/algorithm.md#baselines, new weights start at 0) into a dead ReLU unit or a never-lit input pixel gets an
 * exactly-zero gradient forever, so such zeros pile up epoch after epoch (LeNet-300-100 at 5 %, ζ = 0.3: fc2 reached 2914 exact
 * zeros of 3340 active after 15 epochs) until the non-zero weights are fewer than `r` and one update prunes
 * every trained weight of the layer (fc2 went to 0 non-zero weights at the epoch-17 update, train loss
 * 0.06 → 0.28).
 *
 * Deliberately NOT the official HEAD `magnitude_and_negativity_prune`, whose second stage (after the issue-#19
 * "fix", commit `f99c2f2`) zeroes almost the whole mask every cycle (docs/algorithm.md#strategy-variants, docs/algorithm.md#pitfalls-of-the-official-code).
 *
 * `r == 0` returns `mask ∧ (w ≠ 0)`, as the official SET mode does.
 */
export class SetPrune implements PruneStrategy {
  readonly id = SET_PRUNE_ID;
  readonly countPolicy = 'exact' as const;

  constructor(readonly options?: SetPruneOptions) {}

  prune(layer: LayerView, request: PruneRequest, _ctx: StrategyContext): Uint8Array {
    const r = request.count;
    if (r <= 0) return nonzeroMask(layer);
    const { mask, weight, size } = layer;
    // Position lists of the three pools (ascending), not three layer-sized masks: at 1 % density the pools hold
    // 1 % of the positions, and the selection below works on them only (issue 9). The active positions are
    // listed in one pass that skips all-zero 4-byte words of the mask; the pools are split from that list.
    const active = activePositions(mask, size);
    let nPos = 0;
    let nNeg = 0;
    for (let j = 0; j < active.length; j++) {
      const w = weight[active[j]];
      if (w > 0) nPos++;
      else if (w < 0) nNeg++;
    }
    const nZero = active.length - nPos - nNeg;
    const positive = new Int32Array(nPos);
    const negative = new Int32Array(nNeg);
    const zero = new Int32Array(nZero);
    for (let j = 0, p = 0, n = 0, z = 0; j < active.length; j++) {
      const i = active[j];
      const w = weight[i];
      if (w > 0) positive[p++] = i;
      else if (w < 0) negative[n++] = i;
      else zero[z++] = i;
    }
    // Exact zeros first (the closest to zero of both signs; see the TSDoc for why they must not be kept).
    const takeZero = Math.min(r, nZero);
    const rest = r - takeZero;
    // Half of the rest from each sign; a short side hands its remainder to the other one.
    let takePos = Math.min(Math.ceil(rest / 2), nPos);
    const takeNeg = Math.min(rest - takePos, nNeg);
    takePos = Math.min(rest - takeNeg, nPos);

    // Smallest |w| within each pool, ties by position: the smallest positive weights, the largest negative
    // ones (|w| = -w is decreasing in w, so "largest w" is the same order), and for the zero pool (0, -0 and
    // NaN, the rest of the active positions) the smallest |w| with NaN last — |w| = w there up to -0 = 0.
    const out = mask.slice();
    for (const [pool, take, lowest] of [
      [positive, takePos, true],
      [negative, takeNeg, false],
      [zero, takeZero, true],
    ] as const) {
      if (take <= 0) continue;
      const chosen = selectExtremes(pool, weight, take, lowest);
      for (let j = 0; j < chosen.length; j++) out[chosen[j]] = 0;
    }
    return out;
  }
}

/** The positions `i` (ascending) with `mask[i] === 1`, skipping all-zero 4-byte words. */
function activePositions(mask: Uint8Array, size: number): Int32Array {
  const words = maskWords(mask.length === size ? mask : mask.subarray(0, size));
  const wordCount = words ? words.length : 0;
  let list = new Int32Array(64);
  let n = 0;
  const scan = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      if (mask[i] !== 1) continue;
      if (n === list.length) {
        const grown = new Int32Array(list.length * 2);
        grown.set(list);
        list = grown;
      }
      list[n++] = i;
    }
  };
  for (let k = 0; k < wordCount; k++) if (words![k] !== 0) scan(k << 2, (k << 2) + 4);
  scan(wordCount << 2, size);
  return list.subarray(0, n);
}
