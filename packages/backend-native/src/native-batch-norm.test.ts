/**
 * Native batch norm in training mode (issue 10): the addon's `batchNormTrain` / `batchNormTrainGrad` against a
 * double-precision reference on odd sizes, every ISA variant and 1 and 2 threads; and core's `batchNormTrain`
 * op on the native backends (wasm and cpu base) against the stock composite (`tf.moments` + `tf.batchNorm` and
 * tfjs's gradients) on cpu, without tensor leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers'; // stock gradients (tfjs-core's Node entry registers none)
import { beforeAll, describe, expect, it } from 'vitest';

import { BATCH_NORM_TRAIN_GRAD_KERNEL, BATCH_NORM_TRAIN_KERNEL, batchNormTrain } from '@sparse-learning/core';

import { nativeAddonStatus } from './addon.js';
import { registerNativeBackend } from './native-backend.js';
import { BATCH_NORM_TRAIN_GRAD_KERNEL_NAME, BATCH_NORM_TRAIN_KERNEL_NAME } from './native-kernels.js';
import { nativeSkipOptions } from './native-test-skip.js';
import { expectClose, input, randomData, runOn } from './test-helpers.js';

const status = nativeAddonStatus();
const addon = status.addon;
// Without an addon that has the kernels the suites are reported as skipped with the reason.
const suite = nativeSkipOptions(addon?.batchNormTrain ? null : addon ? 'addon without batchNormTrain (version < 6)' : status.reason);

it('the native kernel names are the ones core looks up', () => {
  expect(BATCH_NORM_TRAIN_KERNEL_NAME).toBe(BATCH_NORM_TRAIN_KERNEL);
  expect(BATCH_NORM_TRAIN_GRAD_KERNEL_NAME).toBe(BATCH_NORM_TRAIN_GRAD_KERNEL);
});

/** Forward and backward of training-mode batch norm in double precision. */
function reference(x: Float32Array, dy: Float32Array, gamma: Float32Array, beta: Float32Array, channels: number, eps: number) {
  const rows = x.length / channels;
  const mean = new Float64Array(channels);
  const variance = new Float64Array(channels);
  for (let r = 0; r < rows; r += 1) for (let c = 0; c < channels; c += 1) mean[c] += x[r * channels + c] / rows;
  for (let r = 0; r < rows; r += 1) for (let c = 0; c < channels; c += 1) variance[c] += (x[r * channels + c] - mean[c]) ** 2 / rows;
  const inv = variance.map((v) => 1 / Math.sqrt(v + eps));
  const y = new Float64Array(x.length);
  const sdy = new Float64Array(channels);
  const sdyx = new Float64Array(channels);
  for (let r = 0; r < rows; r += 1) {
    for (let c = 0; c < channels; c += 1) {
      const i = r * channels + c;
      const xhat = (x[i] - mean[c]) * inv[c];
      y[i] = xhat * gamma[c] + beta[c];
      sdy[c] += dy[i];
      sdyx[c] += dy[i] * xhat;
    }
  }
  const dx = new Float64Array(x.length);
  for (let r = 0; r < rows; r += 1) {
    for (let c = 0; c < channels; c += 1) {
      const i = r * channels + c;
      const xhat = (x[i] - mean[c]) * inv[c];
      dx[i] = gamma[c] * inv[c] * (dy[i] - sdy[c] / rows - (xhat * sdyx[c]) / rows);
    }
  }
  return { y, mean, variance, inv, dx, dgamma: sdyx, dbeta: sdy };
}

/** max |a − e| / (1 + |e|). */
function worst(a: Float32Array, e: Float64Array): number {
  let w = 0;
  for (let i = 0; i < e.length; i += 1) w = Math.max(w, Math.abs(a[i] - e[i]) / (1 + Math.abs(e[i])));
  return w;
}

