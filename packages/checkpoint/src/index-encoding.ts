/**
 * Encodings of the sorted flat positions of a sparse tensor's non-zero entries. Every sorted index list is
 * turned into gaps `g0 = i0`, `gk = ik - i(k-1) - 1` (≥ 0 because indices are strictly increasing), then stored
 * in whichever form is smallest for that tensor:
 *
 * - `varint`: LEB128 gaps (1 byte below 128) — best for the very sparse, spread-out masks of sparse training;
 * - `uint16`: fixed 2-byte gaps, when every gap is < 65 536 and many gaps are ≥ 16 384 (3-byte varints);
 * - `uint32`: fixed 4-byte gaps, the fallback that always fits;
 * - `bitmap`: one bit per position (LSB first), best above roughly 1/8 density.
 */
export type IndexEncoding = 'varint' | 'uint16' | 'uint32' | 'bitmap';

function varintLength(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 128);
    n++;
  }
  return n;
}

/** The gap codes: every encoding but the bitmap (the only ones that never touch the dense range). */
export type GapEncoding = Exclude<IndexEncoding, 'bitmap'>;

/**
 * Bytes each gap code takes for ascending `positions` (32-bit indices, or the doubles of
 * wide-index-encoding.ts beyond 2³²); a fixed-width code whose width a gap exceeds is `Infinity`.
 */
export function gapEncodingSizes(positions: Uint32Array | Float64Array): Record<GapEncoding, number> {
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

/** Bytes each encoding would take for `indices` (sorted, strictly increasing) out of `size` positions. */
export function indexEncodingSizes(indices: Uint32Array, size: number): Record<IndexEncoding, number> {
  return { ...gapEncodingSizes(indices), bitmap: Math.ceil(size / 8) };
}

/**
 * Writes the gaps of ascending `positions` with a gap code into `byteLength` bytes (from
 * {@link gapEncodingSizes}); little-endian. The one encoder behind {@link encodeIndices} and the wide positions.
 */
export function encodeGapPositions(positions: Uint32Array | Float64Array, encoding: GapEncoding, byteLength: number): Uint8Array {
  const out = new Uint8Array(byteLength);
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

/** The smallest encoding for `indices` (ties go to the earlier of varint, uint16, uint32, bitmap). */
export function chooseIndexEncoding(indices: Uint32Array, size: number): { encoding: IndexEncoding; bytes: number } {
  const sizes = indexEncodingSizes(indices, size);
  let best: IndexEncoding = 'varint';
  for (const e of ['uint16', 'uint32', 'bitmap'] as const) if (sizes[e] < sizes[best]) best = e;
  return { encoding: best, bytes: sizes[best] };
}

/** Encodes sorted `indices` (of `size` positions) with `encoding`; the result is little-endian. */
export function encodeIndices(indices: Uint32Array, size: number, encoding: IndexEncoding): Uint8Array {
  const bytes = indexEncodingSizes(indices, size)[encoding];
  if (encoding !== 'bitmap') return encodeGapPositions(indices, encoding, bytes);
  const out = new Uint8Array(bytes);
  for (let k = 0; k < indices.length; k++) out[indices[k] >>> 3] |= 1 << (indices[k] & 7);
  return out;
}

/**
 * Decodes `count` gap-coded positions (`varint`, `uint16` or `uint32` gaps; position k = position k−1 + gap + 1)
 * of a tensor of `size` elements into `out`: the one decoder behind {@link decodeIndices} (32-bit positions)
 * and wide-index-encoding.ts (positions beyond 2³², in a `Float64Array`). A varint may use `maxVarintBytes`
 * bytes at most. Returns null when the bytes are inconsistent (wrong length, a position past `size`, an
 * overlong varint, an unknown code).
 */
export function decodeGapPositions<T extends Uint32Array | Float64Array>(
  bytes: Uint8Array,
  count: number,
  size: number,
  encoding: string,
  out: T,
  maxVarintBytes: number,
): T | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let previous = -1;
  if (encoding === 'varint') {
    const maxScale = 128 ** (maxVarintBytes - 1);
    let pos = 0;
    for (let k = 0; k < count; k++) {
      let gap = 0;
      let scale = 1;
      for (;;) {
        if (pos >= bytes.byteLength || scale > maxScale) return null;
        const byte = bytes[pos++];
        // Arithmetic, not bit operators: a gap may exceed 2³¹.
        gap += (byte & 0x7f) * scale;
        scale *= 128;
        if ((byte & 0x80) === 0) break;
      }
      previous += gap + 1;
      if (previous >= size) return null;
      out[k] = previous;
    }
    return pos === bytes.byteLength ? out : null;
  }
  if (encoding !== 'uint16' && encoding !== 'uint32') return null;
  const width = encoding === 'uint16' ? 2 : 4;
  if (bytes.byteLength !== width * count) return null;
  for (let k = 0; k < count; k++) {
    previous += (width === 2 ? view.getUint16(2 * k, true) : view.getUint32(4 * k, true)) + 1;
    if (previous >= size) return null;
    out[k] = previous;
  }
  return out;
}

/**
 * Decodes `count` indices of a tensor of `size` positions. Returns null when the bytes are inconsistent
 * (wrong length, an index past `size`, wrong count): the caller reports the file as invalid.
 */
export function decodeIndices(bytes: Uint8Array, count: number, size: number, encoding: IndexEncoding): Uint32Array | null {
  const indices = new Uint32Array(count);
  if (encoding !== 'bitmap') return decodeGapPositions(bytes, count, size, encoding, indices, 6);
  if (bytes.byteLength !== Math.ceil(size / 8)) return null;
  let k = 0;
  for (let i = 0; i < size; i++) {
    if (bytes[i >>> 3] & (1 << (i & 7))) {
      if (k === count) return null;
      indices[k++] = i;
    }
  }
  return k === count ? indices : null;
}
