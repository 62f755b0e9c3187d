import { describe, expect, it } from 'vitest';
import { PluginRegistry, createRng, silentLogger } from '@sparse-learning/core';
import type { LayerView, RunSettings, StrategyContext } from '@sparse-learning/core';
import { MagnitudeRedistribution, MomentumRedistribution, NonzeroRedistribution, UniformRedistribution } from './index.js';
import { redistributionPlugins } from './plugins.js';

const v: LayerView = {
  name: 'w',
  index: 0,
  shape: [2, 3],
  size: 6,
  weight: Float32Array.from([0.5, -0.25, 0, 0, 1, 0]),
  mask: Uint8Array.from([1, 1, 1, 0, 1, 0]),
  momentum: Float32Array.from([0.1, -0.3, 0.2, 9, -0.4, 9]),
  gradient: null,
  activeCount: 4,
};
const empty: LayerView = { ...v, weight: new Float32Array(6), mask: new Uint8Array(6), activeCount: 0 };
const ctx: StrategyContext = { step: 0, epoch: 1, pruneRate: 0.5, baselineNonzero: 12, layerCount: 1, rng: createRng(1), logger: silentLogger };

describe('redistribution statistics (docs/algorithm.md#strategy-variants)', () => {
  it('momentum: mean |momentum| over active positions; NaN when empty; needs momentum', () => {
    expect(new MomentumRedistribution().statistic(v, ctx)).toBeCloseTo((0.1 + 0.3 + 0.2 + 0.4) / 4, 7);
    expect(new MomentumRedistribution().statistic(empty, ctx)).toBeNaN();
    expect(new MomentumRedistribution().requires).toEqual(['momentum']);
    expect(() => new MomentumRedistribution().statistic({ ...v, momentum: null }, ctx)).toThrow(/E_ENGINE_STATE/);
  });

  it('magnitude: mean |w| over active positions (an active zero counts); NaN when empty', () => {
    expect(new MagnitudeRedistribution().statistic(v, ctx)).toBeCloseTo(1.75 / 4, 12);
    expect(new MagnitudeRedistribution().statistic(empty, ctx)).toBeNaN();
  });

  it('uniform (official "none"): n_i / baselineNonzero, also for an empty layer', () => {
    expect(new UniformRedistribution().statistic(v, ctx)).toBe(0.5);
    expect(new UniformRedistribution().statistic(empty, ctx)).toBe(0.5);
    expect(() => new UniformRedistribution().statistic(v, { ...ctx, baselineNonzero: 0 })).toThrow(/E_OUT_OF_RANGE/);
  });

  it('nonzero: number of w ≠ 0', () => {
    expect(new NonzeroRedistribution().statistic(v, ctx)).toBe(3);
    expect(new NonzeroRedistribution().statistic(empty, ctx)).toBe(0);
  });
});

describe('redistributionPlugins', () => {
  it('registers every id, with none as an alias of uniform', () => {
    const registry = new PluginRegistry([redistributionPlugins]);
    expect(registry.ids('redistribution')).toEqual(['magnitude', 'momentum', 'none', 'nonzero', 'surviving', 'uniform']);
    for (const id of registry.ids('redistribution')) {
      const s = registry.create(registry.choose('redistribution', id), { run: {} as RunSettings, logger: silentLogger });
      expect(s.id).toBe(id === 'none' ? 'uniform' : id);
    }
  });
});
