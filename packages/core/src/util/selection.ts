/**
 * Selection helpers on flat typed arrays, shared by the engine and by strategies (docs/algorithm.md#pitfalls-of-the-official-code: top-k
 * over millions of entries once per epoch is done on CPU typed arrays). Ties are broken by position
 * (lower index first), which is deterministic; the official PyTorch sort is not stable, but the golden cases
 * have no ties.
 */
import { NON_BINARY_BITS, maskWords } from './mask-words.js';

/**
 * Number of ones in a 0/1 mask (the sum of its bytes). Four bytes at a time without branches (a byte sum by
 * one multiplication, exact while every byte is 0 or 1); a mask with any other value is summed byte by byte,
 * so the result is the plain sum for any input.
 */
export function countActive(mask: Uint8Array): number {
  const words = maskWords(mask);
  if (words) {
    let n = 0;
    let seen = 0;
    for (let k = 0; k < words.length; k++) {
      const w = words[k];
      seen |= w;
      n += Math.imul(w, 0x01010101) >>> 24;
    }
    if ((seen & NON_BINARY_BITS) === 0) {
      for (let i = words.length << 2; i < mask.length; i++) n += mask[i];
      return n;
    }
  }
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i];
  return n;
}

/** The value of rank `n` (0-based) in ascending order; reorders `values` (Hoare quickselect, O(length)). */
function nthSmallest(values: Float32Array | Float64Array, n: number): number {
  let lo = 0;
  let hi = values.length - 1;
  while (hi > lo) {
    // Median of three as pivot keeps sorted and constant inputs linear.
    const mid = (lo + hi) >>> 1;
    const a = values[lo];
    const b = values[mid];
    const c = values[hi];
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i] = values[j];
        values[j] = t;
        i++;
        j--;
      }
    }
    if (n <= j) hi = j;
    else if (n >= i) lo = i;
    else return values[n];
  }
  return values[n];
}

/**
 * Switches `k` positions of `mask` whose value equals `from` to `1 - from`, choosing the smallest scores
 * (`lowest`) or the largest. Ties are broken by position (lower index first), exactly as a stable sort would.
 *
 * Why not a sort of indices: once per epoch the candidates can number millions (every zero of a large
 * layer); a comparator sort of indices costs ~1 s per million; a quickselect of the k-th candidate *score* is
 * linear, and one more pass selects the positions.
 */
function switchExtremes(mask: Uint8Array, scores: ArrayLike<number>, k: number, from: 0 | 1, lowest: boolean): Uint8Array {
  const out = mask.slice();
  if (k <= 0) return out;
  let count = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] === from) count++;
  const to = (1 - from) as 0 | 1;
  if (k >= count) {
    for (let i = 0; i < mask.length; i++) if (mask[i] === from) out[i] = to;
    return out;
  }
  // NaN scores are least preferred (never chosen before a number).
  const worst = lowest ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  const values = keyArray(scores, count);
  for (let i = 0, j = 0; i < mask.length; i++) {
    if (mask[i] !== from) continue;
    const s = scores[i];
    values[j++] = s === s ? s : worst;
  }
  // The k-th candidate in selection order; everything strictly beyond it is taken, ties at it by position:
  // one pass takes the strict ones and lists the first k ties, the first `k - strictly` of them are taken.
  const threshold = nthSmallest(values, lowest ? k - 1 : count - k);
  const ties = new Int32Array(k);
  let strictly = 0;
  let tied = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] !== from) continue;
    const v = scores[i];
    const s = v === v ? v : worst;
    if (lowest ? s < threshold : s > threshold) {
      out[i] = to;
      strictly++;
    } else if (s === threshold && tied < k) ties[tied++] = i;
  }
  for (let t = 0; t < k - strictly; t++) out[ties[t]] = to;
  return out;
}

/**
 * Scratch keys for the quickselect: float32 when the scores are (their values, ±Infinity included, are
 * exact in float32, and half the bytes to move), else float64.
 */
function keyArray(scores: ArrayLike<number>, count: number): Float32Array | Float64Array {
  return scores instanceof Float32Array ? new Float32Array(count) : new Float64Array(count);
}

/**
 * The `k` positions of `candidates` (ascending positions) with the smallest scores (`lowest`) or the largest,
 * NaN scores least preferred, ties broken by position (lower index first), exactly as a stable sort would;
 * returned in ascending order. The rule of {@link removeLowestActive} / {@link addHighestInactive} on an
 * explicit candidate list, for strategies that already hold one (SET's sign pools). `candidates` is not mutated.
 *
 * Why not a sort of indices: the candidates can number millions (every zero of a large layer); a comparator
 * sort costs ~1 s per million; a quickselect of the k-th candidate *score* is linear.
 */
export function selectExtremes(candidates: Int32Array, scores: ArrayLike<number>, k: number, lowest: boolean): Int32Array {
  const count = candidates.length;
  if (k <= 0) return new Int32Array(0);
  if (k >= count) return candidates.slice();
  // NaN scores are least preferred (never chosen before a number).
  const worst = lowest ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  const values = keyArray(scores, count);
  for (let j = 0; j < count; j++) {
    const s = scores[candidates[j]];
    values[j] = s === s ? s : worst;
  }
  // As in switchExtremes: the strict ones in one pass, then the first `k - strictly` ties, merged by position.
  const threshold = nthSmallest(values, lowest ? k - 1 : count - k);
  const strict = new Int32Array(k);
  const ties = new Int32Array(k);
  let strictly = 0;
  let tied = 0;
  for (let j = 0; j < count; j++) {
    const v = scores[candidates[j]];
    const s = v === v ? v : worst;
    if (lowest ? s < threshold : s > threshold) strict[strictly++] = candidates[j];
    else if (s === threshold && tied < k) ties[tied++] = candidates[j];
  }
  const take = k - strictly;
  const chosen = new Int32Array(k);
  for (let a = 0, b = 0, c = 0; c < k; c++) {
    chosen[c] = a < strictly && (b >= take || strict[a] < ties[b]) ? strict[a++] : ties[b++];
  }
  return chosen;
}

/**
 * Returns a copy of `mask` with the `k` *active* positions of smallest score switched off
 * (magnitude pruning when `scores = |w|`, docs/algorithm.md#the-mask-update). `k` is clamped to the number of active positions.
 */
export function removeLowestActive(mask: Uint8Array, scores: ArrayLike<number>, k: number): Uint8Array {
  return switchExtremes(mask, scores, k, 1, true);
}

/**
 * Returns a copy of `mask` with the `k` *inactive* positions of largest score switched on
 * (momentum or gradient growth, docs/algorithm.md#the-mask-update, restricted to zero positions as issue #22 recommends).
 * `k` is clamped to the number of inactive positions.
 */
export function addHighestInactive(mask: Uint8Array, scores: ArrayLike<number>, k: number): Uint8Array {
  return switchExtremes(mask, scores, k, 0, false);
}

/** `|x|` element-wise into a new Float32Array. */
export function absolute(values: Float32Array): Float32Array {
  const out = new Float32Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.abs(values[i]);
  return out;
}
