import { describe, expect, it } from 'vitest';
import type { GrowthStrategy } from '../contracts/growth-strategy.js';
import type { PruneStrategy } from '../contracts/prune-strategy.js';
import type { RedistributionStrategy } from '../contracts/redistribution-strategy.js';
import { isSparseLearningError } from '../errors.js';
import { createRng } from '../rng.js';
import { absolute, addHighestInactive, removeLowestActive } from '../util/selection.js';
import { INITIAL_CONTROLLER_STATE } from './controller.js';
import { MaskUpdater } from './mask-updater.js';
import type { MaskUpdateInput, MaskUpdateLayerInput } from './types.js';

// Minimal strategies written against the contracts (the real ones live in the plugin packages).
const magnitude: PruneStrategy = {
  id: 'test-magnitude',
  countPolicy: 'exact',
  prune: (layer, { count }) => removeLowestActive(layer.mask, absolute(layer.weight), count),
};
const meanMomentum: RedistributionStrategy = {
  id: 'test-momentum',
  statistic: (layer) => {
    let sum = 0;
    for (let i = 0; i < layer.size; i++) if (layer.mask[i]) sum += Math.abs(layer.momentum![i]);
    return layer.activeCount === 0 ? Number.NaN : sum / layer.activeCount;
  },
};
const momentumGrowth: GrowthStrategy = {
  id: 'test-momentum-growth',
  countPolicy: 'exact',
  grow: (layer, { count }) => addHighestInactive(layer.mask, absolute(layer.momentum!), count),
};

function layer(name: string, weight: number[], mask: number[], momentum: number[]): MaskUpdateLayerInput {
  return {
    name,
    shape: [weight.length],
    weight: Float32Array.from(weight.map((w, i) => (mask[i] ? w : 0))),
    mask: Uint8Array.from(mask),
    momentum: Float32Array.from(momentum),
    gradient: null,
  };
}

function input(layers: MaskUpdateLayerInput[], overrides: Partial<MaskUpdateInput> = {}): MaskUpdateInput {
  return {
    layers,
    pruneRate: 0.5,
    baselineNonzero: layers.reduce((acc, l) => acc + l.mask.reduce((a, b) => a + b, 0), 0),
    controller: INITIAL_CONTROLLER_STATE,
    step: 10,
    epoch: 1,
    rng: createRng(1),
    ...overrides,
  };
}

