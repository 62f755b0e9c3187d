import { INITIAL_CONTROLLER_STATE, MaskUpdater, createRng, silentLogger } from '@sparse-learning/core';
import { RandomGrowth } from '@sparse-learning/growth';
import { SetPrune } from '@sparse-learning/prune';
import { UniformRedistribution } from '@sparse-learning/redistribution';
import { maskOf, scatterDense, sparseLayerFromDense, type SparseMlpLayerSpec } from '@sparse-learning/backend-native';
import { describe, expect, it } from 'vitest';
import { cscFromPositions, drawPositions } from './sparse-compact-init.js';
import { CompactSetUpdate, setRulePrune } from './sparse-compact-set.js';

// Issue 9: SET's mask update on compact layers must remove exactly what the MaskUpdater removes on dense views
// (SET rule, counts, prune-rate adjustment, report) and regrow as many weights at positions that were inactive
// (the draw itself differs: other random numbers of the same distribution).

/** A layer [in, out] with `weights` (0 where inactive) and `mask`. */
function layerOf(inF: number, outF: number, weights: number[], mask: number[], relu = true): SparseMlpLayerSpec {
  const w = Float32Array.from(weights);
  const m = Uint8Array.from(mask);
  return { weightName: 'w', biasName: null, masked: true, layer: sparseLayerFromDense(w, m, inF, outF, { bias: null, biasMom: null, momentum: null, relu }) };
}

describe('compact SET update', () => {
  it('hand-worked SET rule: exact zeros first, then ⌈r/2⌉ smallest positive and ⌊r/2⌋ largest negative, ties by position', () => {
    // [in 2, out 3] positions i·3 + o; active: 0:(0.5) 1:(0) 2:(-0.1) 3:(0.2) 4:(-0.7) 5:(0.2)
    const spec = layerOf(2, 3, [0.5, 0, -0.1, 0.2, -0.7, 0.2], [1, 1, 1, 1, 1, 1]);
    const { keep, removed } = setRulePrune(spec.layer, 4);
    expect(removed).toBe(4);
    // r = 4: the zero at 1, then rest 3 → ⌈3/2⌉ = 2 positives (0.2 at 3, 0.2 at 5: a tie, both go), 1 negative (-0.1 at 2).
    const kept = scatterDense(spec.layer, Float32Array.from(keep, Number));
    expect(Array.from(kept)).toEqual([1, 0, 0, 0, 1, 0]);
    // r = 0 removes only exact zeros.
    expect(setRulePrune(spec.layer, 0).removed).toBe(1);
  });

  it('removes what the MaskUpdater removes on dense views and regrows as many, at positions inactive before', () => {
    const rng = createRng('set-compare');
    const [inF, outF] = [40, 30];
    const layers: SparseMlpLayerSpec[] = [0.1, 0.6, 0.97].map((density, l) => {
      const size = inF * outF;
      const positions = drawPositions(size, Math.round(size * density), rng);
      const mask = new Array(size).fill(0);
      const weights = new Array(size).fill(0);
      for (const p of positions) {
        mask[p] = 1;
        // Some exact zeros and ties among the values.
        weights[p] = rng.next() < 0.05 ? 0 : Math.round((rng.next() * 2 - 1) * 50) / 50;
      }
      return { ...layerOf(inF, outF, weights, mask), weightName: `fc${l + 1}.weight` };
    });
    const baselineNonzero = layers.reduce((a, s) => a + s.layer.colptr[outF], 0);
    const dense = new MaskUpdater(new SetPrune(), new UniformRedistribution(), new RandomGrowth({ exactCount: true, excludeJustPruned: true }), {
      regrowth: 'in-place',
      controller: false,
    }).update({
      layers: layers.map((s) => ({ name: s.weightName, shape: [inF, outF], weight: scatterDense(s.layer, s.layer.vals), mask: maskOf(s.layer), momentum: null, gradient: null })),
      pruneRate: 0.3,
      baselineNonzero,
      controller: INITIAL_CONTROLLER_STATE,
      step: 10,
      epoch: 1,
      rng: createRng('dense'),
      logger: silentLogger,
    });
    const compact = new CompactSetUpdate().update({ layers, pruneRate: 0.3, baselineNonzero, step: 10, epoch: 1, rng: createRng('compact') });
    compact.layers.forEach((after, l) => {
      const before = layers[l].layer;
      const d = dense.layers[l];
      const report = compact.event.layers[l];
      // The same prune rate (the 97 % layer's is cut to its sparsity only when its share is large: not here),
      // the same removed positions, as many regrown.
      expect(report).toMatchObject({ activeBefore: d.activeBefore, activeAfter: d.activeAfter, removed: d.removed, regrown: d.grown, pruneRate: d.pruneRate, share: d.share, stat: d.stat });
      const maskBefore = maskOf(before);
      const maskAfter = maskOf(after);
      const weightsAfter = scatterDense(after, after.vals);
      const weightsBefore = scatterDense(before, before.vals);
      const pruned = new Set(d.prunedIndices);
      const removedCompact: number[] = [];
      for (let p = 0; p < maskBefore.length; p++) {
        if (maskBefore[p] && !maskAfter[p]) removedCompact.push(p);
        // Survivors keep their value; grown weights (also a just-pruned position regrown) start at 0.
        if (maskBefore[p] && !pruned.has(p)) expect(maskAfter[p] === 1 && weightsAfter[p] === weightsBefore[p], `survivor ${p}`).toBe(true);
        else if (maskAfter[p]) expect(weightsAfter[p]).toBe(0);
      }
      // What left the layer is what the SET rule pruned; with enough free positions (10 %, 60 %) no pruned
      // position is regrown, so exactly the dense updater's pruned positions; at 97 % some come back.
      if (l < 2) expect(removedCompact).toEqual([...d.prunedIndices].sort((a, b) => a - b));
      else {
        expect(removedCompact.every((p) => pruned.has(p))).toBe(true);
        expect(removedCompact.length).toBeLessThan(pruned.size);
      }
      expect(maskAfter.reduce((a, b) => a + b, 0)).toBe(d.activeAfter);
    });
    expect(compact.event).toMatchObject({ totalRemoved: dense.totalRemoved, totalNonzero: dense.totalNonzero, type: 'mask-update', step: 10, epoch: 1 });
  });

  it('draws exactly k distinct sorted positions, each position equally likely (chi-square over 20 cells)', () => {
    const rng = createRng('positions');
    const counts = new Array(20).fill(0);
    for (let t = 0; t < 400; t++) {
      const p = drawPositions(20, 5, rng);
      expect(new Set(p).size).toBe(5);
      expect(Array.from(p)).toEqual([...p].sort((a, b) => a - b));
      for (const x of p) counts[x]++;
    }
    // 2 000 draws over 20 cells, expected 100 each; chi-square with 19 dof stays below 43.8 (p = 0.001).
    const chi = counts.reduce((a, c) => a + (c - 100) ** 2 / 100, 0);
    expect(chi).toBeLessThan(43.8);
    // A layer of 10¹⁰ positions: positions beyond 2³² are reached (53-bit draws).
    const wide = drawPositions(1e10, 1000, rng);
    expect(wide[999]).toBeGreaterThan(2 ** 32);
    const { colptr, rowidx } = cscFromPositions(4, 3, Float64Array.from([1, 2, 3, 7, 11]));
    // positions i·3 + o: (0,1) (0,2) (1,0) (2,1) (3,2)
    expect(Array.from(colptr)).toEqual([0, 1, 3, 5]);
    expect(Array.from(rowidx)).toEqual([1, 0, 2, 0, 3]);
  });
});
