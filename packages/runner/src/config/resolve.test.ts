import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SparseLearningError, type SparseLearningErrorCode } from '@sparse-learning/core';
import { describe, expect, it } from 'vitest';
import { readConfigFile, resolveConfig, type ConfigSource } from './resolve.js';
import { defaultConfig } from './schema.js';

const cli = (values: Record<string, unknown>): ConfigSource => ({ name: 'command line', values });

function codeOf(fn: () => unknown): { code: SparseLearningErrorCode; message: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(SparseLearningError);
    const e = error as SparseLearningError;
    return { code: e.code, message: e.message, details: e.details as Record<string, unknown> };
  }
  throw new Error('expected a SparseLearningError');
}

describe('configuration defaults (docs/algorithm.md#recipes)', () => {
  it('defaults to the paper MNIST recipe with Sparse Momentum on LeNet-300-100', () => {
    const { config } = resolveConfig();
    expect(config).toMatchObject({
      preset: 'sparse-momentum',
      model: 'lenet300-100',
      dataset: 'mnist',
      density: 0.05,
      pruneRate: 0.5,
      decaySchedule: 'cosine',
      growth: 'momentum',
      prune: 'magnitude',
      redistribution: 'momentum',
      epochs: 100,
      batchSize: 100,
      lr: 0.1,
      momentum: 0.9,
      nesterov: true,
      l2: 5e-4,
      decayFrequency: 25000,
      validSplit: 0.1,
      seed: 17,
      iters: 1,
      optimizer: 'sgd',
      backend: 'auto',
    });
    expect(defaultConfig().density).toBe(0.05);
  });

  it('uses the CIFAR-10 recipe and per-model density for CIFAR models', () => {
    const wrn = resolveConfig(cli({ model: 'wrn-16-8' })).config;
    expect(wrn).toMatchObject({ dataset: 'cifar10', epochs: 250, batchSize: 128, decayFrequency: 30000, density: 0.05 });
    expect(resolveConfig(cli({ model: 'alexnet-s' })).config.density).toBe(0.1);
    expect(resolveConfig(cli({ model: 'vgg-like' })).config.density).toBe(0.03);
  });

  it('layers preset defaults under the config file under the flags', () => {
    const set = resolveConfig(cli({ preset: 'set' })).config;
    expect(set).toMatchObject({ prune: 'set', growth: 'random', redistribution: 'none', pruneRate: 0.3, decaySchedule: 'constant', densityDistribution: 'erdos-renyi' });
    const deepR = resolveConfig(cli({ preset: 'deep-r' })).config;
    expect(deepR).toMatchObject({ prune: 'sign-flip', l2: 0, trigger: 'every-k-steps', triggerOptions: { every: 1, endFraction: 1 } });
    expect(deepR.gradientTransforms).toEqual([{ id: 'deep-r-noise-l1', options: {} }]);
    expect(deepR.initHooks).toEqual([{ id: 'deep-r-signs', options: {} }]);
    const file: ConfigSource = {
      name: 'config file x.json',
      values: { preset: 'set', pruneRate: 0.2, epochs: 3, gradientTransforms: [{ id: 'deep-r-noise-l1', options: { l1: 0 } }] },
    };
    const { config, origins } = resolveConfig(file, cli({ epochs: 4 }));
    expect(config.pruneRate).toBe(0.2);
    expect(config.epochs).toBe(4);
    expect(config.gradientTransforms).toEqual([{ id: 'deep-r-noise-l1', options: { l1: 0 } }]);
    // The preset's growth options stay with the preset's growth id.
    expect(config).toMatchObject({ growth: 'random', growthOptions: { exactCount: true, excludeJustPruned: true } });
    expect(origins.epochs).toBe('command line');
    expect(origins.pruneRate).toBe('config file x.json');
    expect(resolveConfig(cli({ preset: 'dense', density: 0.05 })).config.density).toBe(1);
  });
});

