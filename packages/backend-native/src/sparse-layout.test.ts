import { describe, expect, it } from 'vitest';
import { maskOf, nnzOf, scatterDense, sparseLayerFromDense } from './sparse-layout.js';
import { rng } from './test-helpers.js';

// The conversions of a mask update (issue 9): building a compact layer from dense arrays must list exactly the
// active positions whatever the mask's alignment, and carrying momentum from the replaced layer (O(nnz)) must
// equal the dense detour it replaces.
function randomDense(inF: number, outF: number, density: number, seed: number) {
  const r = rng(seed);
  const size = inF * outF;
  const weight = new Float32Array(size);
  const mask = new Uint8Array(size);
  for (let k = 0; k < size; k++) {
    if (r() < density) {
      mask[k] = 1;
      weight[k] = r() - 0.5;
    }
  }
  return { weight, mask };
}

describe('sparseLayerFromDense', () => {
  it('lists the active positions of aligned and unaligned masks, odd sizes included', () => {
    for (const [inF, outF] of [[7, 5], [33, 17], [1, 1], [64, 3]]) {
      const { weight, mask } = randomDense(inF, outF, 0.3, inF * 100 + outF);
      // The same bytes at byte offset 1 (no 4-byte words): the per-byte path.
      const shifted = new Uint8Array(mask.length + 1).subarray(1);
      shifted.set(mask);
      for (const m of [mask, shifted]) {
        const layer = sparseLayerFromDense(weight, m, inF, outF);
        expect(Array.from(maskOf(layer))).toEqual(Array.from(mask));
        expect(Array.from(scatterDense(layer, layer.vals))).toEqual(Array.from(weight));
        expect(nnzOf(layer)).toBe(mask.reduce((a, b) => a + b, 0));
      }
    }
    // No mask: the nonzero weights; an all-zero mask: an empty layer.
    const w = Float32Array.from([0, 2, 0, -1, 0, 0]);
    expect(Array.from(maskOf(sparseLayerFromDense(w, null, 2, 3)))).toEqual([0, 1, 0, 1, 0, 0]);
    expect(nnzOf(sparseLayerFromDense(w, new Uint8Array(6), 2, 3))).toBe(0);
  });

  it('previous: positions active in both keep their momentum, new ones start at 0 (= the dense detour)', () => {
    const inF = 41;
    const outF = 23;
    const a = randomDense(inF, outF, 0.2, 1);
    const old = sparseLayerFromDense(a.weight, a.mask, inF, outF);
    const r = rng(2);
    for (let k = 0; k < old.mom.length; k++) old.mom[k] = r() - 0.5;
    // The next mask: about half of the old positions kept, new ones grown.
    const next = Uint8Array.from(a.mask, (m) => (m && r() < 0.5) || (!m && r() < 0.1) ? 1 : 0);
    const carried = sparseLayerFromDense(a.weight, next, inF, outF, { previous: old });
    const viaDense = sparseLayerFromDense(a.weight, next, inF, outF, { momentum: scatterDense(old, old.mom) });
    expect(Array.from(carried.mom)).toEqual(Array.from(viaDense.mom));
    expect(carried.mom.some((v) => v !== 0)).toBe(true);
    // Hand-worked: a 2×2 layer, old active (0,0) mom 5 and (1,1) mom 7; new active (0,0) and (0,1).
    const small = sparseLayerFromDense(Float32Array.from([1, 0, 0, 1]), null, 2, 2);
    small.mom.set([5, 7]);
    const moved = sparseLayerFromDense(Float32Array.from([1, 3, 0, 0]), Uint8Array.from([1, 1, 0, 0]), 2, 2, { previous: small });
    expect(Array.from(scatterDense(moved, moved.mom))).toEqual([5, 0, 0, 0]);
    expect(() => sparseLayerFromDense(a.weight, next, outF, inF, { previous: old })).toThrow(/previous layer is 41×23, expected 23×41/);
  });
});
