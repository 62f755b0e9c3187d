import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { PluginRegistry, corePlugins, createRng, isSparseLearningError, silentLogger } from '@sparse-learning/core';
import { prunePlugins } from './plugins.js';
import { DeepRGradientTransform, temperatureAt } from './deep-r-gradient.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('DeepR gradient transform (Bellec et al. 2018, §2)', () => {
  it('adds α·sign(w) and sqrt(2ηT) noise on active weights only', () => {
    expect(temperatureAt([{ epoch: 0, value: 1e-5 }, { epoch: 25, value: 1e-8 }], 24)).toBe(1e-5);
    expect(temperatureAt([{ epoch: 0, value: 1e-5 }, { epoch: 25, value: 1e-8 }], 25)).toBe(1e-8);
    const noiseless = new DeepRGradientTransform({ eta: 0.01, l1: 0.1, temperature: [{ epoch: 0, value: 0 }] });
    const w = tf.variable(tf.tensor1d([0.5, -0.25, 0.125, 0]), true, 'w');
    const mask = tf.tensor1d([1, 1, 0, 1]);
    const g = tf.tensor1d([1, 1, 1, 1]);
    const ctx = { step: 0, epoch: 0, variables: { w }, masks: { w: mask }, learningRate: 0.1, rng: createRng(9) };
    const out = tf.tidy(() => Array.from(noiseless.transform({ w: g }, ctx).w.dataSync()));
    expect(out[0]).toBeCloseTo(1.1, 6);
    expect(out[1]).toBeCloseTo(0.9, 6);
    expect(out[2]).toBe(1); // dormant: plain gradient
    expect(out[3]).toBe(1); // sign(0) = 0
    const noisy = new DeepRGradientTransform({ eta: 0.5, l1: 0, temperature: [{ epoch: 0, value: 1 }] });
    expect(noisy.noiseStd(0)).toBe(1);
    const before = tf.memory().numTensors;
    const values = tf.tidy(() => Array.from(noisy.transform({ w: g }, { ...ctx, rng: createRng(9) }).w.dataSync()));
    expect(tf.memory().numTensors).toBe(before);
    const expectedNoise = createRng(9);
    const n0 = expectedNoise.normal();
    const n1 = expectedNoise.normal();
    const n3 = expectedNoise.normal();
    expect(values[0]).toBeCloseTo(1 + n0, 5);
    expect(values[1]).toBeCloseTo(1 + n1, 5);
    expect(values[2]).toBe(1);
    expect(values[3]).toBeCloseTo(1 + n3, 5);
    tf.dispose([w, mask, g]);
  });

  it('maskGradient zeros the gradient of dormant weights (DSR codebase: mask ⊙ W layers), with or without noise and L1', () => {
    const w = tf.variable(tf.tensor1d([0.5, -0.25, 0.125, 0]), true, 'w');
    const mask = tf.tensor1d([1, 1, 0, 1]);
    const g = tf.tensor1d([1, 2, 3, 4]);
    const ctx = { step: 0, epoch: 0, variables: { w }, masks: { w: mask }, learningRate: 0.1, rng: createRng(9) };
    const masked = new DeepRGradientTransform({ eta: 0.01, l1: 0.1, temperature: [{ epoch: 0, value: 0 }], maskGradient: true });
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => Array.from(masked.transform({ w: g }, ctx).w.dataSync()));
    expect(tf.memory().numTensors).toBe(before);
    expect(out[0]).toBeCloseTo(1.1, 6);
    expect(out[1]).toBeCloseTo(1.9, 6);
    expect(out[2]).toBe(0); // dormant: no gradient (3 without the option)
    expect(out[3]).toBe(4);
    // Neither L1 nor noise: the transform still masks.
    const bare = new DeepRGradientTransform({ eta: 0.01, l1: 0, temperature: [{ epoch: 0, value: 0 }], maskGradient: true });
    expect(tf.tidy(() => Array.from(bare.transform({ w: g }, ctx).w.dataSync()))).toEqual([1, 2, 0, 4]);
    const registry = new PluginRegistry([corePlugins, prunePlugins]);
    expect(registry.choose('gradient-transform', 'deep-r-noise-l1').options).toMatchObject({ maskGradient: false });
    tf.dispose([w, mask, g]);
  });

  it('is a plugin whose options are validated: the DSR defaults, a custom schedule, coded errors', () => {
    const registry = new PluginRegistry([corePlugins, prunePlugins]);
    const run = { epochs: 1, stepsPerEpoch: 1, totalSteps: 1, density: 0.05, pruneRate: 0, lr: 0.1, momentum: 0.9, nesterov: true, l2: 0, decayFrequency: 1 };
    const defaults = registry.choose('gradient-transform', 'deep-r-noise-l1');
    expect(defaults.options).toMatchObject({ eta: 0.01, l1: 1e-5 });
    const transform = registry.create(
      registry.choose('gradient-transform', { id: 'deep-r-noise-l1', options: { eta: 0.5, temperature: [{ epoch: 0, value: 1 }, { epoch: 2, value: 0.02 }] } }),
      { run, logger: silentLogger },
    ) as DeepRGradientTransform;
    expect(transform.noiseStd(1)).toBe(1);
    expect(transform.noiseStd(2)).toBeCloseTo(Math.sqrt(0.02), 12);
    try {
      registry.choose('gradient-transform', { id: 'deep-r-noise-l1', options: { temperature: [{ epoch: -1, value: 1 }] } });
      throw new Error('expected an error');
    } catch (error) {
      expect(isSparseLearningError(error, 'E_CONFIG_INVALID')).toBe(true);
      expect(String(error)).toContain("gradient transform 'deep-r-noise-l1': option 'temperature'");
      expect(String(error)).toContain('step 0: epoch must be an integer >= 0');
    }
  });
});
