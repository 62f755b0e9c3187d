import { describe, expect, it } from 'vitest';
import type { LayerShape } from '../contracts/density-distribution.js';
import { isSparseLearningError } from '../errors.js';
import { createRng } from '../rng.js';
import { countActive } from '../util/selection.js';
import { CustomDensityDistribution } from './custom-density-distribution.js';
import { scaleToTotal } from './draw.js';
import { ErdosRenyiDistribution } from './erdos-renyi-distribution.js';
import { ErkDistribution } from './erk-distribution.js';
import { UniformBernoulliDistribution } from './uniform-bernoulli-distribution.js';
import { UniformExactDistribution } from './uniform-exact-distribution.js';

const layer = (name: string, shape: number[]): LayerShape => ({ name, shape, size: shape.reduce((a, b) => a * b, 1) });
const mlp = [layer('fc1.weight', [100, 100]), layer('fc2.weight', [100, 10])];
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isSparseLearningError(e) ? e.code : 'not a SparseLearningError';
  }
  return undefined;
}

describe('UniformBernoulliDistribution (official, docs/algorithm.md#initialisation)', () => {
  it('draws each element with probability d; baseline is Σ n_i·d', () => {
    const big = [layer('a', [200, 300]), layer('b', [300, 100])];
    const init = new UniformBernoulliDistribution().initialize(big, 0.1, createRng(1));
    expect(init.baselineNonzero).toBeCloseTo(9000, 9);
    expect(init.densities).toEqual([0.1, 0.1]);
    const counts = init.masks.map(countActive);
    // Binomial(60000, 0.1): sd 73; Binomial(30000, 0.1): sd 52 -> 5 sd bounds.
    expect(Math.abs(counts[0] - 6000)).toBeLessThan(370);
    expect(Math.abs(counts[1] - 3000)).toBeLessThan(260);
    init.masks.forEach((m) => expect(m.every((v) => v === 0 || v === 1)).toBe(true));
  });
  it('is deterministic under a seed and density 1 is fully dense', () => {
    const a = new UniformBernoulliDistribution().initialize(mlp, 0.3, createRng('s'));
    const b = new UniformBernoulliDistribution().initialize(mlp, 0.3, createRng('s'));
    expect(a.masks).toEqual(b.masks);
    const full = new UniformBernoulliDistribution().initialize(mlp, 1, createRng('s'));
    expect(full.masks.map(countActive)).toEqual([10000, 1000]);
  });
  it('rejects densities outside (0, 1] and empty layer lists', () => {
    for (const d of [0, -0.1, 1.01, Number.NaN]) {
      expect(errorCode(() => new UniformBernoulliDistribution().initialize(mlp, d, createRng(1)))).toBe('E_OUT_OF_RANGE');
    }
    expect(errorCode(() => new UniformBernoulliDistribution().initialize([], 0.1, createRng(1)))).toBe(
      'E_NO_PRUNABLE_TENSORS',
    );
  });
});

describe('UniformExactDistribution', () => {
  it('draws exactly round(n_i·d) per layer at random positions', () => {
    const init = new UniformExactDistribution().initialize(mlp, 0.053, createRng(3));
    expect(init.masks.map(countActive)).toEqual([530, 53]);
    expect(init.baselineNonzero).toBeCloseTo(583, 9);
    const other = new UniformExactDistribution().initialize(mlp, 0.053, createRng(4));
    expect(other.masks[0]).not.toEqual(init.masks[0]);
  });
});

