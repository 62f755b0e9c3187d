/**
 * core's dropout multiplier (wrn-parity, issue 10): `aleaState` continues exactly tfjs's seeded generator;
 * without a registered kernel `dropoutMultiplier` / `seededDropout` are tf.dropout bit for bit; a registered
 * kernel receives the state and the float32 keep probability; bad rates are refused; no tensor leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { isSparseLearningError } from '../errors.js';
import { DROPOUT_MASK_KERNEL, aleaState, dropoutMultiplier, hasDropoutMaskKernel, seededDropout } from './dropout-mask.js';

/** Alea's step from a state, written as seedrandom writes it: the reference the native kernel restates. */
function drawsFrom(state: { s0: number; s1: number; s2: number; c: number }, n: number): Float64Array {
  let { s0, s1, s2, c } = state;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 1) {
    const t = 2091639 * s0 + c * 2.3283064365386963e-10;
    s0 = s1;
    s1 = s2;
    c = t | 0;
    s2 = t - c;
    out[i] = s2;
  }
  return out;
}

function draws(seed: string, n: number): Float64Array {
  return drawsFrom(aleaState(seed), n);
}

beforeAll(async () => {
  expect(await tf.setBackend('cpu')).toBe(true);
});

describe('aleaState', () => {
  it('continues tfjs randomUniform (seedrandom Alea) bit for bit, for several seeds', () => {
    for (const seed of ['1/dropout/0', '17/dropout/3/250/5', '', 'é ü ∑']) {
      const u = tf.randomUniform([1001], 0, 1, 'float32', seed);
      const expected = u.dataSync();
      u.dispose();
      const got = Float32Array.from(draws(seed, 1001));
      expect(Array.from(got), seed).toEqual(Array.from(expected));
    }
  });

  it('is the initial state Baagøe/seedrandom documents for the empty seed (c = 1, s in [0, 1))', () => {
    const s = aleaState('');
    expect(s.c).toBe(1);
    for (const v of [s.s0, s.s1, s.s2]) {
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThan(1);
    }
    // Different seeds give different states (the hash sees every character).
    expect(aleaState('a/1')).not.toEqual(aleaState('a/2'));
  });
});

describe('dropoutMultiplier / seededDropout without the kernel', () => {
  it('equals tf.dropout bit for bit, with no leaked tensor', () => {
    expect(hasDropoutMaskKernel()).toBe(false);
    const x = tf.randomNormal([7, 5, 3], 0, 1, 'float32', 4);
    const before = tf.memory().numTensors;
    const ours = seededDropout(x, 0.3, 's/0');
    const theirs = tf.dropout(x, 0.3, undefined, 's/0');
    expect(Array.from(ours.dataSync())).toEqual(Array.from(theirs.dataSync()));
    // keep = 0.7: every element is 0 or x / 0.7 (float32); 105 elements, ≈ 31 zeroed (this seed: 27).
    const xs = x.dataSync();
    const vs = ours.dataSync();
    const scale = Math.fround(1 / Math.fround(0.7)); // floor(u + keep) / keep when kept, in float32
    let zeros = 0;
    vs.forEach((v, i) => {
      if (v === 0) zeros += 1;
      else expect(v).toBe(Math.fround(xs[i] * scale));
    });
    expect(zeros).toBe(27);
    tf.dispose([ours, theirs]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('rate 0 is a copy of x; a rate outside [0, 1) is E_OUT_OF_RANGE naming the value and the range', () => {
    const x = tf.tensor1d([1, -2, 3]);
    const y = seededDropout(x, 0, 'k');
    expect(Array.from(y.dataSync())).toEqual([1, -2, 3]);
    tf.dispose([x, y]);
    for (const bad of [1, -0.1, Number.NaN]) {
      try {
        dropoutMultiplier([3], bad, 'k');
        expect.unreachable();
      } catch (e) {
        expect(isSparseLearningError(e) && e.code).toBe('E_OUT_OF_RANGE');
        expect(String((e as Error).message)).toMatch(/dropout rate = .*0 <= rate < 1/);
      }
    }
  });
});

describe('dropoutMultiplier with a registered kernel', () => {
  let calls: { shape: number[]; keepProb: number; s0: number; s1: number; s2: number; c: number }[] = [];
  beforeAll(() => {
    tf.registerKernel({
      kernelName: DROPOUT_MASK_KERNEL,
      backendName: 'cpu',
      kernelFunc: ({ attrs, backend }) => {
        const a = attrs as unknown as (typeof calls)[number];
        calls.push(a);
        const n = a.shape.reduce((p, q) => p * q, 1);
        // The contract's arithmetic, from the state the op passed.
        const u = drawsFrom(a, n);
        const values = new Float32Array(n);
        for (let i = 0; i < n; i += 1) {
          values[i] = Math.fround(Math.floor(Math.fround(Math.fround(u[i]) + a.keepProb)) / a.keepProb);
        }
        return (backend as unknown as { makeTensorInfo(s: number[], d: string, v: Float32Array): tf.TensorInfo }).makeTensorInfo(a.shape, 'float32', values);
      },
    });
  });
  afterAll(() => tf.unregisterKernel(DROPOUT_MASK_KERNEL, 'cpu'));

  it('hands the kernel the seed\'s Alea state and float32(1 − rate); the result equals the composite', () => {
    calls = [];
    expect(hasDropoutMaskKernel()).toBe(true);
    const m = dropoutMultiplier([4, 9], 0.3, 'seed/7');
    expect(calls).toHaveLength(1);
    expect(calls[0]).toEqual({ shape: [4, 9], keepProb: Math.fround(0.7), ...aleaState('seed/7') });
    const composite = tf.div(tf.floor(tf.add(tf.randomUniform([4, 9], 0, 1, 'float32', 'seed/7'), 0.7)), 0.7);
    expect(Array.from(m.dataSync())).toEqual(Array.from(composite.dataSync()));
    tf.dispose([m, composite]);
  });
});