describe('MaskUpdater', () => {
  it('hand-worked cycle: prune 2 smallest, regrow 2 by momentum; a pruned weight regrown keeps its value', () => {
    // One layer of 8: active weights at 0..3; |w| order: idx1 (0.1) < idx3 (0.2) < idx0 < idx2.
    const l = layer('w', [0.9, -0.1, 2, 0.2, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0, 0, 0], [1, 5, 1, 1, 3, 0.5, 0.2, 0.1]);
    const updater = new MaskUpdater(magnitude, meanMomentum, momentumGrowth);
    const result = updater.update(input([l]));
    const out = result.layers[0];
    expect(out.removed).toBe(2); // ceil(0.5 · 4)
    expect(out.prunedIndices).toEqual([1, 3]);
    // Budget 2 (single layer, share 1): largest |momentum| among zeros after pruning: idx1 (5), idx4 (3).
    expect(out.grownIndices).toEqual([1, 4]);
    expect(Array.from(out.mask)).toEqual([1, 1, 1, 0, 1, 0, 0, 0]);
    // idx1 was pruned and regrown in the same cycle: keeps -0.1; idx4 is new: starts at exactly 0.
    expect(Array.from(out.weight)).toEqual([Math.fround(0.9), Math.fround(-0.1), 2, 0, 0, 0, 0, 0]);
    expect(result.totalNonzero).toBe(4);
    expect(result.controller.adjustments).toEqual([0]);
    // Inputs untouched.
    expect(Array.from(l.mask)).toEqual([1, 1, 1, 1, 0, 0, 0, 0]);
    expect(result.event.layers[0]).toMatchObject({ activeBefore: 4, activeAfter: 4, removed: 2, regrown: 2 });
  });

  it('a negative budget is clamped: no layer is switched on wholesale', () => {
    const l = layer('w', [1, 2, 3, 4, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1, 1]);
    const updater = new MaskUpdater(magnitude, meanMomentum, momentumGrowth);
    const result = updater.update(input([l], { controller: { adjustedGrowth: -100, adjustments: [-100] } }));
    expect(result.layers[0].grown).toBe(0);
    expect(result.totalNonzero).toBe(2);
    expect(result.warnings[0]).toMatch(/negative regrowth budget/);
  });

  it("negativeBudget: 'error' throws E_NEGATIVE_GROWTH_BUDGET", () => {
    const l = layer('w', [1, 2, 3, 4, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 1, 1, 1, 1]);
    const updater = new MaskUpdater(magnitude, meanMomentum, momentumGrowth, { negativeBudget: 'error' });
    expect(() => updater.update(input([l], { controller: { adjustedGrowth: -100, adjustments: [] } }))).toThrow(
      /E_NEGATIVE_GROWTH_BUDGET/,
    );
  });

  it('in-place regrowth returns to each layer exactly what it lost, without the controller', () => {
    const a = layer('a', [1, 2, 3, 4, 0, 0], [1, 1, 1, 1, 0, 0], [9, 9, 9, 9, 9, 9]);
    const b = layer('b', [1, 2, 0, 0], [1, 1, 0, 0], [0.1, 0.1, 0.1, 0.1]);
    const updater = new MaskUpdater(magnitude, meanMomentum, momentumGrowth, { regrowth: 'in-place' });
    const result = updater.update(input([a, b]));
    expect(result.layers.map((r) => [r.removed, r.grown])).toEqual([
      [2, 2],
      [1, 1],
    ]);
    expect(result.controller).toBe(INITIAL_CONTROLLER_STATE);
  });

  it('plugin contract violations are errors naming plugin, hook, layer and step', () => {
    const l = layer('fc1', [1, 2, 3, 4], [1, 1, 1, 0], [1, 1, 1, 1]);
    const shortMask: PruneStrategy = { id: 'bad', countPolicy: 'exact', prune: () => new Uint8Array(3) };
    const grower: GrowthStrategy = { id: 'grower', countPolicy: 'exact', grow: (v) => v.mask.slice() };
    const throwing: RedistributionStrategy = {
      id: 'boom',
      statistic: () => {
        throw new Error('kaput');
      },
    };
    const nan: RedistributionStrategy = { id: 'nan', statistic: () => Number.NaN };

    const expectCode = (fn: () => unknown, code: string, text: RegExp) => {
      try {
        fn();
        expect.unreachable('should have thrown');
      } catch (error) {
        expect(isSparseLearningError(error)).toBe(true);
        expect((error as Error).message).toContain(code);
        expect((error as Error).message).toMatch(text);
      }
    };
    expectCode(
      () => new MaskUpdater(shortMask, meanMomentum, momentumGrowth).update(input([l])),
      'E_PLUGIN_CONTRACT',
      /plugin 'bad', hook 'prune', layer 'fc1', step 10: returned a mask of length 3, expected 4/,
    );
    expectCode(
      () => new MaskUpdater(magnitude, meanMomentum, grower).update(input([l])),
      'E_PLUGIN_CONTRACT',
      /plugin 'grower', hook 'grow', layer 'fc1'.*enabled 0 positions; countPolicy 'exact' requires 2/,
    );
    expectCode(
      () => new MaskUpdater(magnitude, throwing, momentumGrowth).update(input([l])),
      'E_PLUGIN_THREW',
      /plugin 'boom', hook 'statistic', layer 'fc1', step 10 threw: kaput/,
    );
    expectCode(
      () => new MaskUpdater(magnitude, nan, momentumGrowth).update(input([l])),
      'E_PLUGIN_CONTRACT',
      /returned NaN for a layer with 3 active weights/,
    );
  });

  it('exposes what its strategies require', () => {
    const gradientGrowth: GrowthStrategy = { ...momentumGrowth, id: 'g', requires: ['gradient'] };
    const updater = new MaskUpdater(magnitude, { ...meanMomentum, requires: ['momentum'] }, gradientGrowth);
    expect([...updater.requires].sort()).toEqual(['gradient', 'momentum']);
  });
});
