import { describe, expect, it } from 'vitest';
import { createRng } from '@sparse-learning/core';
import { chooseIndexEncoding, decodeIndices, encodeIndices, indexEncodingSizes } from './index-encoding.js';
import type { IndexEncoding } from './index-encoding.js';
import { randomMask } from './test-fixtures.js';

const ALL: IndexEncoding[] = ['varint', 'uint16', 'uint32', 'bitmap'];

function indicesOf(mask: Uint8Array): Uint32Array {
  const out: number[] = [];
  mask.forEach((m, i) => m && out.push(i));
  return Uint32Array.from(out);
}

describe('index encodings', () => {
  it('hand-worked case: indices [0, 1, 5, 200] of 300', () => {
    const indices = Uint32Array.from([0, 1, 5, 200]);
    // gaps 0, 0, 3, 194 → varint 00 00 03 C2 01 (194 = 0x42 + 1·128)
    expect([...encodeIndices(indices, 300, 'varint')]).toEqual([0x00, 0x00, 0x03, 0xc2, 0x01]);
    expect([...encodeIndices(indices, 300, 'uint16')]).toEqual([0, 0, 0, 0, 3, 0, 194, 0]);
    expect(indexEncodingSizes(indices, 300)).toEqual({ varint: 5, uint16: 8, uint32: 16, bitmap: 38 });
    expect(chooseIndexEncoding(indices, 300)).toEqual({ encoding: 'varint', bytes: 5 });
    const bitmap = encodeIndices(indices, 300, 'bitmap');
    expect([bitmap[0], bitmap[25]]).toEqual([0b100011, 0b1]); // 200 = 25·8 + 0
  });

  it('every encoding round-trips random sets; the choice follows density', () => {
    const rng = createRng(11);
    for (const [size, density, expected] of [
      [5000, 0.05, 'varint'],
      [5000, 0.5, 'bitmap'],
      [1, 1, 'varint'],
      [10, 0, 'varint'],
    ] as const) {
      const indices = indicesOf(randomMask(size, density, rng));
      expect(chooseIndexEncoding(indices, size).encoding, `${size}@${density}`).toBe(expected);
      for (const e of ALL) {
        if (e === 'uint16' && indexEncodingSizes(indices, size).uint16 === Infinity) continue;
        const bytes = encodeIndices(indices, size, e);
        expect(bytes.byteLength).toBe(indexEncodingSizes(indices, size)[e]);
        expect(decodeIndices(bytes, indices.length, size, e)).toEqual(indices);
      }
    }
  });

  it('uint16 wins when gaps need 3-byte varints (16384 ≤ gap < 65536)', () => {
    const indices = Uint32Array.from({ length: 15 }, (_, k) => 20_000 * k);
    expect(indexEncodingSizes(indices, 300_000)).toEqual({ varint: 1 + 14 * 3, uint16: 30, uint32: 60, bitmap: 37_500 });
    expect(chooseIndexEncoding(indices, 300_000).encoding).toBe('uint16');
    expect(decodeIndices(encodeIndices(indices, 300_000, 'uint16'), 15, 300_000, 'uint16')).toEqual(indices);
  });

  it('uint16 is impossible for a gap ≥ 65536; uint32 covers it', () => {
    const indices = Uint32Array.from([3, 70_000]);
    expect(indexEncodingSizes(indices, 80_000).uint16).toBe(Infinity);
    expect(decodeIndices(encodeIndices(indices, 80_000, 'uint32'), 2, 80_000, 'uint32')).toEqual(indices);
    expect(decodeIndices(encodeIndices(indices, 80_000, 'varint'), 2, 80_000, 'varint')).toEqual(indices);
  });

  it('inconsistent bytes decode to null', () => {
    expect(decodeIndices(Uint8Array.from([0x80]), 1, 10, 'varint')).toBeNull(); // unterminated
    expect(decodeIndices(Uint8Array.from([20]), 1, 10, 'varint')).toBeNull(); // index 20 ≥ 10
    expect(decodeIndices(Uint8Array.from([0, 0]), 1, 10, 'varint')).toBeNull(); // trailing byte
    expect(decodeIndices(Uint8Array.from([0b11]), 1, 8, 'bitmap')).toBeNull(); // 2 bits for 1 entry
    expect(decodeIndices(Uint8Array.from([0, 0]), 2, 10, 'uint16')).toBeNull(); // wrong length
    expect(decodeIndices(Uint8Array.from([0]), 1, 10, 'zip' as IndexEncoding)).toBeNull();
  });
});
