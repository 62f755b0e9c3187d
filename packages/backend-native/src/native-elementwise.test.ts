/**
 * Threaded element-wise kernels of the native backend (issue 10): `Add`, `Sub`, `Multiply`, `RealDiv` (same
 * shape or a scalar operand), `Relu`, `Step`, `Floor`, same-dtype `Cast` (an alias) and `Slice` (block copies)
 * on large tensors, bit for bit against the
 * stock cpu kernels, on every ISA variant and 1 and 2 threads, on both bases, without tensor leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';

import { nativeAddonStatus } from './addon.js';
import { registerNativeBackend } from './native-backend.js';
import { nativeSkipOptions } from './native-test-skip.js';
import { input, runOn } from './test-helpers.js';

const status = nativeAddonStatus();
const addon = status.addon;
// Without an addon that has the kernels the suites are reported as skipped with the reason.
const suite = nativeSkipOptions(addon?.binaryOp ? null : addon ? 'addon without binaryOp (version < 6)' : status.reason);

/**
 * Bit patterns, so -0/+0 count; NaNs compare as NaN whatever their sign bit (tfjs-cpu's relu returns a
 * negative quiet NaN for a positive one: JavaScript does not preserve NaN payloads).
 */
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length), (b, i) => (Number.isNaN(a[i]) ? -1 : b));

// [3, 37, 41, 5] = 22 755 values: above the native threshold, odd, and not a multiple of any vector width;
// [5, 131, 211] = 138 205: split over two threads. Specials (±0, ±inf, NaN, huge/tiny) are planted.
const SHAPES = [[3, 37, 41, 5], [5, 131, 211]];
function withSpecials(shape: number[], seed: number) {
  const i = input(shape, seed);
  const specials = [0, -0, Infinity, -Infinity, NaN, 3e38, -1e-38, 1e-45];
  specials.forEach((v, k) => (i.data[(k * 7919 + seed) % i.data.length] = v));
  return i;
}

for (const base of ['wasm', 'cpu'] as const) {
  const name = `elementwise-test-${base}`;
  describe(`backend ${name}: threaded element-wise kernels`, suite, () => {
    beforeAll(() => {
      expect(registerNativeBackend({ name, base, addon: addon ?? undefined })).toBe(true);
    });

    const isas = addon?.info().isas ?? [];
    const active = addon?.info().isa;
    for (const shape of SHAPES) {
      it(`[${shape.join(',')}]: same-shape and scalar Add/Sub/Multiply/RealDiv, Relu, Step, Floor, Cast, Slice equal the cpu kernels bit for bit`, async () => {
        const inputs = [withSpecials(shape, 1), withSpecials(shape, 2), input([], 3), input([1, 1], 4)];
        const fn = (a: tf.Tensor, b: tf.Tensor, s: tf.Tensor, s2: tf.Tensor) => [
          tf.add(a, b), tf.sub(a, b), tf.mul(a, b), tf.div(a, b),
          tf.add(a, s), tf.sub(s, a), tf.mul(s2, a), tf.div(a, s), tf.div(s, b),
          tf.relu(a), tf.cast(a, 'float32'), tf.step(a), tf.step(a, 0.25), tf.floor(tf.mul(a, 7.5)),
          // Slices: a stride-2 pad gradient's crop, a partial last axis, a whole-row block, a single leading index.
          tf.slice(a, [1, 1, 0], [shape[0] - 1, shape[1] - 2, -1]),
          tf.slice(a, [0, 0, 1], [-1, -1, shape[2] - 2]),
          tf.slice(a, [1], [1]),
          // Not handled natively (per-channel broadcast): the stock kernel, same numbers.
          tf.mul(a, tf.slice(tf.reshape(b, [-1]), [0], [shape[shape.length - 1]])),
        ];
        const expected = await runOn('cpu', inputs, fn);
        try {
          for (const isa of isas) {
            expect(addon!.setIsa!(isa)).toBe(true);
            for (const threads of [1, 2]) {
              addon!.setThreads(threads);
              const actual = await runOn(name, inputs, fn);
              actual.forEach((o, k) => {
                expect(o.shape, `output ${k}`).toEqual(expected[k].shape);
                expect(bits(o.data), `output ${k}, ${isa}, ${threads} threads`).toEqual(bits(expected[k].data));
              });
            }
          }
        } finally {
          if (active) addon!.setIsa!(active);
          addon!.setThreads(2);
        }
      });
    }

    it('Cast to the same dtype aliases the input (no copy); other casts and small tensors use the stock kernels', async () => {
      expect(await tf.setBackend(name)).toBe(true);
      const before = tf.memory().numTensors;
      const x = tf.tensor(input([200, 100], 5).data, [200, 100]);
      const dataIds = tf.memory().numDataBuffers;
      const same = tf.cast(x, 'float32');
      expect(tf.memory().numDataBuffers).toBe(dataIds);
      const asInt = tf.tidy(() => tf.cast(tf.mul(x, 10), 'int32'));
      expect(asInt.dtype).toBe('int32');
      expect(Array.from(asInt.dataSync().slice(0, 3))).toEqual(Array.from(x.dataSync().slice(0, 3)).map((v) => Math.trunc(v * 10)));
      const small = tf.tidy(() => tf.add(tf.tensor([1, 2, 3]), tf.tensor([0.5, 0.25, -3])));
      expect(Array.from(small.dataSync())).toEqual([1.5, 2.25, 0]);
      const head = Array.from(x.dataSync().slice(0, 2));
      x.dispose();
      // The alias keeps the data alive after the input is disposed.
      expect(Array.from(same.dataSync().slice(0, 2))).toEqual(head);
      tf.dispose([same, asInt, small]);
      expect(tf.memory().numTensors).toBe(before);
    });

    it('addon binaryOp / unaryOp reject a mismatched operand and an unknown kind', () => {
      expect(() => addon!.unaryOp!(1, new Float32Array(3), new Float32Array(2))).toThrow(/same length/);
      expect(() => addon!.unaryOp!(5 as never, new Float32Array(3), new Float32Array(3))).toThrow(/0 \(relu\)/);
      expect(() => addon!.binaryOp!(2, new Float32Array(3), new Float32Array(2), new Float32Array(3))).toThrow(/length of out or 1/);
      expect(() => addon!.binaryOp!(7 as never, new Float32Array(3), new Float32Array(3), new Float32Array(3))).toThrow(/0 \(add\)/);
    });
  });
}
