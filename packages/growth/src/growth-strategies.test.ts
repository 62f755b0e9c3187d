import { describe, expect, it } from 'vitest';
import { PluginRegistry, createRng, isSparseLearningError, silentLogger } from '@sparse-learning/core';
import type { LayerView, RunSettings, StrategyContext } from '@sparse-learning/core';
import { GradientGrowth, MomentumGrowth, RandomGrowth, growthPlugins, legacyTopK } from './index.js';

function view(mask: number[], extra: Partial<LayerView> = {}): LayerView {
  const m = Uint8Array.from(mask);
  return {
    name: 'w',
    index: 0,
    shape: [mask.length],
    size: mask.length,
    weight: new Float32Array(mask.length),
    mask: m,
    momentum: null,
    gradient: null,
    activeCount: m.reduce((a, b) => a + b, 0),
    ...extra,
  };
}

const ctx = (seed: number | string = 1): StrategyContext => ({
  step: 0,
  epoch: 1,
  pruneRate: 0.5,
  baselineNonzero: 10,
  layerCount: 1,
  rng: createRng(seed),
  logger: silentLogger,
});
const bits = (m: Uint8Array) => Array.from(m);
const sum = (m: Uint8Array) => m.reduce((a, b) => a + b, 0);

describe('MomentumGrowth (docs/algorithm.md#the-mask-update)', () => {
  const momentum = Float32Array.from([0.9, -0.8, 0.1, -0.5, 0.3, 0]);
  const v = view([1, 0, 0, 0, 0, 0], { momentum });

  it('enables the largest |momentum| among zero positions only (active position 0 has the largest)', () => {
    expect(bits(new MomentumGrowth().grow(v, { count: 2 }, ctx()))).toEqual([1, 1, 0, 1, 0, 0]);
    expect(new MomentumGrowth().countPolicy).toBe('exact');
  });

  it('legacyTopK reproduces issue #22: zero-momentum picks include active positions, fewer weights grow', () => {
    const s = new MomentumGrowth({ legacyTopK: true });
    expect(s.countPolicy).toBe('at-most');
    // Zero positions with non-zero momentum: 1, 3, 4, 2 (4 of them). Asking for 6: positions 0 (active, score 0)
    // and 5 (score 0) tie at 0 and fill the top-6; 0 is already active, so only 5 are enabled.
    const out = s.grow(v, { count: 6 }, ctx());
    expect(sum(out) - sum(v.mask)).toBe(5);
    // With enough non-zero candidates, the legacy and fixed rules agree.
    expect(bits(s.grow(v, { count: 2 }, ctx()))).toEqual(bits(new MomentumGrowth().grow(v, { count: 2 }, ctx())));
    expect(bits(legacyTopK(Uint8Array.from([1, 0]), Float32Array.from([5, 0]), 1))).toEqual([1, 0]);
  });

  it('throws E_ENGINE_STATE without momentum', () => {
    expect(() => new MomentumGrowth().grow(view([0, 0]), { count: 1 }, ctx())).toThrow(/E_ENGINE_STATE/);
  });
});

describe('GradientGrowth (RigL)', () => {
  it('enables the largest |gradient| among zero positions and declares its requirement', () => {
    const v = view([0, 1, 0, 0], { gradient: Float32Array.from([0.1, 5, -0.7, 0.3]) });
    const s = new GradientGrowth();
    expect(s.requires).toEqual(['gradient']);
    expect(bits(s.grow(v, { count: 2 }, ctx()))).toEqual([0, 1, 1, 1]);
    expect(() => s.grow(view([0]), { count: 1 }, ctx())).toThrow(/E_ENGINE_STATE/);
  });
});

describe('RandomGrowth (docs/algorithm.md#strategy-variants)', () => {
  const n = 2000;
  const mask = Array.from({ length: n }, (_, i) => (i < 500 ? 1 : 0));

  it('faithful mode enables each zero position with probability count/nZero (mean over seeds = count)', () => {
    const s = new RandomGrowth();
    expect(s.countPolicy).toBe('stochastic');
    let total = 0;
    const runs = 50;
    for (let seed = 0; seed < runs; seed++) total += sum(s.grow(view(mask), { count: 300 }, ctx(seed))) - 500;
    // Binomial(1500, 0.2): sd of one draw ≈ 15.5, of the mean over 50 ≈ 2.2.
    expect(Math.abs(total / runs - 300)).toBeLessThan(9);
    // Never onto an active weight and only zero positions switched on.
    const out = s.grow(view(mask), { count: 300 }, ctx(7));
    for (let i = 0; i < 500; i++) expect(out[i]).toBe(1);
  });

  it('exactCount enables exactly count random zero positions, reproducibly per seed', () => {
    const s = new RandomGrowth({ exactCount: true });
    expect(s.countPolicy).toBe('exact');
    const a = s.grow(view(mask), { count: 300 }, ctx('x'));
    expect(sum(a)).toBe(800);
    expect(bits(s.grow(view(mask), { count: 300 }, ctx('x')))).toEqual(bits(a));
    expect(bits(s.grow(view(mask), { count: 300 }, ctx('y')))).not.toEqual(bits(a));
  });

  it('excludeJustPruned never regrows a position pruned in this update (unless exactCount runs out of others)', () => {
    const before = Uint8Array.from([1, 1, 1, 1, 0, 0, 0, 0]);
    const pruned = Uint8Array.from([1, 1, 0, 0, 0, 0, 0, 0]);
    const v = view(Array.from(pruned), { maskBeforePrune: before });
    for (let seed = 0; seed < 20; seed++) {
      const out = new RandomGrowth({ excludeJustPruned: true }).grow(v, { count: 3 }, ctx(seed));
      expect([out[2], out[3]]).toEqual([0, 0]);
      const exact = new RandomGrowth({ excludeJustPruned: true, exactCount: true }).grow(v, { count: 3 }, ctx(seed));
      expect([exact[2], exact[3]]).toEqual([0, 0]);
      expect(sum(exact)).toBe(5);
    }
    const all = new RandomGrowth({ excludeJustPruned: true, exactCount: true }).grow(v, { count: 6 }, ctx());
    expect(bits(all)).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
  });
});

describe('growthPlugins', () => {
  const registry = new PluginRegistry([growthPlugins]);
  const run = {} as RunSettings; // growth factories read no run settings
  const build = (id: string, options?: Record<string, unknown>) => registry.create(registry.choose('growth', { id, options }), { run, logger: silentLogger });

  it('registers every strategy under its id and passes each its own validated options', () => {
    expect(registry.ids('growth')).toEqual(['gradient', 'momentum', 'random']);
    for (const id of registry.ids('growth')) expect(build(id).id).toBe(id);
    expect(build('momentum').countPolicy).toBe('exact');
    expect(build('momentum', { legacyTopK: true }).countPolicy).toBe('at-most');
    expect(build('random').countPolicy).toBe('stochastic');
    expect(build('random', { exactCount: true }).countPolicy).toBe('exact');
  });

  it("refuses another strategy's options, naming the plugin and the option", () => {
    try {
      build('momentum', { exactCount: true });
      throw new Error('expected an error');
    } catch (error) {
      expect(isSparseLearningError(error, 'E_CONFIG_INVALID')).toBe(true);
      expect(String(error)).toContain("growth strategy 'momentum' has no option 'exactCount'; valid options: legacyTopK");
    }
  });
});
