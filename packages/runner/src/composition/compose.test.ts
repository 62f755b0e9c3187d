import { join } from 'node:path';
import {
  MaskUpdater,
  TOKENS,
  createRng,
  isSparseLearningError,
  silentLogger,
  type GrowthStrategy,
  type LayerView,
  type PruneStrategy,
  type StrategyContext,
} from '@sparse-learning/core';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/resolve.js';
import { PRESETS, getPreset } from '../presets/index.js';
import { checkStrategyIds, composeExperiment, createRootContainer, listStrategyIds } from './compose.js';
import { loadPlugin } from './plugin-loader.js';

const fixtures = join(__dirname, '..', 'test', 'fixtures');

function planFor(presetId: string, values: Record<string, unknown> = {}) {
  const { config } = resolveConfig({ name: 'test', values: { preset: presetId, ...values } });
  const plan = getPreset(presetId).plan({ config, stepsPerEpoch: 10, totalSteps: 100 });
  return { config, plan };
}

async function expectCode(promise: Promise<unknown>, code: string): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    expect(isSparseLearningError(error, code as never), String(error)).toBe(true);
    return error as Error;
  }
  throw new Error(`expected ${code}`);
}

describe('composition root', () => {
  it('lists the built-in ids of every strategy kind', async () => {
    const ids = await listStrategyIds();
    expect(ids.prune).toEqual(['adaptive-threshold', 'global-magnitude', 'magnitude', 'set', 'sign-flip']);
    expect(ids.growth).toEqual(['gradient', 'momentum', 'random']);
    expect(ids.redistribution).toEqual(['magnitude', 'momentum', 'none', 'nonzero', 'surviving', 'uniform']);
    expect(ids.densityDistribution).toEqual(['erdos-renyi', 'erk', 'uniform-bernoulli', 'uniform-exact']);
  });

  it('every preset composes in its own child container', async () => {
    const root = createRootContainer();
    for (const preset of PRESETS) {
      const { config, plan } = planFor(preset.id);
      const composition = await composeExperiment(root, config, plan);
      expect(composition.prune.id).toBe(config.prune);
      expect(composition.growth.id).toBe(config.growth);
      expect(composition.maskUpdater === null).toBe(plan.sparsity !== 'dynamic');
      expect(composition.distribution === null).toBe(plan.sparsity === 'dense');
      // Children never share per-experiment objects through the root.
      expect(root.isBound(TOKENS.MaskUpdater)).toBe(false);
    }
  });

  it('wires the preset options into the strategies (SET, DeepR: exact random regrowth, in place)', async () => {
    for (const id of ['set', 'deep-r']) {
      const { config, plan } = planFor(id);
      const composition = await composeExperiment(createRootContainer(), config, plan);
      expect(composition.growth.countPolicy).toBe('exact');
      expect(composition.maskUpdater?.options.regrowth).toBe('in-place');
      expect(composition.maskUpdater?.options.controller).toBe(false);
      expect(composition.maskUpdater).toBeInstanceOf(MaskUpdater);
    }
    const sm = await composeExperiment(createRootContainer(), ...Object.values(planFor('sparse-momentum')) as [never, never]);
    expect(sm.growth.countPolicy).not.toBe('stochastic');
    expect(sm.maskUpdater?.options.regrowth).toBe('redistribute');
    expect(sm.maskUpdater?.options.controller).toBe(true);
  });

  it('fails early with E_UNKNOWN_ID listing the valid ids', async () => {
    const { config, plan } = planFor('sparse-momentum', { growth: 'momentun' });
    const error = await expectCode(composeExperiment(createRootContainer(), config, plan), 'E_UNKNOWN_ID');
    expect(error.message).toContain("unknown growth strategy 'momentun'");
    expect(error.message).toContain('gradient, momentum, random');
    await expectCode(checkStrategyIds({ ...config, growth: 'momentum', prune: 'smallest' }), 'E_UNKNOWN_ID');
    await expectCode(checkStrategyIds({ ...config, growth: 'momentum', densityDistribution: 'er' }), 'E_UNKNOWN_ID');
  });

  it('loads a user plugin by path and resolves its id; its id appears in the valid list', async () => {
    const plugin = await loadPlugin('./first-zeros-growth-plugin.mjs', fixtures);
    const { config, plan } = planFor('sparse-momentum', { growth: 'first-zeros' });
    await checkStrategyIds(config, [plugin]);
    const composition = await composeExperiment(createRootContainer(), config, plan, [plugin]);
    const growth: GrowthStrategy = composition.growth;
    expect(growth.id).toBe('first-zeros');
    expect(composition.registry.ownerOf(TOKENS.GrowthStrategy, 'first-zeros')).toContain('first-zeros-growth-plugin.mjs');
    const ids = await listStrategyIds([plugin]);
    expect(ids.growth).toEqual(['first-zeros', 'gradient', 'momentum', 'random']);
    const error = await expectCode(checkStrategyIds({ ...config, growth: 'nope' }, [plugin]), 'E_UNKNOWN_ID');
    expect(error.message).toContain('first-zeros, gradient, momentum, random');
  });

  it('E_PLUGIN_LOAD for a missing file, a missing package and a module without a ContainerModule', async () => {
    await expectCode(loadPlugin('./missing-plugin.mjs', fixtures), 'E_PLUGIN_LOAD');
    await expectCode(loadPlugin('@sparse-learning/no-such-plugin', fixtures), 'E_PLUGIN_LOAD');
    const error = await expectCode(loadPlugin('./not-a-plugin.mjs', fixtures), 'E_PLUGIN_LOAD');
    expect(error.message).toContain('exports: answer');
  });
});

