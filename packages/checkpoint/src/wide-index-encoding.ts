/**
 * Positions of tensors with more than 2³² elements (issue 9: a 100 000 × 100 000 layer has 10¹⁰), held as
 * `Float64Array` (every integer below 2⁵³ is exact). The bytes are the same gap codes as
 * ./index-encoding.ts — gaps `g0 = p0`, `gk = pk − p(k−1) − 1` — limited to the codes that never touch the
 * dense range: `varint` (LEB128, up to 8 bytes per gap), `uint16` and `uint32` (when every gap fits). The
 * bitmap would be `size / 8` bytes (1.25 GB for 10¹⁰ positions) and is never chosen here.
 */
import { decodeGapPositions, type IndexEncoding } from './index-encoding.js';

/** The gap codes available for wide positions. */
export type WideIndexEncoding = Exclude<IndexEncoding, 'bitmap'>;

/** Largest tensor a wide position can address: every position stays an exact double. */
export const MAX_WIDE_POSITIONS = 2 ** 53;

function varintLength(value: number): number {
  let n = 1;
  while (value >= 128) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

/** Bytes each code takes for `positions` (ascending, distinct, already checked). */
export function wideEncodingSizes(positions: Float64Array): Record<WideIndexEncoding, number> {
  let varint = 0;
  let maxGap = 0;
  let previous = -1;
  for (let k = 0; k < positions.length; k++) {
    const gap = positions[k] - previous - 1;
    previous = positions[k];
    varint += varintLength(gap);
    if (gap > maxGap) maxGap = gap;
  }
  return {
    varint,
    uint16: maxGap < 2 ** 16 ? 2 * positions.length : Number.POSITIVE_INFINITY,
    uint32: maxGap < 2 ** 32 ? 4 * positions.length : Number.POSITIVE_INFINITY,
  };
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
  const out = new Uint8Array(wideEncodingSizes(positions)[encoding]);
  const view = new DataView(out.buffer);
  let previous = -1;
  let pos = 0;
  for (let k = 0; k < positions.length; k++) {
    let gap = positions[k] - previous - 1;
    previous = positions[k];
    if (encoding === 'varint') {
      // Arithmetic, not bit operators: a gap may exceed 2³¹.
      while (gap >= 128) {
        out[pos++] = (gap % 128) | 0x80;
        gap = Math.floor(gap / 128);
      }
      out[pos++] = gap;
    } else if (encoding === 'uint16') view.setUint16(2 * k, gap, true);
    else view.setUint32(4 * k, gap, true);
  }
  return out;
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
