/**
 * The dropout multiplier drawn natively (wrn-parity, issue 10): the addon's `dropoutMask` against tfjs's own
 * JavaScript draw and add/floor/div chain on cpu — bit for bit, for odd sizes, several rates and seeds, every
 * ISA variant and 1, 2 and 3 pool threads (the draw is sequential: the thread count must not matter) — and
 * core's `seededDropout` on the native backends (wasm and cpu base): values and gradient equal to `tf.dropout`
 * on cpu, without tensor leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers'; // stock gradients (tfjs-core's Node entry registers none)
import { beforeAll, describe, expect, it } from 'vitest';

import { DROPOUT_MASK_KERNEL, aleaState, seededDropout } from '@sparse-learning/core';

import { nativeAddonStatus } from './addon.js';
import { registerNativeBackend } from './native-backend.js';
import { DROPOUT_MASK_KERNEL_NAME } from './native-kernels.js';
import { nativeSkipOptions } from './native-test-skip.js';
import { input, runOn } from './test-helpers.js';

const status = nativeAddonStatus();
const addon = status.addon;
const suite = nativeSkipOptions(addon?.dropoutMask ? null : addon ? 'addon without dropoutMask (built before wrn-parity)' : status.reason);

it('the native kernel name is the one core looks up', () => {
  expect(DROPOUT_MASK_KERNEL_NAME).toBe(DROPOUT_MASK_KERNEL);
});

/** tf.dropout's multiplier as tfjs computes it (JavaScript draw, then add, floor, div), on cpu. */
async function composite(n: number, rate: number, seed: string): Promise<Float32Array> {
  expect(await tf.setBackend('cpu')).toBe(true);
  return tf.tidy(() => tf.div(tf.floor(tf.add(tf.randomUniform([n], 0, 1, 'float32', seed), 1 - rate)), 1 - rate).dataSync() as Float32Array);
}

/** How many of the first n draws take the generator's rare carry (floor(t) = floor(2091639·s0) + 1). */
function carries(seed: string, n: number): number {
  let { s0, s1, s2, c } = aleaState(seed);
  let count = 0;
  for (let i = 0; i < n; i += 1) {
    const t = 2091639 * s0 + c * 2.3283064365386963e-10;
    if (Math.floor(t) !== Math.floor(2091639 * s0)) count += 1;
    s0 = s1;
    s1 = s2;
    c = t | 0;
    s2 = t - c;
  }
  return count;
}