describe('the SET rule (Mocanu et al. 2018, spec §6.1) on a hand-made layer', () => {
  const ctx: StrategyContext = {
    step: 0,
    epoch: 1,
    pruneRate: 0.5,
    baselineNonzero: 8,
    layerCount: 1,
    rng: createRng(1),
    logger: silentLogger,
  };

  it('removes the smallest positive and the largest negative weights, half each', async () => {
    const { config, plan } = planFor('set');
    const { prune } = await composeExperiment(createRootContainer(), config, plan);
    const weight = new Float32Array([0.5, -0.1, 0.2, -0.7, 0.05, -0.02, 0.9, -0.3, 0, 0.4]);
    const mask = new Uint8Array([1, 1, 1, 1, 1, 1, 1, 1, 0, 1]);
    const layer: LayerView = {
      name: 'fc', index: 0, shape: [10], size: 10, weight, mask,
      momentum: null, gradient: null, activeCount: 9,
    };
    // r = 4: positives 0.05 and 0.2 (smallest), negatives -0.02 and -0.1 (largest, closest to zero).
    const pruned = (prune as PruneStrategy).prune(layer, { count: 4, pruneRate: 4 / 9 }, ctx);
    expect(Array.from(pruned)).toEqual([1, 0, 0, 1, 0, 0, 1, 1, 0, 1]);
    // Plain magnitude pruning would take 0.05, -0.02, -0.1 and 0.2 too here, but not with r = 5:
    const five = (prune as PruneStrategy).prune(layer, { count: 5, pruneRate: 5 / 9 }, ctx);
    // ceil(5/2) = 3 positives (0.05, 0.2, 0.4) and 2 negatives (-0.02, -0.1); magnitude would drop -0.3 instead of 0.4.
    expect(Array.from(five)).toEqual([1, 0, 0, 1, 0, 0, 1, 1, 0, 0]);
  });

  it('one SET cycle through the engine: ζ = 0.3 per layer, exact in-place regrowth, counts kept per layer', async () => {
    const { config, plan } = planFor('set');
    const { maskUpdater } = await composeExperiment(createRootContainer(), config, plan);
    const rng = createRng(3);
    const make = (n: number, active: number) => {
      const weight = new Float32Array(n);
      const mask = new Uint8Array(n);
      for (let i = 0; i < active; i++) {
        mask[i * 2] = 1;
        weight[i * 2] = (i % 2 === 0 ? 1 : -1) * (0.01 + i / active);
      }
      return { weight, mask };
    };
    const a = make(40, 20);
    const b = make(100, 10);
    const result = maskUpdater!.update({
      layers: [
        { name: 'a', shape: [40], weight: a.weight, mask: a.mask, momentum: null, gradient: null },
        { name: 'b', shape: [100], weight: b.weight, mask: b.mask, momentum: null, gradient: null },
      ],
      pruneRate: 0.3,
      baselineNonzero: 30,
      controller: { adjustedGrowth: 0, adjustments: [] },
      step: 10,
      epoch: 1,
      rng,
    });
    expect(result.layers.map((l) => l.removed)).toEqual([6, 3]); // ceil(0.3·20), ceil(0.3·10)
    expect(result.layers.map((l) => l.grown)).toEqual([6, 3]);
    expect(result.layers.map((l) => l.activeAfter)).toEqual([20, 10]);
    for (const layer of result.layers) {
      // regrown positions are new (just-pruned ones are excluded) and start at 0
      for (const i of layer.grownIndices) {
        expect(layer.prunedIndices).not.toContain(i);
        expect(layer.weight[i]).toBe(0);
      }
    }
  });
});
