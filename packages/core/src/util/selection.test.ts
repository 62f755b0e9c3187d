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
