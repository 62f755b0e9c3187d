/**
 * Selection helpers on flat typed arrays, shared by the engine and by strategies (spec §7 gotcha 13: top-k
 * over millions of entries once per epoch is done on CPU typed arrays). Ties are broken by position
 * (lower index first), which is deterministic; the official PyTorch sort is not stable, but the golden cases
 * have no ties.
 */

/** Number of ones in a 0/1 mask. */
export function countActive(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i];
  return n;
}

/** Indices `i` with `include(i)`, sorted by `scores[i]` ascending (ties: lower index first). */
function sortedCandidates(scores: ArrayLike<number>, include: (i: number) => boolean, descending: boolean): Uint32Array {
  let count = 0;
  for (let i = 0; i < scores.length; i++) if (include(i)) count++;
  const idx = new Uint32Array(count);
  let j = 0;
  for (let i = 0; i < scores.length; i++) if (include(i)) idx[j++] = i;
  const sign = descending ? -1 : 1;
  // Sorting a typed array of indices with a comparator keeps memory at 4 bytes per candidate.
  idx.sort((a, b) => sign * (scores[a] - scores[b]) || a - b);
  return idx;
}

/**
 * Returns a copy of `mask` with the `k` *active* positions of smallest score switched off
 * (magnitude pruning when `scores = |w|`, spec §1.8 c). `k` is clamped to the number of active positions.
 */
export function removeLowestActive(mask: Uint8Array, scores: ArrayLike<number>, k: number): Uint8Array {
  const out = mask.slice();
  if (k <= 0) return out;
  const order = sortedCandidates(scores, (i) => mask[i] === 1, false);
  const n = Math.min(k, order.length);
  for (let j = 0; j < n; j++) out[order[j]] = 0;
  return out;
}

/**
 * Returns a copy of `mask` with the `k` *inactive* positions of largest score switched on
 * (momentum or gradient growth, spec §1.8 e, restricted to zero positions as issue #22 recommends).
 * `k` is clamped to the number of inactive positions.
 */
export function addHighestInactive(mask: Uint8Array, scores: ArrayLike<number>, k: number): Uint8Array {
  const out = mask.slice();
  if (k <= 0) return out;
  const order = sortedCandidates(scores, (i) => mask[i] === 0, true);
  const n = Math.min(k, order.length);
  for (let j = 0; j < n; j++) out[order[j]] = 1;
  return out;
}

/** `|x|` element-wise into a new Float32Array. */
export function absolute(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.abs(values[i]);
  return out;
}