describe('ErkDistribution (RigL include_kernel=True)', () => {
  it('hand-worked: density ∝ Σshape/Πshape with exact total', () => {
    // raw: fc1 200/10000 = 0.02, fc2 110/1000 = 0.11; eps = 1100 / (0.02·10000 + 0.11·1000) = 1100/310.
    const init = new ErkDistribution().initialize(mlp, 0.1, createRng(1));
    const eps = 1100 / 310;
    expect(init.densities[0]).toBeCloseTo(0.02 * eps, 12);
    expect(init.densities[1]).toBeCloseTo(0.11 * eps, 12);
    expect(init.baselineNonzero).toBeCloseTo(1100, 9);
    expect(init.masks.map(countActive)).toEqual([Math.round(10000 * 0.02 * eps), Math.round(1000 * 0.11 * eps)]);
  });
  it('makes a layer that would exceed density 1 dense and rescales the rest', () => {
    // small [2,10]: raw 12/20 = 0.6; first eps = 5010/212 -> 14 > 1, so dense; then eps = 4990/200.
    const layers = [layer('big', [100, 100]), layer('small', [2, 10])];
    const init = new ErkDistribution().initialize(layers, 0.5, createRng(1));
    expect(init.densities[1]).toBe(1);
    expect(init.densities[0]).toBeCloseTo(0.02 * (4990 / 200), 12);
    expect(init.baselineNonzero).toBeCloseTo(5010, 9);
    expect(init.masks.map(countActive)).toEqual([4990, 20]);
  });
  it('counts kernel dims for conv, unlike ER', () => {
    const conv = [layer('conv', [3, 3, 16, 32]), layer('fc', [512, 10])];
    const erk = new ErkDistribution().initialize(conv, 0.1, createRng(1)).densities;
    const er = new ErdosRenyiDistribution().initialize(conv, 0.1, createRng(1)).densities;
    // ratio of layer densities = ratio of raw scores.
    expect(erk[0] / erk[1]).toBeCloseTo(54 / 4608 / (522 / 5120), 10);
    expect(er[0] / er[1]).toBeCloseTo(48 / 512 / (522 / 5120), 10);
  });
  it('density 1 gives fully dense layers', () => {
    const init = new ErkDistribution().initialize(mlp, 1, createRng(1));
    expect(init.densities).toEqual([1, 1]);
    expect(init.masks.map(countActive)).toEqual([10000, 1000]);
  });
});

describe('ErdosRenyiDistribution (RigL include_kernel=False)', () => {
  it('keeps the exact total over many layers, capping the small ones', () => {
    const layers = [layer('c1', [5, 5, 1, 20]), layer('c2', [5, 5, 20, 50]), layer('f1', [800, 500]), layer('f2', [500, 10])];
    const init = new ErdosRenyiDistribution().initialize(layers, 0.05, createRng(9));
    const target = sum(layers.map((l) => l.size)) * 0.05;
    expect(init.baselineNonzero).toBeCloseTo(target, 6);
    init.densities.forEach((d) => expect(d).toBeLessThanOrEqual(1));
    expect(init.densities[0]).toBe(1); // c1: raw (1+20)/20 > 1 at any eps >= 1
    expect(Math.abs(sum(init.masks.map(countActive)) - target)).toBeLessThanOrEqual(layers.length / 2);
  });
});

describe('scaleToTotal', () => {
  it('keeps Σ n_i·d_i equal to Σ n_i·d', () => {
    const layers = [layer('a', [10, 10]), layer('b', [3, 3]), layer('c', [50, 40])];
    const d = scaleToTotal(layers, [1, 5, 0.1], 0.3);
    expect(sum(layers.map((l, i) => l.size * d[i]))).toBeCloseTo(0.3 * 2109, 9);
  });
});

describe('CustomDensityDistribution', () => {
  it('uses the map, the global density for missing layers, exact counts', () => {
    const init = new CustomDensityDistribution({ densities: { 'fc2.weight': 0.5 } }).initialize(mlp, 0.01, createRng(1));
    expect(init.densities).toEqual([0.01, 0.5]);
    expect(init.masks.map(countActive)).toEqual([100, 500]);
    expect(init.baselineNonzero).toBeCloseTo(600, 9);
  });
  it('validates names and values', () => {
    expect(errorCode(() => new CustomDensityDistribution({ densities: { 'fc2.weight': 1.5 } }))).toBe('E_OUT_OF_RANGE');
    expect(
      errorCode(() => new CustomDensityDistribution({ densities: { 'fc9.weight': 0.5 } }).initialize(mlp, 0.1, createRng(1))),
    ).toBe('E_CONFIG_INVALID');
    expect(
      errorCode(() =>
        new CustomDensityDistribution({ densities: { 'fc2.weight': 0.5 }, missing: 'error' }).initialize(mlp, 0.1, createRng(1)),
      ),
    ).toBe('E_CONFIG_INVALID');
  });
  it('can draw Bernoulli masks instead', () => {
    const init = new CustomDensityDistribution({ densities: { 'fc1.weight': 0.2, 'fc2.weight': 1 }, draw: 'bernoulli' }).initialize(
      mlp,
      0.1,
      createRng(2),
    );
    expect(countActive(init.masks[1])).toBe(1000);
    expect(Math.abs(countActive(init.masks[0]) - 2000)).toBeLessThan(200);
  });
});
