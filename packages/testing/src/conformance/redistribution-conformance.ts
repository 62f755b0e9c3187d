import { describe, expect, it, beforeAll } from 'vitest';
import { createRng } from '@sparse-learning/core';
import type { LayerView, RedistributionStrategy } from '@sparse-learning/core';
import { runEngineUpdate } from './engine-check.js';
import { DEFAULT_SCENARIOS, emptyLayer, mutatedArrays, snapshotView, syntheticContext, syntheticLayer } from './fixtures.js';
import type { ConformanceOptions } from './options.js';
import { ensureTfBackend, liveTensors } from './tf-env.js';

/**
 * Registers a vitest suite proving that a {@link RedistributionStrategy} keeps the contract of
 * `@sparse-learning/core` (docs/algorithm.md#the-mask-update, docs/algorithm.md#strategy-variants): a finite number ≥ 0 for every layer with active weights (no NaN),
 * NaN or a finite number ≥ 0 for a layer without any, deterministic, inputs untouched, no tensor leak, accepted
 * by the engine.
 *
 * @example describeRedistributionConformance('momentum', () => new MomentumRedistribution());
 */
export function describeRedistributionConformance(
  name: string,
  factory: () => RedistributionStrategy,
  options: ConformanceOptions = {},
): void {
  const scenarios = options.scenarios ?? DEFAULT_SCENARIOS;
  const seed = options.seed ?? 'conformance';
  const makeViews = (s: string): LayerView[] => {
    const rng = createRng(`${s}/data`);
    return scenarios.map((scenario, i) => syntheticLayer(scenario, rng, i));
  };

  describe(`redistribution strategy '${name}' conformance`, () => {
    beforeAll(ensureTfBackend);

    it('declares an id', () => {
      const strategy = factory();
      expect(typeof strategy.id).toBe('string');
      expect(strategy.id.length).toBeGreaterThan(0);
    });

    it('returns a finite statistic >= 0 for every layer with active weights, inputs untouched', () => {
      const views = makeViews(seed);
      const ctx = syntheticContext(createRng(`${seed}/ctx`), views);
      const strategy = factory();
      for (const view of views) {
        const snapshot = snapshotView(view);
        const s = strategy.statistic(view, ctx);
        expect(typeof s, view.name).toBe('number');
        expect(Number.isFinite(s), `${view.name}: ${s}`).toBe(true);
        expect(s, view.name).toBeGreaterThanOrEqual(0);
        expect(mutatedArrays(view, snapshot), view.name).toEqual([]);
      }
    });

    it('returns NaN or a finite number >= 0 for a layer without active weights', () => {
      const view = emptyLayer();
      const s = factory().statistic(view, syntheticContext(createRng(`${seed}/ctx`), makeViews(seed)));
      expect(typeof s).toBe('number');
      expect(Number.isNaN(s) || (Number.isFinite(s) && s >= 0), String(s)).toBe(true);
    });

    it('is deterministic', () => {
      const run = () => {
        const views = makeViews(seed);
        const ctx = syntheticContext(createRng(`${seed}/ctx`), views);
        const strategy = factory();
        return views.map((v) => strategy.statistic(v, ctx));
      };
      expect(run()).toEqual(run());
    });

    it('leaks no tensor', () => {
      const views = makeViews(seed);
      const strategy = factory();
      const ctx = syntheticContext(createRng(`${seed}/ctx`), views);
      for (const v of views) strategy.statistic(v, ctx);
      const before = liveTensors();
      for (const v of views) strategy.statistic(v, ctx);
      expect(liveTensors()).toBe(before);
    });

    if (!options.skipEngine) {
      it('runs inside the core MaskUpdater and its shares sum to 1', () => {
        const views = makeViews(seed);
        const result = runEngineUpdate({ redistribution: factory() }, views, `${seed}/engine`);
        const total = result.layers.reduce((acc, l) => acc + l.share, 0);
        expect(total).toBeCloseTo(1, 9);
      });
    }
  });
}
