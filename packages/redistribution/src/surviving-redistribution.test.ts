import { describe, expect, it } from 'vitest';
import { createRng, silentLogger } from '@sparse-learning/core';
import type { LayerView, StrategyContext } from '@sparse-learning/core';
import { SurvivingRedistribution } from './surviving-redistribution.js';

function view(mask: number[]): LayerView {
  const m = Uint8Array.from(mask);
  return {
    name: 'w',
    index: 0,
    shape: [mask.length],
    size: mask.length,
    weight: Float32Array.from(mask.map((b, i) => b * (i + 1))),
    mask: m,
    momentum: null,
    gradient: null,
    activeCount: m.reduce((a, b) => a + b, 0),
  };
}
const ctx: StrategyContext = { step: 1, epoch: 0, pruneRate: 0, baselineNonzero: 3, layerCount: 1, rng: createRng(1), logger: silentLogger };

describe('SurvivingRedistribution (DSR)', () => {
  it('counts the active weights of the mask it is given, is measured after pruning, NaN when none', () => {
    const s = new SurvivingRedistribution();
    expect(s.afterPrune).toBe(true);
    expect(s.statistic(view([1, 0, 1, 1, 0]), ctx)).toBe(3);
    expect(Number.isNaN(s.statistic(view([0, 0, 0]), ctx))).toBe(true);
  });
});
