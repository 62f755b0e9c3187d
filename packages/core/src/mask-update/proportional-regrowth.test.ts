import { describe, expect, it } from 'vitest';
import type { GrowthStrategy } from '../contracts/growth-strategy.js';
import type { PruneStrategy } from '../contracts/prune-strategy.js';
import type { RedistributionStrategy } from '../contracts/redistribution-strategy.js';
import { createRng } from '../rng.js';
import { INITIAL_CONTROLLER_STATE } from './controller.js';
import { MaskUpdater } from './mask-updater.js';
import { planProportionalRegrowth, roundHalfEven } from './proportional-regrowth.js';

describe('roundHalfEven (numpy.round)', () => {
  it('rounds halves to the even neighbour and everything else to the nearest', () => {
    expect([0.5, 1.5, 2.5, 3.5, 0.49, 0.51, 2.0, 7.25].map(roundHalfEven)).toEqual([0, 2, 2, 4, 0, 1, 2, 7]);
  });
});

describe('planProportionalRegrowth (DSR --rewire-scaling)', () => {
  it('shares the pruned total by the shares, no discrepancy: 7 over [0.5, 0.3, 0.2] → 4, 2, 1', () => {
    // 3.5 → 4 (half to even), 2.1 → 2, 1.4 → 1: sum 7, nothing left for the random layer.
    const plan = planProportionalRegrowth([0.5, 0.3, 0.2], 7, [100, 100, 100], createRng(1));
    expect(plan).toEqual({ counts: [4, 2, 1], passes: 1, complete: true });
  });

  it('adds the rounding discrepancy to one random layer: 3 over [0.5, 0.5] → 2 + 2 − 1', () => {
    // 1.5 → 2 twice = 4, discrepancy −1 goes to layer rng.int(2).
    const r = createRng('disc').int(2);
    const plan = planProportionalRegrowth([0.5, 0.5], 3, [100, 100], createRng('disc'));
    const expected = [2, 2];
    expected[r] -= 1;
    expect(plan.counts).toEqual(expected);
    expect(plan.complete).toBe(true);
  });

  it('a full layer drops out and the others take the rest in proportion', () => {
    // Pass 1: [0.8, 0.1, 0.1] · 10 → 8, 1, 1; layer 0 takes only its capacity 5 (placed 7).
    // Pass 2: 3 left over layers 1, 2 (shares 0.5, 0.5) → round(1.5) = 2 each = 4, discrepancy −1 to one of them.
    const rng = createRng('full');
    const plan = planProportionalRegrowth([0.8, 0.1, 0.1], 10, [5, 100, 100], rng);
    expect(plan.counts[0]).toBe(5);
    expect(plan.counts[1] + plan.counts[2]).toBe(5);
    expect([plan.counts[1], plan.counts[2]].sort()).toEqual([2, 3]);
    expect(plan.passes).toBe(2);
    expect(plan.complete).toBe(true);
  });

  it('never places more than the budget (DSR could, after clamping a negative discrepancy at 0)', () => {
    // 6 over five layers with shares [0.25 ×4, 0]: 1.5 → 2 four times = 8; discrepancy −2.
    for (let seed = 0; seed < 20; seed++) {
      const plan = planProportionalRegrowth([0.25, 0.25, 0.25, 0.25, 0], 6, [100, 100, 100, 100, 100], createRng(seed));
      expect(plan.counts.reduce((a, b) => a + b, 0)).toBe(6);
    }
  });

  it('stops and reports incomplete when the layers have no room left', () => {
    const plan = planProportionalRegrowth([0.5, 0.5], 10, [3, 4], createRng(2));
    expect(plan.counts).toEqual([3, 4]);
    expect(plan.complete).toBe(false);
  });
});

describe('MaskUpdater with a redistribution measured after pruning and proportional regrowth (DSR)', () => {
  const threshold: PruneStrategy = {
    id: 'test-threshold',
    countPolicy: 'free',
    prune: (layer) => layer.mask.map((m, i) => (m === 1 && Math.abs(layer.weight[i]) >= 0.5 ? 1 : 0)),
  };
  const surviving: RedistributionStrategy = {
    id: 'test-surviving',
    afterPrune: true,
    statistic: (layer) => (layer.activeCount === 0 ? Number.NaN : layer.activeCount),
  };
  // Lowest-index zero positions that were not active before pruning.
  const firstFree: GrowthStrategy = {
    id: 'test-first-free',
    countPolicy: 'exact',
    grow: (layer, { count }) => {
      const out = layer.mask.slice();
      let left = count;
      for (let i = 0; i < layer.size && left > 0; i++) {
        if (out[i] === 0 && layer.maskBeforePrune![i] === 0) {
          out[i] = 1;
          left--;
        }
      }
      return out;
    },
  };

  it('hand-worked: shares come from the survivors, exactly the pruned total is regrown, no controller', () => {
    // A: active 0..3 = [0.1, 0.2, 0.3, 0.9] → prunes 3, keeps 1. B: active 0..2 = [0.7, 0.6, 0.8] → keeps 3.
    // K = 3, survivor shares [1/4, 3/4] → round(0.75) = 1, round(2.25) = 2. (Counts before pruning, 4 and 3,
    // would have given round(1.71) = 2 and round(1.29) = 1.)
    const a = { name: 'a', shape: [8], weight: Float32Array.from([0.1, 0.2, 0.3, 0.9, 0, 0, 0, 0]), mask: Uint8Array.from([1, 1, 1, 1, 0, 0, 0, 0]), momentum: null, gradient: null };
    const b = { name: 'b', shape: [8], weight: Float32Array.from([0.7, 0.6, 0.8, 0, 0, 0, 0, 0]), mask: Uint8Array.from([1, 1, 1, 0, 0, 0, 0, 0]), momentum: null, gradient: null };
    const updater = new MaskUpdater(threshold, surviving, firstFree, { regrowth: 'proportional', controller: false });
    const result = updater.update({
      layers: [a, b],
      pruneRate: 0,
      baselineNonzero: 7,
      controller: INITIAL_CONTROLLER_STATE,
      step: 101,
      epoch: 0,
      rng: createRng(1),
    });
    expect(result.totalRemoved).toBe(3);
    expect(result.layers.map((l) => l.stat)).toEqual([1, 3]);
    expect(result.layers.map((l) => l.share)).toEqual([0.25, 0.75]);
    expect(result.layers.map((l) => l.regrow)).toEqual([1, 2]);
    expect(Array.from(result.layers[0].mask)).toEqual([0, 0, 0, 1, 1, 0, 0, 0]);
    expect(Array.from(result.layers[1].mask)).toEqual([1, 1, 1, 1, 1, 0, 0, 0]);
    expect(Array.from(result.layers[0].weight)).toEqual([0, 0, 0, Math.fround(0.9), 0, 0, 0, 0]);
    expect(result.totalNonzero).toBe(7);
    expect(result.controller).toBe(INITIAL_CONTROLLER_STATE);
  });
});
