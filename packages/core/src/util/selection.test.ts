import { describe, expect, it } from 'vitest';
import { absolute, addHighestInactive, countActive, removeLowestActive, selectExtremes } from './selection.js';

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

  it('selectExtremes picks from a candidate list by the same rule (ties by position, NaN last), ascending', () => {
    const candidates = Int32Array.from([1, 3, 4, 6, 8]);
    const scores = [9, 0.5, 9, 0.2, 0.5, 9, Number.NaN, 9, 0.5];
    // Candidate scores 0.5 (1), 0.2 (3), 0.5 (4), NaN (6), 0.5 (8); the 9s are no candidates.
    // Lowest 3: 0.2 at 3, then the first two of the 0.5 ties by position (1, 4; not 8).
    expect(Array.from(selectExtremes(candidates, scores, 3, true))).toEqual([1, 3, 4]);
    // Highest 2: the three 0.5s tie (NaN at 6 is never preferred): the lower positions 1 and 4.
    expect(Array.from(selectExtremes(candidates, scores, 2, false))).toEqual([1, 4]);
    // Highest 4: the 0.5s, then 0.2 before NaN.
    expect(Array.from(selectExtremes(candidates, scores, 4, false))).toEqual([1, 3, 4, 8]);
    expect(Array.from(selectExtremes(candidates, scores, 0, true))).toEqual([]);
    expect(Array.from(selectExtremes(candidates, scores, 9, true))).toEqual([1, 3, 4, 6, 8]);
    expect(Array.from(candidates)).toEqual([1, 3, 4, 6, 8]);
  });

  it('selectExtremes agrees with removeLowestActive on the active positions (float32 ties)', () => {
    const mask = Uint8Array.from([1, 1, 0, 1, 1, 1, 0, 1]);
    const scores = Float32Array.from([0.3, 0.1, 0, 0.1, 0.3, 0.1, 0, 0.2]);
    const active = Int32Array.from([0, 1, 3, 4, 5, 7]);
    for (let k = 0; k <= 6; k++) {
      const kept = removeLowestActive(mask, scores, k);
      const removed = Array.from(active).filter((i) => kept[i] === 0);
      expect(Array.from(selectExtremes(active, scores, k, true))).toEqual(removed);
    }
    expect(Array.from(selectExtremes(active, scores, 4, true))).toEqual([1, 3, 5, 7]);
  });
});
