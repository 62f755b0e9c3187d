/**
 * Positions of tensors with more than 2³² elements (issue 9: a 100 000 × 100 000 layer has 10¹⁰), held as
 * `Float64Array` (every integer below 2⁵³ is exact). The bytes are the same gap codes as
 * ./index-encoding.ts — gaps `g0 = p0`, `gk = pk − p(k−1) − 1` — limited to the codes that never touch the
 * dense range: `varint` (LEB128, up to 8 bytes per gap), `uint16` and `uint32` (when every gap fits). The
 * bitmap would be `size / 8` bytes (1.25 GB for 10¹⁰ positions) and is never chosen here.
 */
import { decodeGapPositions, encodeGapPositions, gapEncodingSizes, type GapEncoding } from './index-encoding.js';

/** The gap codes available for wide positions. */
export type WideIndexEncoding = GapEncoding;

/** Largest tensor a wide position can address: every position stays an exact double. */
export const MAX_WIDE_POSITIONS = 2 ** 53;

/** Bytes each code takes for `positions` (ascending, distinct, already checked). */
export function wideEncodingSizes(positions: Float64Array): Record<WideIndexEncoding, number> {
  return gapEncodingSizes(positions);
}

/** The smallest code for `positions` (ties go to the earlier of varint, uint16, uint32; varint always fits). */
export function chooseWideEncoding(positions: Float64Array): { encoding: WideIndexEncoding; bytes: number } {
  const sizes = wideEncodingSizes(positions);
  let best: WideIndexEncoding = 'varint';
  for (const e of ['uint16', 'uint32'] as const) if (sizes[e] < sizes[best]) best = e;
  return { encoding: best, bytes: sizes[best] };
}

/** Encodes ascending `positions` with `encoding` (little-endian). */
export function encodeWidePositions(positions: Float64Array, encoding: WideIndexEncoding): Uint8Array {
  return encodeGapPositions(positions, encoding, gapEncodingSizes(positions)[encoding]);
}

/**
 * Decodes `count` positions of a tensor of `size` elements. Returns null when the bytes are inconsistent
 * (wrong length, a position past `size`, an overlong varint, an unknown code): the caller reports the file as
 * invalid.
 */
export function decodeWidePositions(bytes: Uint8Array, count: number, size: number, encoding: string): Float64Array | null {
  // 8 bytes carry 56 bits, more than any position below 2⁵³ needs.
  return decodeGapPositions(bytes, count, size, encoding, new Float64Array(count), 8);
}

/**
 * Why `indices` are not valid flat positions of a tensor of `size` elements (integers, strictly ascending,
 * inside `[0, size)`), or null when they are.
 */
export function positionProblem(indices: ArrayLike<number>, size: number): string | null {
  let previous = -1;
  for (let k = 0; k < indices.length; k++) {
    const p = indices[k];
    if (!Number.isInteger(p) || p <= previous || p >= size) {
      return `index ${k} is ${p}${p <= previous ? `, not above the previous ${previous}` : ''}; positions must be ascending integers in [0, ${size})`;
    }
    previous = p;
  }
  return null;
}
