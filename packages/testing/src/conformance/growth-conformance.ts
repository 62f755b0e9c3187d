import { describe, expect, it, beforeAll } from 'vitest';
import { createRng } from '@sparse-learning/core';
import type { GrowthStrategy, LayerView } from '@sparse-learning/core';
import { runEngineUpdate } from './engine-check.js';
import { growthResultProblems } from './checks.js';
import { DEFAULT_SCENARIOS, mutatedArrays, prunedView, snapshotView, syntheticContext, syntheticLayer } from './fixtures.js';
import type { ConformanceOptions } from './options.js';
import { ensureTfBackend, liveTensors } from './tf-env.js';

/** Growth counts asked on a layer with `available` zero positions after pruning. */
function growthCounts(available: number): number[] {
  return [...new Set([0, 1, Math.floor(available / 2), available, available + 5])];
}

/** Positions that are 0 after pruning and were 0 before it too (never just-pruned). */
function neverActiveZeros(view: LayerView): number {
  let n = 0;
  for (let i = 0; i < view.size; i++) if (view.mask[i] === 0 && !(view.maskBeforePrune && view.maskBeforePrune[i] === 1)) n++;
  return n;
}

function grownCount(result: Uint8Array, view: LayerView): number {
  let grown = 0;
  for (let i = 0; i < view.size; i++) grown += result[i] - view.mask[i];
  return grown;
}

/**
 * Registers a vitest suite proving that a {@link GrowthStrategy} keeps the contract of `@sparse-learning/core`
 * (docs/algorithm.md#the-mask-update, docs/algorithm.md#strategy-variants): 0/1 `Uint8Array` of the layer size, a superset of the pruned mask (never "grows" onto an
 * active weight), the count its `countPolicy` promises (`'exact'`: `min(count, zeros)`; `'at-most'`: no more;
 * `'stochastic'`: the mean over many seeds is `count` within a few standard errors), deterministic under a seed,
 * inputs untouched, no tensor leak, accepted by the engine.
 *
 * `factory` must return a fresh instance on every call.
 *
 * @example describeGrowthConformance('momentum', () => new MomentumGrowth());
 */
export function describeGrowthConformance(name: string, factory: () => GrowthStrategy, options: ConformanceOptions = {}): void {
  const scenarios = options.scenarios ?? DEFAULT_SCENARIOS;
  const seed = options.seed ?? 'conformance';
  const seeds = options.stochasticSeeds ?? 64;
  const sigmas = options.stochasticSigmas ?? 4;
  const makeViews = (s: string): LayerView[] => {
    const rng = createRng(`${s}/data`);
    return scenarios.map((scenario, i) => prunedView(syntheticLayer(scenario, rng, i), rng));
  };

  describe(`growth strategy '${name}' conformance`, () => {
    beforeAll(ensureTfBackend);

    it('declares an id and a count policy', () => {
      const strategy = factory();
      expect(typeof strategy.id).toBe('string');
      expect(strategy.id.length).toBeGreaterThan(0);
      expect(['exact', 'at-most', 'stochastic']).toContain(strategy.countPolicy);
    });

    for (const [k, scenario] of scenarios.entries()) {
      it(`${scenario.name} [${scenario.shape.join('x')}]: returns a 0/1 superset mask with the policy's count, inputs untouched`, () => {
        const views = makeViews(seed);
        const view = views[k];
        const available = view.size - view.activeCount;
        for (const count of growthCounts(available)) {
          const strategy = factory();
          const snapshot = snapshotView(view);
          const result = strategy.grow(view, { count }, syntheticContext(createRng(`${seed}/ctx`), views));
          expect(growthResultProblems(view.mask, result, strategy.countPolicy, count), `count ${count}`).toEqual([]);
          if (count === 0 && strategy.countPolicy !== 'stochastic') expect(grownCount(result, view)).toBe(0);
          expect(mutatedArrays(view, snapshot), `count ${count}`).toEqual([]);
        }
      });
    }

    it('grows the requested count on average over seeds (stochastic policy) or exactly', () => {
      const views = makeViews(seed);
      for (const view of views) {
        // Ask for half of the never-active zeros, so exclusion of just-pruned positions cannot cap the count.
        const count = Math.floor(neverActiveZeros(view) / 2);
        if (count === 0) continue;
        let sum = 0;
        let policy = '';
        for (let s = 0; s < seeds; s++) {
          const strategy = factory();
          policy = strategy.countPolicy;
          sum += grownCount(strategy.grow(view, { count }, syntheticContext(createRng(`${seed}/mean/${s}`), views)), view);
        }
        const mean = sum / seeds;
        if (policy === 'stochastic') {
          const tolerance = sigmas * Math.sqrt(count / seeds) + 0.5;
          expect(Math.abs(mean - count), `layer ${view.name}: mean ${mean} vs ${count}`).toBeLessThanOrEqual(tolerance);
        } else if (policy === 'exact') {
          expect(mean, `layer ${view.name}`).toBe(count);
        } else {
          expect(mean, `layer ${view.name}`).toBeLessThanOrEqual(count);
        }
      }
    });

    it('is deterministic under the same seed', () => {
      const run = () => {
        const views = makeViews(seed);
        const ctx = syntheticContext(createRng(`${seed}/ctx`), views);
        const strategy = factory();
        return views.map((v) => strategy.grow(v, { count: Math.floor((v.size - v.activeCount) / 2) }, ctx));
      };
      expect(run()).toEqual(run());
    });

    it('leaks no tensor', () => {
      const views = makeViews(seed);
      const strategy = factory();
      const pass = (label: string) => {
        const ctx = syntheticContext(createRng(`${seed}/${label}`), views);
        for (const v of views) strategy.grow(v, { count: Math.floor((v.size - v.activeCount) / 2) }, ctx);
      };
      pass('warm');
      const before = liveTensors();
      pass('ctx');
      expect(liveTensors()).toBe(before);
    });

    if (!options.skipEngine) {
      it('runs inside the core MaskUpdater (engine contract checks pass)', () => {
        const rng = createRng(`${seed}/engine-data`);
        const views = scenarios.map((scenario, i) => syntheticLayer(scenario, rng, i));
        const result = runEngineUpdate({ growth: factory() }, views, `${seed}/engine`);
        for (const layer of result.layers) {
          expect(layer.grown).toBeLessThanOrEqual(Math.max(layer.regrow, 0) + (layer.activeBefore - layer.removed));
          expect(layer.activeAfter).toBe(layer.activeBefore - layer.removed + layer.grown);
        }
      });
    }
  });
}
