import { describe, expect, it } from 'vitest';
import { absolute, addHighestInactive, countActive, removeLowestActive } from './selection.js';

describe('selection helpers', () => {
  it('removes the k active positions of smallest score only', () => {
    const mask = Uint8Array.from([1, 0, 1, 1, 1]);
    const scores = Float32Array.from([0.5, 0, 0.1, 0.9, 0.2]);
    expect(Array.from(removeLowestActive(mask, scores, 2))).toEqual([1, 0, 0, 1, 0]);
    expect(Array.from(removeLowestActive(mask, scores, 99))).toEqual([0, 0, 0, 0, 0]);
    expect(Array.from(mask)).toEqual([1, 0, 1, 1, 1]);
  });

  it('adds the k inactive positions of largest score only', () => {
    const mask = Uint8Array.from([1, 0, 0, 1, 0]);
    const scores = Float32Array.from([9, 0.3, 0.7, 9, 0.5]);
    expect(Array.from(addHighestInactive(mask, scores, 2))).toEqual([1, 0, 1, 1, 1]);
    expect(countActive(addHighestInactive(mask, scores, 10))).toBe(5);
  });

  it('breaks ties by position and takes absolute values', () => {
    expect(Array.from(removeLowestActive(Uint8Array.from([1, 1, 1]), [1, 1, 1], 1))).toEqual([0, 1, 1]);
    expect(Array.from(absolute(Float32Array.from([-2, 3])))).toEqual([2, 3]);
  });
});

describe('selection helpers agree with a stable sort on random inputs', () => {
  it('matches the reference on 200 random cases with many ties', () => {
    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    for (let c = 0; c < 200; c++) {
      const n = 1 + Math.floor(rand() * 60);
      const mask = Uint8Array.from({ length: n }, () => (rand() < 0.5 ? 1 : 0));
      const scores = Float32Array.from({ length: n }, () => Math.floor(rand() * 5) / 4);
      const k = Math.floor(rand() * (n + 2));
      const ref = (from: number, desc: boolean) => {
        const idx = [...mask.keys()].filter((i) => mask[i] === from);
        idx.sort((a, b) => (desc ? scores[b] - scores[a] : scores[a] - scores[b]) || a - b);
        const out = mask.slice();
        for (const i of idx.slice(0, Math.max(0, k))) out[i] = 1 - from;
        return Array.from(out);
      };
      expect(Array.from(removeLowestActive(mask, scores, k))).toEqual(ref(1, false));
      expect(Array.from(addHighestInactive(mask, scores, k))).toEqual(ref(0, true));
    }
  });

  it('never prefers a NaN score over a number', () => {
    expect(Array.from(addHighestInactive(Uint8Array.from([0, 0, 0]), [Number.NaN, 1, 2], 2))).toEqual([0, 1, 1]);
    expect(Array.from(removeLowestActive(Uint8Array.from([1, 1, 1]), [Number.NaN, 1, 2], 2))).toEqual([1, 0, 0]);
  });
});
