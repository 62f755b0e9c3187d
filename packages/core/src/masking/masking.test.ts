import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { NamedVariable } from '../contracts/model.js';
import { UniformExactDistribution } from '../density/uniform-exact-distribution.js';
import { isSparseLearningError } from '../errors.js';
import { createRng } from '../rng.js';
import { Masking } from './masking.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function named(name: string, shape: number[], prunable: boolean, trainable = true): NamedVariable {
  const init = tf.randomUniform(shape, 0.5, 1.5);
  const variable = tf.variable(init, trainable);
  init.dispose();
  return { name, variable, prunable, trainable };
}

let vars: NamedVariable[];
beforeEach(() => {
  vars = [
    named('conv1.weight', [3, 3, 1, 4], true),
    named('conv1.bias', [4], false),
    named('bn1.weight', [4], false),
    named('bn1.running_mean', [4], false, false),
    named('fc.weight', [36, 10], true),
    named('fc.bias', [10], false),
  ];
});
afterEach(() => {
  vars.forEach((v) => v.variable.dispose());
});

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isSparseLearningError(e) ? e.code : String(e);
  }
  return undefined;
}

describe('Masking', () => {
  it('masks every prunable kernel by default (first and last included, biases/BN excluded)', () => {
    const masking = new Masking(vars);
    expect(masking.names).toEqual(['conv1.weight', 'fc.weight']);
    expect(masking.totalSize).toBe(36 + 360);
    expect(masking.layerShapes()[0]).toEqual({ name: 'conv1.weight', shape: [3, 3, 1, 4], size: 36 });
  });

  it('selection overrides: names / regexp, predicate, exclude', () => {
    expect(new Masking(vars, { names: [/\.weight$/] }).names).toEqual(['conv1.weight', 'bn1.weight', 'fc.weight']);
    expect(new Masking(vars, { include: (v) => v.variable.rank === 2 }).names).toEqual(['fc.weight']);
    expect(new Masking(vars, { exclude: ['conv1.weight'] }).names).toEqual(['fc.weight']);
    expect(code(() => new Masking(vars, { names: ['nope'] }))).toBe('E_NO_PRUNABLE_TENSORS');
  });

  it('initialize draws, applies and records the baseline; counts per layer and total', () => {
    const masking = new Masking(vars);
    const before = tf.memory().numTensors;
    const init = masking.initialize(new UniformExactDistribution(), 0.25, createRng(7));
    expect(tf.memory().numTensors).toBe(before + 2); // the two mask tensors
    expect(masking.baselineNonzero).toBeCloseTo(396 * 0.25, 12);
    expect(masking.counts()).toEqual([
      { name: 'conv1.weight', size: 36, active: 9, density: 0.25 },
      { name: 'fc.weight', size: 360, active: 90, density: 0.25 },
    ]);
    expect(masking.totalActive).toBe(99);
    expect(masking.totalDensity).toBeCloseTo(0.25, 12);
    // Weights are zero exactly where the mask is 0, untouched (in [0.5, 1.5)) elsewhere.
    masking.layers.forEach((layer, i) => {
      const w = layer.variable.dataSync();
      init.masks[i].forEach((m, j) => (m ? expect(w[j]).toBeGreaterThanOrEqual(0.5) : expect(w[j]).toBe(0)));
    });
    // Unmasked variables are untouched.
    expect(Array.from(vars[1].variable.dataSync()).every((x) => x >= 0.5)).toBe(true);
    masking.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('apply re-zeroes masked weights and leaks nothing', () => {
    const masking = new Masking(vars);
    masking.initialize(new UniformExactDistribution(), 0.5, createRng(1));
    const fc = masking.layers[1].variable;
    fc.assign(tf.onesLike(fc));
    const n = tf.memory().numTensors;
    masking.apply();
    masking.apply();
    expect(tf.memory().numTensors).toBe(n);
    const w = fc.dataSync();
    const mask = masking.readMasks()[1];
    mask.forEach((m, j) => expect(w[j]).toBe(m));
    masking.dispose();
  });

  it('setMasks / readMasks copy, validate, and mask tensors follow', () => {
    const masking = new Masking(vars);
    const masks = [new Uint8Array(36).fill(1), new Uint8Array(360)];
    masks[1][5] = 1;
    masking.setMasks(masks);
    masks[1][6] = 1; // the masking keeps its own copy
    expect(masking.readMasks()[1][6]).toBe(0);
    expect(masking.totalActive).toBe(37);
    expect(Array.from(masking.maskTensors()['fc.weight'].dataSync()).reduce((a, b) => a + b, 0)).toBe(1);
    expect(code(() => masking.setMasks([masks[0]]))).toBe('E_SHAPE_MISMATCH');
    expect(code(() => masking.setMasks([masks[0], new Uint8Array(10)]))).toBe('E_SHAPE_MISMATCH');
    expect(code(() => masking.setMasks([masks[0], new Uint8Array(360).fill(2)]))).toBe('E_OUT_OF_RANGE');
    masking.dispose();
  });

  it('refuses to apply or count before masks exist', () => {
    const masking = new Masking(vars);
    expect(code(() => masking.apply())).toBe('E_ENGINE_STATE');
    expect(code(() => masking.counts())).toBe('E_ENGINE_STATE');
    expect(code(() => masking.baselineNonzero)).toBe('E_ENGINE_STATE');
  });
});
