/**
 * Word-at-a-time helpers for 0/1 byte masks (issue 14: DeepR updates its masks after every step, so every
 * pass over a layer's mask is paid 540 times an epoch).
 *
 * Why words: a mask of a sparse layer is mostly zero bytes, and two masks of one update are mostly equal.
 * Reading four bytes at once and skipping words that are zero (or equal to the other mask's word) turns a
 * per-byte loop into a quarter as many iterations with well-predicted branches. Only tests that do not
 * depend on the byte order inside a word are made on words (zero, equal, "some byte above 1", byte sums);
 * anything positional is read from the bytes, so results are the same on any endianness.
 */

/** The bits of a 32-bit word that are set when one of its four bytes is neither 0 nor 1. */
export const NON_BINARY_BITS = 0xfefefefe;

/**
 * The whole 32-bit words of `mask` as a `Uint32Array` over the same memory (`mask.length >>> 2` words; the
 * last `mask.length & 3` bytes are not covered), or `null` when the mask does not start on a 4-byte
 * boundary (a subarray at an odd offset): callers then take their per-byte path.
 */
export function maskWords(mask: Uint8Array): Uint32Array | null {
  if ((mask.byteOffset & 3) !== 0) return null;
  return new Uint32Array(mask.buffer, mask.byteOffset, mask.length >>> 2);
}

/**
 * Number of bytes of `mask` that are not 0 (any value). Branch-free on words: the high bit of each nonzero
 * byte is collected, then the four bits are summed by one multiplication.
 */
export function countNonZero(mask: Uint8Array): number {
  const words = maskWords(mask);
  let n = 0;
  let tail = 0;
  if (words) {
    for (let k = 0; k < words.length; k++) {
      const w = words[k];
      // 0x80 in every byte that is not zero: (low 7 bits + 0x7f) carries into bit 7 unless they are all 0.
      const high = ((((w & 0x7f7f7f7f) + 0x7f7f7f7f) | w) & 0x80808080) >>> 7;
      n += Math.imul(high, 0x01010101) >>> 24;
    }
    tail = words.length << 2;
  }
  for (let i = tail; i < mask.length; i++) if (mask[i] !== 0) n++;
  return n;
}

/**
 * Number of positions where `from` is 1 and `to` is 0 (e.g. the weights a prune step removed, with `from`
 * the mask before and `to` the mask after). Words where the two masks agree cannot hold such a position
 * and are skipped. Both masks must have the same length.
 */
export function countTurnedOff(from: Uint8Array, to: Uint8Array): number {
  const fw = maskWords(from);
  const tw = maskWords(to);
  const words = fw && tw ? fw.length : 0;
  let n = 0;
  for (let k = 0; k < words; k++) {
    if (fw![k] === tw![k]) continue;
    for (let j = k << 2; j < (k << 2) + 4; j++) if (from[j] === 1 && to[j] === 0) n++;
  }
  for (let j = words << 2; j < from.length; j++) if (from[j] === 1 && to[j] === 0) n++;
  return n;
}