describe('configuration errors name the field and the valid choices', () => {
  it('E_OUT_OF_RANGE for numbers outside their range', () => {
    for (const [field, value, range] of [
      ['density', 0, '0 < density <= 1'],
      ['density', 1.5, '0 < density <= 1'],
      ['pruneRate', 1, '0 <= pruneRate < 1'],
      ['lr', 0, 'a finite number lr > 0'],
      ['epochs', 0, 'an integer >= 1'],
      ['batchSize', -3, 'an integer >= 1'],
      ['validSplit', 1, '0 <= validSplit < 1'],
    ] as const) {
      const e = codeOf(() => resolveConfig(cli({ [field]: value })));
      expect(e.code).toBe('E_OUT_OF_RANGE');
      expect(e.message).toContain(`${field} = ${value}`);
      expect(e.message).toContain(range);
      expect(e.message).toContain('command line');
    }
  });

  it('E_UNKNOWN_ID for unknown preset, model, dataset and enum values, listing the valid ids', () => {
    const preset = codeOf(() => resolveConfig(cli({ preset: 'sparse-momentun' })));
    expect(preset.code).toBe('E_UNKNOWN_ID');
    expect(preset.message).toContain("'sparse-momentun'");
    expect(preset.message).toContain('deep-r, dense, dsr, rigl, set, sparse-momentum, static');
    const model = codeOf(() => resolveConfig(cli({ model: 'lenet-300' })));
    expect(model.code).toBe('E_UNKNOWN_ID');
    expect(model.message).toContain('lenet300-100');
    expect(codeOf(() => resolveConfig(cli({ dataset: 'imagenet2' }))).message).toContain('cifar10, idx, mnist');
    // Plugin ids (the optimizer among them) are checked by the composition root, which knows the plugins.
    expect(resolveConfig(cli({ optimizer: 'rmsprop' })).config.optimizer).toBe('rmsprop');
    const backend = codeOf(() => resolveConfig(cli({ backend: 'gpu' })));
    expect(backend.message).toContain('auto, cpu, native, tensorflow, tensorflow-gpu, wasm');
  });

  it('E_CONFIG_INVALID for unknown keys, wrong types and non-integers', () => {
    const key = codeOf(() => resolveConfig({ name: 'config file a.json', values: { densty: 0.1 } }));
    expect(key.code).toBe('E_CONFIG_INVALID');
    expect(key.message).toContain("'densty'");
    expect(key.message).toContain('density');
    const nested = codeOf(() => resolveConfig({ name: 'config file a.json', values: { gradientTransforms: [{ id: 'deep-r-noise-l1', opts: {} }] } }));
    expect(nested.code).toBe('E_CONFIG_INVALID');
    expect(nested.message).toContain("'opts'");
    const type = codeOf(() => resolveConfig(cli({ lr: 'fast' })));
    expect(type.code).toBe('E_CONFIG_INVALID');
    expect(type.message).toContain('lr = "fast"');
    const int = codeOf(() => resolveConfig(cli({ epochs: 1.5 })));
    expect(int.code).toBe('E_CONFIG_INVALID');
    expect(int.message).toContain('expected an integer');
    expect(codeOf(() => resolveConfig(cli({ preset: 3 }))).code).toBe('E_CONFIG_INVALID');
  });

  it('E_CONFIG_PARSE for malformed JSON, E_CONFIG_INVALID for a missing file or a non-object', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sl-config-'));
    writeFileSync(join(dir, 'bad.json'), '{ "density": 0.05, }');
    const parse = codeOf(() => readConfigFile(join(dir, 'bad.json')));
    expect(parse.code).toBe('E_CONFIG_PARSE');
    expect(parse.message).toContain('bad.json');
    writeFileSync(join(dir, 'list.json'), '[1, 2]');
    expect(codeOf(() => readConfigFile(join(dir, 'list.json'))).code).toBe('E_CONFIG_INVALID');
    expect(codeOf(() => readConfigFile(join(dir, 'missing.json'))).code).toBe('E_CONFIG_INVALID');
    writeFileSync(join(dir, 'ok.json'), JSON.stringify({ density: 0.02, epochs: 2 }));
    const { config } = resolveConfig(readConfigFile(join(dir, 'ok.json')));
    expect(config.density).toBe(0.02);
    expect(config.epochs).toBe(2);
  });
});
