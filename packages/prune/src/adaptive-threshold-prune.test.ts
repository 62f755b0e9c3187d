import { describe, expect, it } from 'vitest';
import { createRng, silentLogger } from '@sparse-learning/core';
import type { LayerView, StrategyContext } from '@sparse-learning/core';
import { AdaptiveThresholdPrune } from './adaptive-threshold-prune.js';

function view(name: string, weight: number[], mask: number[]): LayerView {
  const m = Uint8Array.from(mask);
  return {
    name,
    index: 0,
    shape: [weight.length],
    size: weight.length,
    weight: Float32Array.from(weight),
    mask: m,
    momentum: null,
    gradient: null,
    activeCount: m.reduce((a, b) => a + b, 0),
  };
}

const ctx: StrategyContext = { step: 101, epoch: 0, pruneRate: 0, baselineNonzero: 5, layerCount: 2, rng: createRng(1), logger: silentLogger };
// A: three active weights; B: two active weights, both small.
const layers = () => [view('a', [0.0005, -0.002, 0.003, 0], [1, 1, 1, 0]), view('b', [0.0009, -0.0001], [1, 1])];

/** One DSR reallocation's pruning: prepare over all layers, then prune each. */
function pruneAll(strategy: AdaptiveThresholdPrune): number[][] {
  const views = layers();
  strategy.prepare(views, ctx);
  return views.map((v) => Array.from(strategy.prune(v, { count: 0, pruneRate: 0 }, ctx)));
}

describe('AdaptiveThresholdPrune (DSR, Mostafa & Wang 2019; docs/algorithm.md#baselines)', () => {
  it('prunes |w| < H globally, keeps one weight of a layer it would empty, and halves H above 1.1·N_p', () => {
    const dsr = new AdaptiveThresholdPrune({ targetPruned: 1 });
    expect(dsr.currentThreshold).toBe(0.001);
    // H = 0.001: A loses 0.0005; B would lose both, keeps its first (0.0009). K = 2 > 1.1 → H = 0.0005.
    expect(pruneAll(dsr)).toEqual([
      [0, 1, 1, 0],
      [1, 0],
    ]);
    expect(dsr.currentThreshold).toBe(0.0005);
    // H = 0.0005: |0.0005| < H is false (strict, float32); B loses 0.0001. K = 1 within [0.9, 1.1] → H stays.
    expect(pruneAll(dsr)).toEqual([
      [1, 1, 1, 0],
      [1, 0],
    ]);
    expect(dsr.currentThreshold).toBe(0.0005);
  });

  it('doubles H below 0.9·N_p, reallocation after reallocation', () => {
    const dsr = new AdaptiveThresholdPrune({ targetPruned: 10 });
    pruneAll(dsr); // K = 2 < 9
    expect(dsr.currentThreshold).toBe(0.002);
    // H = 0.002: A loses 0.0005 (|−0.002| is not < 0.002); B keeps one. K = 2 → H = 0.004.
    expect(pruneAll(dsr)).toEqual([
      [0, 1, 1, 0],
      [1, 0],
    ]);
    expect(dsr.currentThreshold).toBe(0.004);
    // H = 0.004: every weight of A is below H, so A keeps its first active one. K = 2 + 1 = 3 → H = 0.008.
    expect(pruneAll(dsr)).toEqual([
      [1, 0, 0, 0],
      [1, 0],
    ]);
    expect(dsr.currentThreshold).toBe(0.008);
  });

  it('carries the threshold through getState/setState (checkpoints) and rejects a bad state', () => {
    const dsr = new AdaptiveThresholdPrune({ targetPruned: 10 });
    pruneAll(dsr);
    const restored = new AdaptiveThresholdPrune({ targetPruned: 10 });
    restored.setState(JSON.parse(JSON.stringify(dsr.getState())));
    expect(pruneAll(restored)).toEqual(pruneAll(dsr));
    expect(restored.currentThreshold).toBe(dsr.currentThreshold);
    expect(() => restored.setState({ threshold: -1 })).toThrow(expect.objectContaining({ code: 'E_CHECKPOINT_INVALID' }));
  });

  it('rejects out-of-range options with E_OUT_OF_RANGE naming the option', () => {
    expect(() => new AdaptiveThresholdPrune({ initialThreshold: 0 })).toThrow(/initialThreshold/);
    expect(() => new AdaptiveThresholdPrune({ gain: 1 })).toThrow(expect.objectContaining({ code: 'E_OUT_OF_RANGE' }));
    expect(() => new AdaptiveThresholdPrune({ tolerance: 1 })).toThrow(/tolerance/);
    expect(() => new AdaptiveThresholdPrune({ targetPruned: -5 })).toThrow(/targetPruned/);
  });
});
