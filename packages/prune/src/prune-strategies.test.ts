import { describe, expect, it } from 'vitest';
import { PluginRegistry, createRng, silentLogger } from '@sparse-learning/core';
import { runEngineUpdate } from '@sparse-learning/testing';
import type { InitLayer, LayerView, RunSettings, StrategyContext } from '@sparse-learning/core';
import { GlobalMagnitudePrune, MagnitudePrune, SetPrune, SignFlipPrune } from './index.js';
import { prunePlugins } from './plugins.js';

function view(weight: number[], mask?: number[], name = 'w'): LayerView {
  const m = Uint8Array.from(mask ?? weight.map((w) => (w !== 0 ? 1 : 0)));
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

function ctx(overrides: Partial<StrategyContext> = {}): StrategyContext {
  return { step: 0, epoch: 1, pruneRate: 0.5, baselineNonzero: 10, layerCount: 1, rng: createRng(1), logger: silentLogger, ...overrides };
}

const bits = (m: Uint8Array) => Array.from(m);

describe('MagnitudePrune (docs/algorithm.md#the-mask-update)', () => {
  it('removes the r smallest |w| among active weights', () => {
    const v = view([0.5, -0.1, 0, 0.3, -0.7, 0.05], [1, 1, 0, 1, 1, 1]);
    expect(bits(new MagnitudePrune().prune(v, { count: 2, pruneRate: 0.4 }, ctx()))).toEqual([1, 0, 0, 1, 1, 0]);
  });

  it('r = 0 returns mask ∧ (w ≠ 0), dropping active exact zeros (official edge case)', () => {
    const v = view([0.5, 0, 0.2], [1, 1, 1]);
    expect(bits(new MagnitudePrune().prune(v, { count: 0, pruneRate: 0 }, ctx()))).toEqual([1, 0, 1]);
  });
});

describe('SetPrune (the rule SET intends, docs/algorithm.md#strategy-variants)', () => {
  const weights = [0.4, 0.1, -0.05, -0.9, 0.2, -0.3, 0.6, -0.02];

  it('removes ceil(r/2) smallest positive and floor(r/2) largest negative weights', () => {
    // r = 4: positives 0.1, 0.2; negatives -0.02, -0.05.
    expect(bits(new SetPrune().prune(view(weights), { count: 4, pruneRate: 0.5 }, ctx()))).toEqual([1, 0, 0, 1, 0, 1, 1, 0]);
    // r = 3: positives 0.1, 0.2 (the odd one); negative -0.02.
    expect(bits(new SetPrune().prune(view(weights), { count: 3, pruneRate: 0.375 }, ctx()))).toEqual([1, 0, 1, 1, 0, 1, 1, 0]);
  });

  it('takes the rest from the other sign when one sign has too few', () => {
    // One negative only: r = 4 → -0.5 and the 3 smallest positives 0.1, 0.2, 0.3.
    const v = view([0.1, 0.2, 0.3, 0.4, -0.5]);
    expect(bits(new SetPrune().prune(v, { count: 4, pruneRate: 0.8 }, ctx()))).toEqual([0, 0, 0, 1, 0]);
  });

  it('is not the official HEAD rule that empties the layer', () => {
    const v = view(weights);
    const out = new SetPrune().prune(v, { count: 2, pruneRate: 0.25 }, ctx());
    expect(out.reduce((a, b) => a + b, 0)).toBe(6);
  });

  it('prunes active exact zeros first, then splits the rest by sign', () => {
    // Active zeros at 0 and 3 (e.g. regrown into a dead unit). r = 3: both zeros, then the smallest positive 0.1.
    const v = view([0, 0.4, 0.1, 0, -0.05, -0.9], [1, 1, 1, 1, 1, 1]);
    expect(bits(new SetPrune().prune(v, { count: 3, pruneRate: 0.5 }, ctx()))).toEqual([0, 1, 0, 0, 1, 1]);
    // r = 4: both zeros, then 0.1 and -0.05.
    expect(bits(new SetPrune().prune(v, { count: 4, pruneRate: 4 / 6 }, ctx()))).toEqual([0, 1, 0, 0, 0, 1]);
    // More zeros than r: only zeros go, every trained weight stays.
    const z = view([0, 0, 0, 0.3, -0.2], [1, 1, 1, 1, 1]);
    const out = new SetPrune().prune(z, { count: 2, pruneRate: 0.4 }, ctx());
    expect(out.reduce((a, b) => a + b, 0)).toBe(3);
    expect([out[3], out[4]]).toEqual([1, 1]);
  });

  it('does not let zero-gradient regrown weights pile up and wipe the trained weights (SET LeNet collapse)', () => {
    // A layer of 200 positions, 40 active; positions < 100 are "dead" (a weight there keeps the value 0 forever,
    // like a weight into a dead ReLU unit), the others become non-zero once trained. Each cycle: prune r = 12
    // by the SET rule, regrow 12 at random zero positions (value 0), then "train" (live active zeros get a value).
    // Protecting exact zeros from pruning made the dead zeros accumulate until fewer than r non-zero weights were
    // left and a single cycle removed all of them.
    const size = 200;
    const r = 12;
    const rng = createRng(7);
    const weight = new Float32Array(size);
    const mask = new Uint8Array(size);
    for (let i = 100; i < 140; i++) {
      mask[i] = 1;
      weight[i] = (i % 2 ? 1 : -1) * (0.1 + 0.01 * (i - 100));
    }
    const prune = new SetPrune();
    for (let cycle = 0; cycle < 60; cycle++) {
      let nonzero = 0;
      let zeros = 0;
      for (let i = 0; i < size; i++) if (mask[i]) (weight[i] !== 0 ? nonzero++ : zeros++);
      // Only the previous cycle's regrowth can still be zero.
      expect(zeros).toBeLessThanOrEqual(r);
      expect(nonzero).toBeGreaterThanOrEqual(40 - r);
      const v: LayerView = { ...view(Array.from(weight), Array.from(mask)), activeCount: 40 };
      const kept = prune.prune(v, { count: r, pruneRate: r / 40 }, ctx());
      for (let i = 0; i < size; i++) if (!kept[i]) weight[i] = 0;
      let grown = 0;
      while (grown < r) {
        const i = rng.int(size);
        if (!kept[i] && !mask[i]) {
          kept[i] = 1;
          grown++;
        }
      }
      mask.set(kept);
      for (let i = 100; i < size; i++) if (mask[i] && weight[i] === 0) weight[i] = (rng.next() - 0.5) * 0.4 || 0.01;
    }
  });

  it('differs from magnitude pruning when the small weights are all of one sign', () => {
    const v = view([0.01, 0.02, 0.03, -0.5, -0.6, 0.9]);
    expect(bits(new SetPrune().prune(v, { count: 2, pruneRate: 1 / 3 }, ctx()))).toEqual([0, 1, 1, 0, 1, 1]);
    expect(bits(new MagnitudePrune().prune(v, { count: 2, pruneRate: 1 / 3 }, ctx()))).toEqual([0, 0, 1, 1, 1, 1]);
  });
});

describe('GlobalMagnitudePrune (docs/algorithm.md#strategy-variants)', () => {
  // 1000 active weights |w| = 0.0001·k, k = 1..1000: odd k in layer a (alternating signs), even k in layer b.
  const a = view(Array.from({ length: 500 }, (_, j) => 0.0001 * (2 * j + 1) * (j % 2 ? -1 : 1)), undefined, 'a');
  const b = view(Array.from({ length: 500 }, (_, j) => 0.0001 * (2 * j + 2)), undefined, 'b');
  const removedBy = (s: GlobalMagnitudePrune, c: StrategyContext) =>
    [a, b].map((v) => v.activeCount - s.prune(v, { count: 0, pruneRate: c.pruneRate }, c).reduce((x, y) => x + y, 0));

  it('searches one threshold removing ceil(p·baseline) within 2 % and prunes |w| ≤ τ in every layer', () => {
    const s = new GlobalMagnitudePrune();
    const c = ctx({ pruneRate: 0.3, baselineNonzero: 1000, layerCount: 2 });
    s.prepare([a, b], c);
    const [ra, rb] = removedBy(s, c);
    // Target 300 ± 6; one threshold, so both layers lose the same share of this interleaved spectrum.
    expect(Math.abs(ra + rb - 300)).toBeLessThanOrEqual(6);
    expect(Math.abs(ra - rb)).toBeLessThanOrEqual(1);
    expect(s.currentThreshold).toBeGreaterThan(0.0294);
    expect(s.currentThreshold).toBeLessThan(0.0306);
  });

  it('exactThreshold removes exactly ceil(p·baseline)', () => {
    const s = new GlobalMagnitudePrune({ exactThreshold: true });
    const c = ctx({ pruneRate: 0.3, baselineNonzero: 1000, layerCount: 2 });
    s.prepare([a, b], c);
    expect(removedBy(s, c)).toEqual([150, 150]);
  });

  it('keeps τ and the step across updates and restores them from state', () => {
    const s = new GlobalMagnitudePrune();
    s.prepare([a, b], ctx({ pruneRate: 0.3, baselineNonzero: 100 }));
    const restored = new GlobalMagnitudePrune();
    restored.setState(JSON.parse(JSON.stringify(s.getState())));
    expect(restored.currentThreshold).toBe(s.currentThreshold);
    expect(() => restored.setState({ threshold: -1 })).toThrow(/E_CHECKPOINT_INVALID/);
  });

  it('reproduces the official early stop: a first threshold removing nothing ends the search', () => {
    const big = view([0.5, -0.6, 0.7, 0.8]);
    const c = ctx({ pruneRate: 0.5, baselineNonzero: 4 });
    const official = new GlobalMagnitudePrune();
    official.prepare([big], c);
    expect(official.currentThreshold).toBe(0.001);
    expect(bits(official.prune(big, { count: 2, pruneRate: 0.5 }, c))).toEqual([1, 1, 1, 1]);
    const fixed = new GlobalMagnitudePrune({ exactThreshold: true });
    fixed.prepare([big], c);
    expect(bits(fixed.prune(big, { count: 2, pruneRate: 0.5 }, c))).toEqual([0, 0, 1, 1]);
  });

  it('makes the engine scale regrowth by the global rule (global: true)', () => {
    expect(new GlobalMagnitudePrune().global).toBe(true);
    expect(new GlobalMagnitudePrune().countPolicy).toBe('free');
  });
});

describe('SignFlipPrune (DeepR, docs/algorithm.md#baselines)', () => {
  it('fixes signs at first sight and prunes active weights whose sign flipped; zeros are never pruned', () => {
    const s = new SignFlipPrune();
    const first = view([0.5, -0.2, 0, 0.1], [1, 1, 1, 1]);
    expect(bits(s.prune(first, { count: 0, pruneRate: 0 }, ctx()))).toEqual([1, 1, 1, 1]);
    const later = view([-0.5, -0.3, 0.4, 0], [1, 1, 1, 1]);
    const state = s.getState();
    const fixed2 = state.signs.w[2];
    const out = s.prune(later, { count: 0, pruneRate: 0 }, ctx());
    expect(out[0]).toBe(0); // +0.5 became −0.5
    expect(out[1]).toBe(1); // stayed negative
    expect(out[2]).toBe(fixed2 > 0 ? 1 : 0); // random fixed sign drawn for the zero weight
    expect(out[3]).toBe(1); // exactly 0: no sign, not pruned
  });

  it('round-trips its signs through getState/setState (plain arrays accepted)', () => {
    const s = new SignFlipPrune();
    s.prune(view([0.5, -0.2]), { count: 0, pruneRate: 0 }, ctx());
    const restored = new SignFlipPrune();
    restored.setState({ version: 1, signs: { w: Array.from(s.getState().signs.w) } });
    expect(bits(restored.prune(view([-0.5, -0.2]), { count: 0, pruneRate: 0 }, ctx()))).toEqual([0, 1]);
    expect(() => restored.setState({ version: 1, signs: { w: [2] } })).toThrow(/E_CHECKPOINT_INVALID/);
  });

  it("signs 'first-move' (DSR codebase): a regrown connection takes the sign of its first move instead of a drawn one", () => {
    // Position 2 is dormant at first sight, regrown at 0 and then moves to −0.1; position 3 the same, to +0.1.
    // 'fixed' draws a sign for them at first sight, so one of the two is pruned whatever the draw
    // (the draws are a fixed stream: the test states which).
    const fixed = new SignFlipPrune();
    const firstMove = new SignFlipPrune({ signs: 'first-move' });
    for (const s of [fixed, firstMove]) s.prune(view([0.5, -0.2, 0, 0], [1, 1, 0, 0]), { count: 0, pruneRate: 0 }, ctx());
    expect(Array.from(firstMove.getState().signs.w as Int8Array)).toEqual([1, -1, 0, 0]);
    const drawn = Array.from(fixed.getState().signs.w as Int8Array).slice(2);
    const moved = view([0.4, -0.3, -0.1, 0.1], [1, 1, 1, 1]);
    expect(bits(fixed.prune(moved, { count: 0, pruneRate: 0 }, ctx()))).toEqual([1, 1, drawn[0] < 0 ? 1 : 0, drawn[1] > 0 ? 1 : 0]);
    expect(drawn[0] < 0 && drawn[1] > 0).toBe(false);
    // 'first-move': nothing pruned, the moves are recorded as the signs.
    expect(bits(firstMove.prune(moved, { count: 0, pruneRate: 0 }, ctx()))).toEqual([1, 1, 1, 1]);
    expect(Array.from(firstMove.getState().signs.w as Int8Array)).toEqual([1, -1, -1, 1]);
    // From then on a flip prunes, and the pruned position has no sign again (it can be regrown at 0).
    expect(bits(firstMove.prune(view([0.4, 0.3, -0.1, 0], [1, 1, 1, 1]), { count: 0, pruneRate: 0 }, ctx()))).toEqual([1, 0, 1, 1]);
    expect(Array.from(firstMove.getState().signs.w as Int8Array)).toEqual([1, 0, -1, 1]);
  });

  it("signs 'first-move' keeps 0 signs through getState/setState; an unknown source is a coded error", () => {
    const s = new SignFlipPrune({ signs: 'first-move' });
    s.setState({ version: 1, signs: { w: [1, 0] } });
    expect(bits(s.prune(view([-0.5, -0.2]), { count: 0, pruneRate: 0 }, ctx()))).toEqual([0, 1]);
    expect(() => new SignFlipPrune().setState({ version: 1, signs: { w: [1, 0] } })).toThrow(/E_CHECKPOINT_INVALID/);
    expect(() => new SignFlipPrune({ signs: 'random' as never })).toThrow(/E_UNKNOWN_ID.*'random'.*first-move, fixed/);
  });
});

describe('prunePlugins', () => {
  const registry = new PluginRegistry([prunePlugins]);
  const pluginCtx = { run: {} as RunSettings, logger: silentLogger };
  const build = (id: string, options?: Record<string, unknown>) => registry.create(registry.choose('prune', { id, options }), pluginCtx);

  it('registers every strategy under its id, a fresh instance per build', () => {
    expect(registry.ids('prune')).toEqual(['adaptive-threshold', 'global-magnitude', 'magnitude', 'set', 'sign-flip']);
    for (const id of registry.ids('prune')) expect(build(id).id).toBe(id);
    expect(build('sign-flip')).not.toBe(build('sign-flip'));
  });

  it('passes validated options', () => {
    expect((build('global-magnitude', { initialThreshold: 0.05 }) as GlobalMagnitudePrune).currentThreshold).toBe(0.05);
    expect((build('global-magnitude') as GlobalMagnitudePrune).currentThreshold).toBe(0.001);
    expect(() => build('global-magnitude', { initialThreshold: -1 })).toThrow(/E_OUT_OF_RANGE.*'global-magnitude'.*initialThreshold/);
    expect((build('sign-flip') as SignFlipPrune).source).toBe('fixed');
    expect((build('sign-flip', { signs: 'first-move' }) as SignFlipPrune).source).toBe('first-move');
    expect(() => build('sign-flip', { signs: 'drawn' })).toThrow(/'sign-flip'.*signs/);
  });

  it("the deep-r-signs init hook fixes sign-flip's signs at initialisation (DeepR)", () => {
    const prune = build('sign-flip') as SignFlipPrune;
    const hook = registry.create(registry.choose('init-hook', 'deep-r-signs'), pluginCtx);
    const layers: InitLayer[] = [{ name: 'w', shape: [4], size: 4, weight: Float32Array.of(0.5, -0.2, 0, 0), mask: Uint8Array.of(1, 1, 1, 0) }];
    const rng = createRng(5);
    hook.afterMaskInit({ layers, prune, growth: null as never, redistribution: null as never, rng, logger: silentLogger });
    const signs = Array.from(prune.getState().signs.w as Int8Array);
    expect(signs.slice(0, 2)).toEqual([1, -1]);
    // Zero or dormant positions draw ±1 from the layer's own stream.
    const draw = createRng(5).fork('sign:w');
    expect(signs.slice(2)).toEqual([draw.next() < 0.5 ? -1 : 1, draw.next() < 0.5 ? -1 : 1]);
    // Another prune strategy keeps no signs: the hook does nothing.
    expect(() => hook.afterMaskInit({ layers, prune: build('magnitude'), growth: null as never, redistribution: null as never, rng, logger: silentLogger })).not.toThrow();
  });

  it('SET prune composes with the engine (exact count checked by MaskUpdater)', () => {
    const rng = createRng(3);
    const n = 64;
    const mask = Uint8Array.from({ length: n }, (_, i) => (i % 2 ? 1 : 0));
    const weight = Float32Array.from(mask, (m) => (m ? rng.normal() : 0));
    const momentum = Float32Array.from({ length: n }, () => rng.normal());
    const layer: LayerView = { name: 'w', index: 0, shape: [8, 8], size: n, weight, mask, momentum, gradient: null, activeCount: 32 };
    const result = runEngineUpdate({ prune: new SetPrune() }, [layer], 3, 0.5);
    expect(result.layers[0].removed).toBe(16);
  });
});