describe('addon batchNormTrain / batchNormTrainGrad', suite, () => {
  it('hand-worked: two rows normalise to ∓1 (eps 0), and the input gradient of two rows is 0', () => {
    const x = Float32Array.from([1, 10, 3, 30]);
    const [y, mean, variance, inv] = [4, 2, 2, 2].map((n) => new Float32Array(n));
    addon!.batchNormTrain!(x, Float32Array.from([2, 1]), Float32Array.from([0.5, -1]), 2, 0, y, mean, variance, inv);
    expect(Array.from(mean)).toEqual([2, 20]);
    expect(Array.from(variance)).toEqual([1, 100]);
    expect(Array.from(inv)).toEqual([1, Math.fround(0.1)]);
    // (x − mean)·scale + β may be one fused multiply-add (AVX2/AVX-512 variants): exact to float rounding.
    [-1.5, -2, 2.5, 0].forEach((v, i) => expect(y[i]).toBeCloseTo(v, 6));
    const [dx, dgamma, dbeta] = [4, 2, 2].map((n) => new Float32Array(n));
    addon!.batchNormTrainGrad!(Float32Array.from([1, 2, 0, 5]), x, mean, inv, Float32Array.from([2, 1]), 2, dx, dgamma, dbeta);
    expect(Array.from(dbeta)).toEqual([1, 7]);
    // dγ = Σ dy·x̂ with x̂ = (−1, 1) per channel.
    expect(Array.from(dgamma)).toEqual([-1, 3]);
    dx.forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-7));
  });

  it('rejects operands of the wrong length, naming them', () => {
    const c = () => new Float32Array(3);
    expect(() => addon!.batchNormTrain!(new Float32Array(7), null, null, 3, 1e-5, new Float32Array(7), c(), c(), c())).toThrow(/\[rows, channels\]/);
    expect(() => addon!.batchNormTrain!(new Float32Array(6), new Float32Array(2), null, 3, 1e-5, new Float32Array(6), c(), c(), c())).toThrow(/gamma and beta/);
    expect(() => addon!.batchNormTrainGrad!(new Float32Array(6), new Float32Array(6), c(), c(), null, 3, new Float32Array(5), null, null)).toThrow(/x and dx/);
  });

  const isas = addon?.info().isas ?? [];
  const active = addon?.info().isa;
  // Odd sizes; [2003, 37] (74 111 values) is above the threading threshold; the mean is offset by 5 so the
  // variance is not the raw second moment.
  for (const [rows, channels] of [[37, 13], [2003, 37], [4, 1]] as const) {
    it(`[${rows}, ${channels}] on every ISA variant and 1 and 2 threads matches double precision`, () => {
      const n = rows * channels;
      const x = randomData(n, 1).map((v, i) => 5 + v * (1 + (i % channels)));
      const dy = randomData(n, 2);
      const gamma = randomData(channels, 3).map((v) => 1 + v / 2);
      const beta = randomData(channels, 4);
      const eps = 1e-5;
      const ref = reference(x, dy, gamma, beta, channels, eps);
      try {
        for (const isa of isas) {
          expect(addon!.setIsa!(isa)).toBe(true);
          for (const threads of [1, 2]) {
            addon!.setThreads(threads);
            const [y, mean, variance, inv] = [n, channels, channels, channels].map((k) => new Float32Array(k));
            addon!.batchNormTrain!(x, gamma, beta, channels, eps, y, mean, variance, inv);
            const at = `${isa}, ${threads} threads`;
            expect(worst(mean, ref.mean), at).toBeLessThan(1e-6);
            expect(worst(variance, ref.variance), at).toBeLessThan(1e-6);
            expect(worst(inv, ref.inv), at).toBeLessThan(1e-6);
            expect(worst(y, ref.y), at).toBeLessThan(1e-5);
            const [dx, dgamma, dbeta] = [n, channels, channels].map((k) => new Float32Array(k));
            addon!.batchNormTrainGrad!(dy, x, mean, inv, gamma, channels, dx, dgamma, dbeta);
            expect(worst(dbeta, ref.dbeta), at).toBeLessThan(1e-5);
            expect(worst(dgamma, ref.dgamma), at).toBeLessThan(1e-5);
            expect(worst(dx, ref.dx), at).toBeLessThan(1e-5);
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
  const name = `bn-test-${base}`;
  describe(`backend ${name}: core's batchNormTrain`, suite, () => {
    beforeAll(() => {
      expect(registerNativeBackend({ name, base, addon: addon ?? undefined })).toBe(true);
      addon!.setThreads(2);
    });

    for (const shape of [[3, 5, 7, 11], [9, 6], [32, 4, 4, 19]]) {
      it(`[${shape.join(',')}]: y, statistics and the gradients of x, γ, β equal the stock composite on cpu`, async () => {
        const channels = shape[shape.length - 1];
        const inputs = [input(shape, 1), input([channels], 2), input([channels], 3), input(shape, 4)];
        // Offset and scaled input, non-trivial γ; the loss Σ y·w gives dy = w.
        const fn = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, w: tf.Tensor) => {
          const xs = tf.add(tf.mul(x, 3), 2);
          const gamma = tf.add(g, 1.5);
          const grads = tf.grads((a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(batchNormTrain(a, gg, bb, 1e-5).y, w)));
          const out = batchNormTrain(xs, gamma, b, 1e-5);
          return [out.y, out.mean, out.variance, ...grads([xs, gamma, b])];
        };
        expect(tf.getKernel(BATCH_NORM_TRAIN_KERNEL, name)).toBeDefined();
        const expected = await runOn('cpu', inputs, fn);
        const actual = await runOn(name, inputs, fn);
        expectClose(actual, expected, 2e-5);
      });
    }

    it('the stock wasm backend (no kernel) runs the composite, bit for bit as before', async () => {
      expect(tf.getKernel(BATCH_NORM_TRAIN_KERNEL, 'wasm')).toBeUndefined();
      const inputs = [input([4, 3, 5], 1), input([5], 2), input([5], 3)];
      const fused = await runOn('wasm', inputs, (x, g, b) => {
        const o = batchNormTrain(x, g, b, 1e-5);
        return [o.y, o.mean, o.variance];
      });
      const composite = await runOn('wasm', inputs, (x, g, b) => {
        const { mean, variance } = tf.moments(x, [0, 1]);
        return [tf.batchNorm(x, mean, variance, b, g, 1e-5), mean, variance];
      });
      fused.forEach((o, i) => expect(Array.from(o.data)).toEqual(Array.from(composite[i].data)));
    });
  });
}
