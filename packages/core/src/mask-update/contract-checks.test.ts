import { describe, expect, it } from 'vitest';
import type { GrowthStrategy } from '../contracts/growth-strategy.js';
import type { PruneStrategy } from '../contracts/prune-strategy.js';
import type { RedistributionStrategy } from '../contracts/redistribution-strategy.js';
import { SparseLearningError } from '../errors.js';
import { createRng } from '../rng.js';
import { absolute, addHighestInactive, removeLowestActive } from '../util/selection.js';
import { stochasticTolerance } from './contract-checks.js';
import { INITIAL_CONTROLLER_STATE } from './controller.js';
import { MaskUpdater } from './mask-updater.js';
import type { MaskUpdateInput, MaskUpdateLayerInput } from './types.js';

const magnitude: PruneStrategy = {
  id: 'test-magnitude',
  countPolicy: 'exact',
  prune: (layer, { count }) => removeLowestActive(layer.mask, absolute(layer.weight), count),
};
const ones: RedistributionStrategy = { id: 'ones', statistic: () => 1 };
const zeros: RedistributionStrategy = { id: 'zeros', statistic: () => 0 };
const growth: GrowthStrategy = {
  id: 'test-growth',
  countPolicy: 'exact',
  grow: (layer, { count }) => addHighestInactive(layer.mask, absolute(layer.momentum!), count),
};

function layer(name: string, weight: number[], mask: number[]): MaskUpdateLayerInput {
  return {
    name,
    shape: [weight.length],
    weight: Float32Array.from(weight.map((w, i) => (mask[i] ? w : 0))),
    mask: Uint8Array.from(mask),
    momentum: Float32Array.from(weight.map((_, i) => i + 1)),
    gradient: null,
  };
}

function input(layers: MaskUpdateLayerInput[]): MaskUpdateInput {
  return {
    layers,
    pruneRate: 0.5,
    baselineNonzero: layers.reduce((acc, l) => acc + l.mask.reduce((a, b) => a + b, 0), 0),
    controller: INITIAL_CONTROLLER_STATE,
    step: 7,
    epoch: 1,
    rng: createRng(3),
  };
}

function caught(fn: () => unknown): SparseLearningError {
  try {
    fn();
  } catch (error) {
    if (error instanceof SparseLearningError) return error;
    throw error;
  }
  throw new Error('expected a SparseLearningError');
}

describe('strategy contracts checked at load time (MaskUpdater construction)', () => {
  it('a missing growth countPolicy is E_PLUGIN_CONTRACT listing the valid policies', () => {
    const noPolicy = { id: 'no-policy', grow: growth.grow } as unknown as GrowthStrategy;
    const error = caught(() => new MaskUpdater(magnitude, ones, noPolicy));
    expect(error.code).toBe('E_PLUGIN_CONTRACT');
    expect(error.message).toBe(
      "[E_PLUGIN_CONTRACT] plugin 'no-policy', hook 'countPolicy': countPolicy is missing; valid count policies: exact, at-most, stochastic",
    );
  });

  it('an unknown prune countPolicy is E_PLUGIN_CONTRACT naming it', () => {
    const odd = { ...magnitude, id: 'odd', countPolicy: 'roughly' } as unknown as PruneStrategy;
    const error = caught(() => new MaskUpdater(odd, ones, growth));
    expect(error.message).toContain("plugin 'odd', hook 'countPolicy': countPolicy 'roughly' is not a count policy; valid count policies: exact, free");
  });

  it('a strategy without its hook or id is rejected', () => {
    expect(caught(() => new MaskUpdater(magnitude, { id: 'r' } as RedistributionStrategy, growth)).message).toContain(
      "the redistribution strategy has no 'statistic' method",
    );
    expect(caught(() => new MaskUpdater({ ...magnitude, id: '' }, ones, growth)).message).toContain('must have a non-empty string id');
  });
});

describe("'stochastic' growth is bounded by a tolerance around the requested count", () => {
  it('tolerance is ceil(8·sqrt(expected)): 0 for 0, 8 for 1, 80 for 100', () => {
    expect([0, 1, 4, 100].map(stochasticTolerance)).toEqual([0, 8, 16, 80]);
  });

  it('a stochastic growth that enables every free position when asked for 10 is E_PLUGIN_CONTRACT', () => {
    // 400 weights, 20 active; prune 10 (rate 0.5); regrow 10 in one layer. The greedy plugin enables all 390 zeros.
    const w = Array.from({ length: 400 }, (_, i) => i + 1);
    const m = Array.from({ length: 400 }, (_, i) => (i < 20 ? 1 : 0));
    const greedy: GrowthStrategy = { id: 'greedy', countPolicy: 'stochastic', grow: (v) => v.mask.map(() => 1) };
    const error = caught(() => new MaskUpdater(magnitude, ones, greedy).update(input([layer('fc', w, m)])));
    expect(error.code).toBe('E_PLUGIN_CONTRACT');
    expect(error.message).toContain("plugin 'greedy', hook 'grow', layer 'fc', step 7: enabled 390 positions; countPolicy 'stochastic' allows 10 ± 26 (ceil(8·sqrt(10)), 390 free positions)");
  });

  it('a stochastic growth within the tolerance passes (the count is its own)', () => {
    const w = Array.from({ length: 40 }, (_, i) => i + 1);
    const m = Array.from({ length: 40 }, (_, i) => (i < 20 ? 1 : 0));
    const plusThree: GrowthStrategy = {
      id: 'plus-three',
      countPolicy: 'stochastic',
      grow: (v, { count }) => addHighestInactive(v.mask, absolute(v.momentum!), count + 3),
    };
    const result = new MaskUpdater(magnitude, ones, plusThree).update(input([layer('fc', w, m)]));
    expect(result.layers[0].grown).toBe(result.layers[0].regrow + 3);
  });
});

describe('a redistribution statistic that is zero for every layer', () => {
  const a = () => layer('a', [1, 2, 3, 4, 0, 0], [1, 1, 1, 1, 0, 0]);
  const b = () => layer('b', [5, 6, 0, 0], [1, 1, 0, 0]);

  it('is E_ZERO_REDISTRIBUTION by default (the official code stops there), not a silent loss of weights', () => {
    const error = caught(() => new MaskUpdater(magnitude, zeros, growth).update(input([a(), b()])));
    expect(error.code).toBe('E_ZERO_REDISTRIBUTION');
    expect(error.message).toContain("redistribution 'zeros' gave every layer a zero statistic at step 7, so the regrowth budget of 3 weights cannot be shared");
  });

  it("zeroStatistics: 'in-place' regrows in every layer what it lost and warns: the active count is kept", () => {
    const warnings: string[] = [];
    const logger = { debug: () => {}, info: () => {}, warn: (m: string) => void warnings.push(m), error: () => {} };
    const result = new MaskUpdater(magnitude, zeros, growth, { zeroStatistics: 'in-place' }).update({ ...input([a(), b()]), logger });
    expect(result.layers.map((r) => [r.activeBefore, r.removed, r.grown, r.activeAfter])).toEqual([
      [4, 2, 2, 4],
      [2, 1, 1, 2],
    ]);
    expect(result.totalNonzero).toBe(6);
    expect(result.warnings[0]).toContain('every layer regrows what it lost');
    expect(warnings).toHaveLength(1);
  });

  it('nothing removed (prune rate 0): no budget to share, no error', () => {
    const result = new MaskUpdater(magnitude, zeros, growth).update({ ...input([a(), b()]), pruneRate: 0 });
    expect(result.totalNonzero).toBe(6);
  });
});