describe('addon dropoutMask', suite, () => {
  it('hand-worked: keep 1 gives all ones; keep 0.5 gives only 0 and 2', () => {
    const { s0, s1, s2, c } = aleaState('k');
    const ones = new Float32Array(9);
    addon!.dropoutMask!(ones, 1, s0, s1, s2, c);
    expect(Array.from(ones)).toEqual(new Array(9).fill(1));
    const half = new Float32Array(1000);
    addon!.dropoutMask!(half, 0.5, s0, s1, s2, c);
    const zeros = half.filter((v) => v === 0).length;
    expect(half.every((v) => v === 0 || v === 2)).toBe(true);
    expect(zeros).toBeGreaterThan(430);
    expect(zeros).toBeLessThan(570);
  });

  it('rejects a keep probability outside (0, 1] and a non-Float32Array output, naming them', () => {
    expect(() => addon!.dropoutMask!(new Float32Array(2), 0, 0.1, 0.2, 0.3, 1)).toThrow(/keepProb must be in \(0, 1\]/);
    expect(() => addon!.dropoutMask!(new Float32Array(2), 1.5, 0.1, 0.2, 0.3, 1)).toThrow(/keepProb/);
    expect(() => addon!.dropoutMask!(new Float64Array(2) as unknown as Float32Array, 0.5, 0.1, 0.2, 0.3, 1)).toThrow(/out must be a Float32Array/);
  });

  it('a state that is not a seedrandom state (s not a multiple of 2^-32) runs the double recurrence literally', () => {
    // The addon's integer form needs s = k·2^-32; any other state takes the double loop. Reference: Alea's
    // step in JavaScript doubles, then the mask in float32.
    const keep = Math.fround(0.7);
    let [s0, s1, s2, c] = [0.1, 0.2, 0.3, 5];
    const expected = new Float32Array(5000);
    for (let i = 0; i < expected.length; i += 1) {
      const t = 2091639 * s0 + c * 2.3283064365386963e-10;
      s0 = s1;
      s1 = s2;
      c = t | 0;
      s2 = t - c;
      expected[i] = Math.fround(Math.floor(Math.fround(Math.fround(s2) + keep)) / keep);
    }
    const out = new Float32Array(expected.length);
    addon!.dropoutMask!(out, keep, 0.1, 0.2, 0.3, 5);
    expect(Array.from(out)).toEqual(Array.from(expected));
  });

  const isas = addon?.info().isas ?? [];
  const active = addon?.info().isa;
  // 100 003 draws take the carry branch dozens of times (asserted), so both paths of the loop are compared.
  for (const [n, rate, seed] of [[100_003, 0.3, '1/dropout/0/0/0'], [4097, 0.5, 'x'], [1, 0.3, ''], [777, 0.999, '5/dropout/2'], [31, 1e-4, 'ä/1']] as const) {
    it(`n ${n}, rate ${rate}, seed '${seed}': bit-identical to tfjs's chain on every ISA variant and 1, 2, 3 threads`, async () => {
      const expected = await composite(n, rate, seed);
      if (n > 100_000) expect(carries(seed, n)).toBeGreaterThan(10);
      const { s0, s1, s2, c } = aleaState(seed);
      try {
        for (const isa of isas) {
          expect(addon!.setIsa!(isa)).toBe(true);
          for (const threads of [1, 2, 3]) {
            addon!.setThreads(threads);
            const out = new Float32Array(n);
            addon!.dropoutMask!(out, Math.fround(1 - rate), s0, s1, s2, c);
            let first = -1;
            for (let i = 0; i < n && first < 0; i += 1) if (!Object.is(out[i], expected[i])) first = i;
            expect(first, `${isa}, ${threads} threads: first differing element`).toBe(-1);
          }
        }
      } finally {
        if (active) addon!.setIsa!(active);
        addon!.setThreads(2);
      }
    });
  }
});

for (const base of ['wasm', 'cpu'] as const) {
  const name = `dropout-test-${base}`;
  describe(`backend ${name}: core's seededDropout`, suite, () => {
    beforeAll(() => {
      expect(registerNativeBackend({ name, base, addon: addon ?? undefined })).toBe(true);
      addon!.setThreads(2);
    });

    for (const shape of [[3, 5, 7, 11], [32, 8, 8, 9]]) {
      it(`[${shape.join(',')}]: values and the gradient equal tf.dropout on cpu bit for bit`, async () => {
        expect(tf.getKernel(DROPOUT_MASK_KERNEL, name)).toBeDefined();
        const inputs = [input(shape, 1), input(shape, 2)];
        const ours = (x: tf.Tensor, w: tf.Tensor) => {
          const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(seededDropout(a, 0.3, 'run/dropout/4/17/2'), w)));
          return [seededDropout(x, 0.3, 'run/dropout/4/17/2'), g(x)];
        };
        const stock = (x: tf.Tensor, w: tf.Tensor) => {
          const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.dropout(a, 0.3, undefined, 'run/dropout/4/17/2'), w)));
          return [tf.dropout(x, 0.3, undefined, 'run/dropout/4/17/2'), g(x)];
        };
        const expected = await runOn('cpu', inputs, stock);
        const actual = await runOn(name, inputs, ours);
        actual.forEach((a, i) => expect(Array.from(a.data)).toEqual(Array.from(expected[i].data)));
      });
    }
  });
}
