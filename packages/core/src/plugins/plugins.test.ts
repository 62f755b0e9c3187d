import { describe, expect, it } from 'vitest';
import { isSparseLearningError } from '../errors.js';
import { silentLogger } from '../logger.js';
import { corePlugins } from './builtin/core-module.js';
import { option, parsePluginOptions } from './options.js';
import { definePlugin, type RunSettings } from './plugin.js';
import { PluginRegistry } from './registry.js';

const run: RunSettings = {
  epochs: 10,
  stepsPerEpoch: 100,
  totalSteps: 1000,
  density: 0.05,
  pruneRate: 0.5,
  lr: 0.1,
  momentum: 0.9,
  nesterov: true,
  l2: 5e-4,
  decayFrequency: 250,
};
const ctx = { run, logger: silentLogger };

function codeOf(fn: () => unknown): { code: string; message: string; details: Record<string, unknown> } {
  try {
    fn();
  } catch (error) {
    if (isSparseLearningError(error)) return { code: error.code, message: error.message, details: { ...error.details } };
    throw error;
  }
  throw new Error('expected a SparseLearningError');
}

const owner = {
  kind: 'growth strategy',
  id: 'demo',
  options: {
    flag: option.boolean(false, 'a flag'),
    rate: option.number(0.5, 'a rate', { min: 0, lessThan: 1 }),
    k: option.integer(undefined, 'a count', { min: 1 }),
    mode: option.oneOf(['a', 'b'] as const, 'a', 'a mode'),
  },
};

describe('plugin options', () => {
  it('fills defaults and keeps given values', () => {
    expect(parsePluginOptions(owner, {})).toEqual({ flag: false, rate: 0.5, mode: 'a' });
    expect(parsePluginOptions(owner, { flag: true, k: 3, mode: 'b' })).toEqual({ flag: true, rate: 0.5, k: 3, mode: 'b' });
  });

  it('coded errors name the plugin and the option', () => {
    const unknown = codeOf(() => parsePluginOptions(owner, { flags: true }));
    expect(unknown.code).toBe('E_CONFIG_INVALID');
    expect(unknown.message).toBe("[E_CONFIG_INVALID] growth strategy 'demo' has no option 'flags'; valid options: flag, rate, k, mode");
    const type = codeOf(() => parsePluginOptions(owner, { flag: 'yes' }));
    expect(type.message).toBe(`[E_CONFIG_INVALID] growth strategy 'demo': option 'flag' = "yes" is invalid: expected true or false`);
    expect(type.details).toMatchObject({ plugin: 'demo', option: 'flag' });
    const range = codeOf(() => parsePluginOptions(owner, { rate: 1 }));
    expect(range.code).toBe('E_OUT_OF_RANGE');
    expect(range.message).toContain("option 'rate' = 1 is out of range; expected a number >= 0 and < 1");
    expect(codeOf(() => parsePluginOptions(owner, { k: 1.5 })).code).toBe('E_CONFIG_INVALID');
    const mode = codeOf(() => parsePluginOptions(owner, { mode: 'c' }));
    expect(mode.code).toBe('E_UNKNOWN_ID');
    expect(mode.message).toContain('valid');
    expect(mode.message).toContain('a, b');
  });
});

describe('plugin registry', () => {
  const registry = new PluginRegistry([corePlugins]);

  it('lists the ids of every core kind from the registered plugins', () => {
    expect(registry.ids('density-distribution')).toEqual(['erdos-renyi', 'erk', 'uniform-bernoulli', 'uniform-exact']);
    expect(registry.ids('prune-rate-schedule')).toEqual(['constant', 'cosine', 'linear']);
    expect(registry.ids('learning-rate-schedule')).toEqual(['constant', 'step-lr']);
    expect(registry.ids('mask-update-trigger')).toEqual(['epoch-end', 'every-k-steps', 'rewire-period']);
    expect(registry.ids('optimizer')).toEqual(['adam', 'sgd']);
    expect(registry.ids('growth')).toEqual([]);
  });

  it('unknown ids list the valid ones; duplicate ids are refused naming both modules', () => {
    const error = codeOf(() => registry.get('optimizer', 'rmsprop'));
    expect(error.message).toBe("[E_UNKNOWN_ID] unknown optimizer 'rmsprop'; valid optimizer ids: adam, sgd");
    const dup = definePlugin({ kind: 'optimizer', id: 'sgd', summary: '', options: {}, create: () => null as never });
    const taken = codeOf(() => new PluginRegistry([corePlugins]).add({ name: 'mine', plugins: [dup] }));
    expect(taken.code).toBe('E_PLUGIN_LOAD');
    expect(taken.message).toContain("optimizer id 'sgd' is already registered by '@sparse-learning/core'");
    const badKind = codeOf(() => new PluginRegistry().add({ name: 'mine', plugins: [{ ...dup, kind: 'grwoth' as never }] }));
    expect(badKind.message).toContain('valid kinds: prune, growth');
  });

  it('builds products from validated options and the run settings', () => {
    const cosine = registry.create(registry.choose('prune-rate-schedule', 'cosine'), ctx);
    expect(cosine.rateAt(0)).toBeCloseTo(0.5, 12);
    expect(cosine.rateAt(1000)).toBeCloseTo(0.005, 12);
    // RigL: decay to 0 over the first 75 % of the run.
    const rigl = registry.create(registry.choose('prune-rate-schedule', { id: 'cosine', options: { etaMin: 0, endFraction: 0.75 } }), ctx);
    expect(rigl.rateAt(375)).toBeCloseTo(0.25, 12);
    expect(rigl.rateAt(750)).toBeCloseTo(0, 12);
    const trigger = registry.create(registry.choose('mask-update-trigger', { id: 'every-k-steps', options: { every: 100, endFraction: 0.75 } }), ctx);
    const position = (step: number) => ({ step, epoch: 0, epochs: 10, stepsPerEpoch: 100 });
    expect([100, 700, 750, 800].map((s) => trigger.afterStep(position(s)))).toEqual([true, true, false, false]);
    const lr = registry.create(registry.choose('learning-rate-schedule', 'step-lr'), ctx);
    // stepped before each batch: batch 248 sees 249 steps, batch 249 sees 250.
    expect([lr.rateAt(248), lr.rateAt(249)]).toEqual([0.1, 0.1 * 0.1]);
    expect(codeOf(() => registry.choose('mask-update-trigger', { id: 'every-k-steps', options: { every: 0 } })).code).toBe('E_OUT_OF_RANGE');
  });
});
