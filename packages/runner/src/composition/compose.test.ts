import { join } from 'node:path';
import {
  MaskUpdater,
  createRng,
  isSparseLearningError,
  silentLogger,
  type GrowthStrategy,
  type LayerView,
  type PruneStrategy,
  type StrategyContext,
} from '@sparse-learning/core';
import { describe, expect, it } from 'vitest';
import { resolveConfig, type ConfigSource } from '../config/resolve.js';
import { PRESETS } from '../presets/index.js';
import { checkStrategyIds, composeExperiment, createRootContainer, listPluginIds } from './compose.js';
import { loadPlugin } from './plugin-loader.js';

const fixtures = join(__dirname, '..', 'test', 'fixtures');
const size = { stepsPerEpoch: 10, totalSteps: 100 };

function configFor(presetId: string, values: Record<string, unknown> = {}, ...more: ConfigSource[]) {
  return resolveConfig({ name: 'test', values: { preset: presetId, ...values } }, ...more).config;
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
  it('lists the built-in ids of every plugin kind from the registry', () => {
    const ids = listPluginIds();
    expect(ids.prune).toEqual(['adaptive-threshold', 'global-magnitude', 'magnitude', 'set', 'sign-flip']);
    expect(ids.growth).toEqual(['gradient', 'momentum', 'random']);
    expect(ids.redistribution).toEqual(['magnitude', 'momentum', 'none', 'nonzero', 'surviving', 'uniform']);
    expect(ids['density-distribution']).toEqual(['erdos-renyi', 'erk', 'uniform-bernoulli', 'uniform-exact']);
    expect(ids['prune-rate-schedule']).toEqual(['constant', 'cosine', 'linear']);
    expect(ids['learning-rate-schedule']).toEqual(['constant', 'step-lr']);
    expect(ids['mask-update-trigger']).toEqual(['epoch-end', 'every-k-steps', 'rewire-period']);
    expect(ids.optimizer).toEqual(['adam', 'sgd']);
    expect(ids['gradient-transform']).toEqual(['deep-r-noise-l1']);
    expect(ids['init-hook']).toEqual(['deep-r-signs']);
  });

  it('every preset composes in its own child container, its config validated like a user\'s', async () => {
    const root = createRootContainer();
    for (const preset of PRESETS) {
      const config = configFor(preset.id);
      const composition = await composeExperiment(root, config, [], size);
      expect(composition.prune.id).toBe(config.prune);
      expect(composition.growth.id).toBe(config.growth);
      expect(composition.optimizer.id).toBe(config.optimizer);
      expect(composition.trigger.id).toBe(config.trigger);
      expect(composition.maskUpdater === null).toBe(preset.sparsity !== 'dynamic');
      expect(composition.distribution === null).toBe(preset.sparsity === 'dense');
      // Children never share per-experiment objects through the root.
      expect(root.isBound(MaskUpdater)).toBe(false);
      composition.optimizer.dispose();
    }
  });

  it('wires the preset options into the strategies (SET, DeepR: exact random regrowth, in place)', async () => {
    for (const id of ['set', 'deep-r']) {
      const composition = await composeExperiment(createRootContainer(), configFor(id), [], size);
      expect(composition.growth.countPolicy).toBe('exact');
      expect(composition.maskUpdater?.options.regrowth).toBe('in-place');
      expect(composition.maskUpdater?.options.controller).toBe(false);
      expect(composition.maskUpdater).toBeInstanceOf(MaskUpdater);
    }
    const deepR = await composeExperiment(createRootContainer(), configFor('deep-r'), [], size);
    expect(deepR.gradientTransforms.map((t) => t.id)).toEqual(['deep-r-noise-l1']);
    expect(deepR.initHooks.map((h) => h.id)).toEqual(['deep-r-signs']);
    const sm = await composeExperiment(createRootContainer(), configFor('sparse-momentum'), [], size);
    expect(sm.growth.countPolicy).toBe('exact');
    expect(sm.maskUpdater?.options.regrowth).toBe('redistribute');
    expect(sm.maskUpdater?.options.controller).toBe(true);
    expect(sm.gradientTransforms).toEqual([]);
  });

  it("SET's growth options do not reach a growth strategy swapped in over the preset", async () => {
    // SET's preset sets random growth with { exactCount, excludeJustPruned }; momentum growth has neither.
    const swapped = configFor('set', { growth: 'momentum' });
    expect(swapped.growthOptions).toEqual({});
    const composition = await composeExperiment(createRootContainer(), swapped, [], size);
    expect(composition.growth.id).toBe('momentum');
    expect(composition.choices.slots.growth.options).toEqual({ legacyTopK: false });
    // The same id keeps the preset's options and merges the user's key by key.
    const same = configFor('set', { growth: { id: 'random', options: { excludeJustPruned: false } } });
    expect(same.growthOptions).toEqual({ exactCount: true, excludeJustPruned: false });
    // Options for the swapped-in strategy come from the user, checked against its own schema.
    const legacy = configFor('set', { growth: 'momentum', growthOptions: { legacyTopK: true } });
    expect((await composeExperiment(createRootContainer(), legacy, [], size)).growth.countPolicy).toBe('at-most');
    const wrong = configFor('set', { growth: 'momentum', growthOptions: { exactCount: true } });
    const error = await expectCode(checkStrategyIds(wrong), 'E_CONFIG_INVALID');
    expect(error.message).toContain("growth strategy 'momentum' has no option 'exactCount'; valid options: legacyTopK");
  });

  it('fails early with E_UNKNOWN_ID listing the valid ids', async () => {
    const config = configFor('sparse-momentum', { growth: 'momentun' });
    const error = await expectCode(composeExperiment(createRootContainer(), config, [], size), 'E_UNKNOWN_ID');
    expect(error.message).toContain("unknown growth strategy 'momentun'");
    expect(error.message).toContain('gradient, momentum, random');
    await expectCode(checkStrategyIds({ ...config, growth: 'momentum', prune: 'smallest' }), 'E_UNKNOWN_ID');
    await expectCode(checkStrategyIds({ ...config, growth: 'momentum', densityDistribution: 'er' }), 'E_UNKNOWN_ID');
    const optimizer = await expectCode(checkStrategyIds({ ...config, growth: 'momentum', optimizer: 'rmsprop' }), 'E_UNKNOWN_ID');
    expect(optimizer.message).toContain("unknown optimizer 'rmsprop'; valid optimizer ids: adam, sgd");
  });

  it('loads a user plugin by path and resolves its id with its own options; its id appears in the valid list', async () => {
    const plugin = await loadPlugin('./first-zeros-growth-plugin.mjs', fixtures);
    const config = configFor('sparse-momentum', { growth: { id: 'first-zeros', options: { fromEnd: true } } });
    await checkStrategyIds(config, [plugin]);
    const composition = await composeExperiment(createRootContainer(), config, [plugin], size);
    const growth: GrowthStrategy = composition.growth;
    expect(growth.id).toBe('first-zeros');
    expect(composition.registry.ownerOf('growth', 'first-zeros')).toContain('first-zeros-growth-plugin.mjs');
    expect(listPluginIds([plugin]).growth).toEqual(['first-zeros', 'gradient', 'momentum', 'random']);
    const error = await expectCode(checkStrategyIds({ ...config, growth: 'nope' }, [plugin]), 'E_UNKNOWN_ID');
    expect(error.message).toContain('first-zeros, gradient, momentum, random');
    const bad = await expectCode(checkStrategyIds({ ...config, growthOptions: { fromEnd: 'yes' } }, [plugin]), 'E_CONFIG_INVALID');
    expect(bad.message).toContain(`growth strategy 'first-zeros': option 'fromEnd' = "yes" is invalid: expected true or false`);
  });

  it('E_PLUGIN_LOAD for a missing file, a missing package, a module without plugins, and the 0.1 ContainerModule shape', async () => {
    await expectCode(loadPlugin('./missing-plugin.mjs', fixtures), 'E_PLUGIN_LOAD');
    await expectCode(loadPlugin('@sparse-learning/no-such-plugin', fixtures), 'E_PLUGIN_LOAD');
    const error = await expectCode(loadPlugin('./not-a-plugin.mjs', fixtures), 'E_PLUGIN_LOAD');
    expect(error.message).toContain('exports: answer');
    const old = await expectCode(loadPlugin('./container-module-plugin.mjs', fixtures), 'E_PLUGIN_LOAD');
    expect(old.message).toContain('exports an inversify ContainerModule, the plugin shape of version 0.1; export a plugin module instead');
  });
});

describe('the SET rule (Mocanu et al. 2018) on a hand-made layer', () => {
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
    const { prune } = await composeExperiment(createRootContainer(), configFor('set'), [], size);
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
    const { maskUpdater } = await composeExperiment(createRootContainer(), configFor('set'), [], size);
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
