import { describe, expect, it, beforeAll } from 'vitest';
import { createRng } from '@sparse-learning/core';
import type { LayerView, PruneStrategy, StatefulStrategy } from '@sparse-learning/core';
import { runEngineUpdate } from './engine-check.js';
import { pruneResultProblems } from './checks.js';
import { DEFAULT_SCENARIOS, mutatedArrays, snapshotView, syntheticContext, syntheticLayer } from './fixtures.js';
import type { ConformanceOptions } from './options.js';
import { ensureTfBackend, liveTensors } from './tf-env.js';

function isStateful(value: unknown): value is StatefulStrategy {
  const v = value as Partial<StatefulStrategy>;
  return typeof v.getState === 'function' && typeof v.setState === 'function';
}

/** Removal counts a prune hook is asked for on a layer with `active` active weights. */
function pruneCounts(active: number): number[] {
  return [...new Set([0, 1, Math.ceil(0.3 * active), active])];
}

/**
 * One prune pass over every layer as the engine does it: `prepare` once with all views, then `prune` per
 * layer with `count`. Returns the masks.
 */
function prunePass(strategy: PruneStrategy, views: readonly LayerView[], counts: readonly number[], seed: string): Uint8Array[] {
  const ctx = syntheticContext(createRng(seed), views);
  strategy.prepare?.(views, ctx);
  return views.map((view, i) =>
    strategy.prune(view, { count: counts[i], pruneRate: view.activeCount === 0 ? 0 : counts[i] / view.activeCount }, ctx),
  );
}

/**
 * Registers a vitest suite proving that a {@link PruneStrategy} keeps the contract of `@sparse-learning/core`
 * (docs/algorithm.md#the-mask-update): 0/1 `Uint8Array` of the layer size, only removes, exactly `count` removed for
 * `countPolicy: 'exact'`, deterministic under a seed, inputs untouched, no tensor leak, accepted by the engine,
 * and (for stateful strategies) `getState`/`setState` reproduce the outputs.
 *
 * `factory` must return a fresh instance on every call.
 *
 * @example describePruneConformance('magnitude', () => new MagnitudePrune());
 */
export function describePruneConformance(name: string, factory: () => PruneStrategy, options: ConformanceOptions = {}): void {
  const scenarios = options.scenarios ?? DEFAULT_SCENARIOS;
  const seed = options.seed ?? 'conformance';
  const makeViews = (s: string): LayerView[] => {
    const rng = createRng(`${s}/data`);
    return scenarios.map((scenario, i) => syntheticLayer(scenario, rng, i));
  };

  describe(`prune strategy '${name}' conformance`, () => {
    beforeAll(ensureTfBackend);

    it('declares an id and a count policy', () => {
      const strategy = factory();
      expect(typeof strategy.id).toBe('string');
      expect(strategy.id.length).toBeGreaterThan(0);
      expect(['exact', 'free']).toContain(strategy.countPolicy);
    });

    for (const [k, scenario] of scenarios.entries()) {
      it(`${scenario.name} [${scenario.shape.join('x')}]: returns a 0/1 subset mask with the policy's count, inputs untouched`, () => {
        const views = makeViews(seed);
        const view = views[k];
        for (const count of pruneCounts(view.activeCount)) {
          const strategy = factory();
          const snapshots = views.map(snapshotView);
          const counts = views.map((v) => Math.min(count, v.activeCount));
          const masks = prunePass(strategy, views, counts, `${seed}/ctx`);
          const mask = masks[k];
          expect(pruneResultProblems(view.mask, mask, strategy.countPolicy, count), `count ${count}`).toEqual([]);
          views.forEach((v, i) => expect(mutatedArrays(v, snapshots[i]), `layer ${v.name}`).toEqual([]));
        }
      });
    }

    it('is deterministic under the same seed', () => {
      const views = makeViews(seed);
      const counts = views.map((v) => Math.ceil(0.3 * v.activeCount));
      const a = prunePass(factory(), views, counts, `${seed}/ctx`);
      const b = prunePass(factory(), makeViews(seed), counts, `${seed}/ctx`);
      expect(a).toEqual(b);
    });

    it('leaks no tensor', () => {
      const views = makeViews(seed);
      const counts = views.map((v) => Math.ceil(0.3 * v.activeCount));
      const strategy = factory();
      prunePass(strategy, views, counts, `${seed}/warm`);
      const before = liveTensors();
      prunePass(strategy, views, counts, `${seed}/ctx`);
      expect(liveTensors()).toBe(before);
    });

    it('persists its state through getState/setState (when stateful)', () => {
      const original = factory();
      if (!isStateful(original)) return;
      const views = makeViews(seed);
      const counts = views.map((v) => Math.ceil(0.3 * v.activeCount));
      prunePass(original, views, counts, `${seed}/first`);
      const restored = factory() as PruneStrategy & StatefulStrategy;
      restored.setState(structuredClone(original.getState()));
      const next = makeViews(`${seed}/next`);
      expect(prunePass(restored, next, counts, `${seed}/second`)).toEqual(prunePass(original, next, counts, `${seed}/second`));
    });

    if (!options.skipEngine) {
      it('runs inside the core MaskUpdater (engine contract checks pass)', () => {
        const views = makeViews(seed);
        const result = runEngineUpdate({ prune: factory() }, views, `${seed}/engine`);
        expect(result.layers).toHaveLength(views.length);
        for (const layer of result.layers) expect(layer.removed).toBeGreaterThanOrEqual(0);
      });
    }
  });
}
