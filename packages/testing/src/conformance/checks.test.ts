import { describe, expect, it } from 'vitest';
import { createRng } from '@sparse-learning/core';
import { growthResultProblems, pruneResultProblems } from './checks.js';
import { DEFAULT_SCENARIOS, emptyLayer, mutatedArrays, prunedView, snapshotView, syntheticContext, syntheticLayer } from './fixtures.js';

const before = Uint8Array.from([1, 1, 0, 1, 0, 1]);

describe('pruneResultProblems', () => {
  it('accepts a correct exact removal', () => {
    expect(pruneResultProblems(before, Uint8Array.from([1, 0, 0, 1, 0, 0]), 'exact', 2)).toEqual([]);
  });
  it('rejects a wrong type, length, value, activation, count and the input array itself', () => {
    expect(pruneResultProblems(before, [1, 0, 0, 1, 0, 0], 'exact', 2)[0]).toMatch(/Uint8Array/);
    expect(pruneResultProblems(before, new Uint8Array(5), 'free', 0)[0]).toMatch(/length 5/);
    expect(pruneResultProblems(before, Uint8Array.from([2, 0, 0, 1, 0, 0]), 'free', 0)[0]).toMatch(/value 2/);
    expect(pruneResultProblems(before, Uint8Array.from([1, 1, 1, 1, 0, 1]), 'free', 0)[0]).toMatch(/switched on position 2/);
    expect(pruneResultProblems(before, Uint8Array.from([1, 0, 0, 1, 0, 1]), 'exact', 2)[0]).toMatch(/removed 1; .* requires 2/);
    expect(pruneResultProblems(before, before, 'free', 0)[0]).toMatch(/input mask itself/);
  });
  it("lets 'free' strategies choose their count", () => {
    expect(pruneResultProblems(before, new Uint8Array(6), 'free', 1)).toEqual([]);
  });
});

describe('growthResultProblems', () => {
  it('accepts exact growth and clamps the request to the zero positions', () => {
    expect(growthResultProblems(before, Uint8Array.from([1, 1, 1, 1, 0, 1]), 'exact', 1)).toEqual([]);
    expect(growthResultProblems(before, Uint8Array.from([1, 1, 1, 1, 1, 1]), 'exact', 10)).toEqual([]);
  });
  it('rejects switching an active weight off, wrong exact counts and at-most overshoot', () => {
    expect(growthResultProblems(before, Uint8Array.from([0, 1, 1, 1, 1, 1]), 'exact', 2)[0]).toMatch(/switched off active position 0/);
    expect(growthResultProblems(before, Uint8Array.from([1, 1, 1, 1, 0, 1]), 'exact', 2)[0]).toMatch(/grew 1; .* requires 2/);
    expect(growthResultProblems(before, Uint8Array.from([1, 1, 1, 1, 1, 1]), 'at-most', 1)[0]).toMatch(/allows 1/);
    expect(growthResultProblems(before, Uint8Array.from([1, 1, 1, 1, 0, 1]), 'at-most', 2)).toEqual([]);
  });
});

describe('fixtures', () => {
  it('builds layers with exactly round(density·size) active weights, zero weights elsewhere, dense momentum', () => {
    const rng = createRng('fixtures');
    const views = DEFAULT_SCENARIOS.map((s, i) => syntheticLayer(s, rng, i));
    expect(views.map((v) => v.activeCount)).toEqual([180, 58, 2, 114, 4]);
    for (const v of views) {
      let active = 0;
      for (let i = 0; i < v.size; i++) {
        active += v.mask[i];
        if (!v.mask[i]) expect(v.weight[i]).toBe(0);
        else expect(v.weight[i]).not.toBe(0);
        expect(v.momentum?.[i]).not.toBe(0);
      }
      expect(active).toBe(v.activeCount);
    }
  });

  it('prunes ceil(30 %) of the active weights for growth views and keeps the old mask', () => {
    const rng = createRng('fixtures');
    const view = syntheticLayer(DEFAULT_SCENARIOS[0], rng);
    const pruned = prunedView(view, rng);
    expect(pruned.activeCount).toBe(180 - 54);
    expect(pruned.maskBeforePrune).toBe(view.mask);
    expect(syntheticContext(rng, [pruned]).baselineNonzero).toBe(180);
  });

  it('detects mutated arrays', () => {
    const view = emptyLayer();
    const snapshot = snapshotView(view);
    expect(mutatedArrays(view, snapshot)).toEqual([]);
    view.mask[3] = 1;
    (view.weight as Float32Array)[0] = 1;
    expect(mutatedArrays(view, snapshot)).toEqual(['weight', 'mask']);
  });
});
