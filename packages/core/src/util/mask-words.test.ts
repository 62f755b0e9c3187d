import { describe, expect, it } from 'vitest';
import { createRng } from '../rng.js';
import { countNonZero, countTurnedOff, maskWords } from './mask-words.js';
import { countActive } from './selection.js';

/** A mask of `length` bytes at byte `offset` of a fresh buffer: 0/1 at `density`, some other values if `wild`. */
function randomMask(seed: string, length: number, density: number, offset = 0, wild = 0): Uint8Array {
  const rng = createRng(seed);
  const mask = new Uint8Array(new ArrayBuffer(length + offset + 3), offset, length);
  for (let i = 0; i < length; i++) {
    const r = rng.next();
    mask[i] = r < wild ? 2 + rng.int(254) : r < wild + density ? 1 : 0;
  }
  return mask;
}

const plainSum = (m: Uint8Array) => m.reduce((a, b) => a + b, 0);
const plainNonZero = (m: Uint8Array) => m.reduce((a, b) => a + (b !== 0 ? 1 : 0), 0);
const plainTurnedOff = (from: Uint8Array, to: Uint8Array) => from.reduce((a, b, i) => a + (b === 1 && to[i] === 0 ? 1 : 0), 0);

describe('word-at-a-time mask helpers (issue 14)', () => {
  it('count exactly what the per-byte loops count, at any length, offset and value', () => {
    let cases = 0;
    for (const length of [0, 1, 3, 4, 5, 63, 64, 1001]) {
      for (const offset of [0, 1, 2, 4]) {
        for (const [density, wild] of [[0.05, 0], [0.5, 0], [1, 0], [0.3, 0.02]]) {
          const seed = `${length}/${offset}/${density}/${wild}`;
          const mask = randomMask(seed, length, density, offset, wild);
          const other = randomMask(`${seed}/b`, length, density, offset, wild);
          expect(countActive(mask), seed).toBe(plainSum(mask));
          expect(countNonZero(mask), seed).toBe(plainNonZero(mask));
          expect(countTurnedOff(mask, other), seed).toBe(plainTurnedOff(mask, other));
          cases++;
        }
      }
    }
    expect(cases).toBe(128);
  });

  it('hand-worked: sums, nonzero bytes and positions switched off', () => {
    const before = Uint8Array.from([1, 1, 0, 0, 1, 0, 1, 1, 1]);
    const after = Uint8Array.from([1, 0, 0, 1, 0, 0, 1, 1, 0]);
    expect(countActive(before)).toBe(6);
    expect(countNonZero(Uint8Array.from([0, 7, 0, 255, 1, 0, 0, 0, 9]))).toBe(4);
    // A byte above 1 is summed as its value, as the plain loop does.
    expect(countActive(Uint8Array.from([0, 7, 0, 255, 1, 0, 0, 0, 9]))).toBe(272);
    // Positions 1, 4 and 8 (the last one outside the whole words).
    expect(countTurnedOff(before, after)).toBe(3);
  });

  it('views whole words only, and only of a 4-byte aligned mask', () => {
    const buffer = new ArrayBuffer(16);
    expect(maskWords(new Uint8Array(buffer, 4, 11))?.length).toBe(2);
    expect(maskWords(new Uint8Array(buffer, 1, 8))).toBeNull();
    const mask = new Uint8Array(buffer, 0, 8);
    mask[5] = 1;
    expect(maskWords(mask)![1]).not.toBe(0);
  });
});
