import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers'; // stock gradients (tfjs-core's Node entry registers none)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { nativeAddonStatus } from './addon.js';
import { registerNativeBackend } from './native-backend.js';
import { nativeSkipOptions } from './native-test-skip.js';
import { SparseConvOps, type SparseConvUnit, sparseConvOpAddonOf } from './sparse-conv-op.js';
import { convGeometry, scatterConvDense, sparseConvFromDense } from './sparse-conv-layout.js';
import { paddedBatch } from './sparse-layout.js';
import { randomData, rng } from './test-helpers.js';

// The sparse conv op of the graph trainer (issue 9): the NHWC <-> channel-major conversions against a plain
// reference on odd shapes for every ISA of this machine (batch 1, batches that are not multiples of 16, channel
// tails), and the op against tf.conv2d with the masked dense filter: forward, input gradient, the dense filter
// gradient of the window and the weight gradient at the nonzeros (read back from a plain SGD step, lr 1).
const status = nativeAddonStatus();
const addon = sparseConvOpAddonOf(status.addon);
const suite = nativeSkipOptions(addon ? null : `no sparse conv op kernels (${status.reason})`);

function toCmReference(x: Float32Array, n: number, p: number, c: number, bp: number): Float32Array {
  const y = new Float32Array(c * p * bp);
  for (let b = 0; b < n; b++) for (let q = 0; q < p; q++) for (let ch = 0; ch < c; ch++) y[(ch * p + q) * bp + b] = x[(b * p + q) * c + ch];
  return y;
}

describe('NHWC <-> channel-major conversions', suite, () => {
  const isas = status.addon?.info().isas ?? [];
  const active = status.addon?.info().isa;
  afterAll(() => {
    if (active) status.addon?.setIsa?.(active);
  });
  for (const isa of isas) {
    it(`${isa}: both directions equal the reference (batch 1, 17, 33; channels 1, 5, 16, 17, 40; odd pixel counts)`, () => {
      expect(status.addon!.setIsa!(isa)).toBe(true);
      for (const [n, p, c] of [
        [1, 1, 1],
        [1, 7, 5],
        [17, 9, 16],
        [33, 5, 17],
        [16, 3, 40],
        [3, 35, 33],
      ]) {
        const bp = paddedBatch(n);
        const x = randomData(n * p * c, n * 100 + c);
        // Garbage in the destination: the padding columns must be written as 0.
        const y = new Float32Array(c * p * bp).fill(7);
        addon!.sparseNhwcToCm(x, y, n, p, c, bp);
        expect(y).toEqual(toCmReference(x, n, p, c, bp));
        const back = new Float32Array(n * p * c).fill(7);
        addon!.sparseCmToNhwc(y, back, n, p, c, bp);
        expect(back).toEqual(x);
      }
    });
  }

  it('rejects a bp that is not a multiple of 16 or smaller than the batch, naming the rule', () => {
    expect(() => addon!.sparseNhwcToCm(new Float32Array(20), new Float32Array(20), 2, 5, 2, 8)).toThrow(/multiple of 16/);
    expect(() => addon!.sparseNhwcToCm(new Float32Array(20 * 17), new Float32Array(1000), 17, 5, 4, 16)).toThrow(/bp >= n/);
  });
});

describe('the sparse conv op against tf.conv2d with the masked filter', suite, () => {
  const name = 'native-sparse-op-test';
  let previous = '';
  beforeAll(async () => {
    expect(registerNativeBackend({ name, base: 'wasm', addon: status.addon ?? undefined })).toBe(true);
    await tf.ready();
    previous = tf.getBackend();
    await tf.setBackend(name);
  });
  afterAll(async () => {
    await tf.setBackend(previous);
  });

  // [n, h, w, cin, cout, k, stride, explicit padding (the folded ZeroPadding2D) or 'same'/'valid']
  const cases: [number, number, number, number, number, number, number, number | 'same' | 'valid', number][] = [
    [3, 7, 9, 5, 6, 3, 1, 'same', 0.4],
    // So sparse that some input and output channels have no entry at all.
    [16, 14, 14, 64, 64, 3, 1, 'same', 0.004],
    [1, 8, 8, 4, 7, 3, 2, 1, 0.4],
    [17, 6, 5, 3, 4, 1, 2, 'valid', 0.4],
  ];
  for (const [n, h, w, cin, cout, k, stride, pad, density] of cases) {
    it(`batch ${n}, ${h}×${w}×${cin} → ${cout}, ${k}×${k} stride ${stride} padding ${pad}, density ${density}: forward, input gradient, dense filter gradient, gradient at the nonzeros`, () => {
      const r = rng(n * 7 + cout);
      const dense = Float32Array.from({ length: k * k * cin * cout }, () => (r() < density ? r() * 2 - 1 : 0));
      const layer = sparseConvFromDense(dense, null, k, k, cin, cout);
      const geometry =
        typeof pad === 'number'
          ? (() => {
              const oh = Math.floor((h + 2 * pad - k) / stride) + 1;
              const ow = Math.floor((w + 2 * pad - k) / stride) + 1;
              return { oh, ow, padTop: pad, padLeft: pad, geom: Int32Array.from([h, w, oh, ow, stride, stride, pad, pad]) };
            })()
          : convGeometry(h, w, k, k, [stride, stride], pad);
      const ops = new SparseConvOps(addon!, name);
      const unit: SparseConvUnit = ops.add({
        layer,
        geometry,
        needsInputGradient: true,
        sgd: { lr: 0, momentum: 0, weightDecay: 0, nesterov: false },
        denseGradient: new Float32Array(dense.length),
      });
      const anchor = tf.variable(tf.scalar(0));
      const before = tf.memory().numTensors;
      const x = tf.tensor4d(randomData(n * h * w * cin, 3), [n, h, w, cin]);
      const weights = tf.tensor4d(randomData(n * geometry.oh * geometry.ow * cout, 4), [n, geometry.oh, geometry.ow, cout]);
      const filter = tf.tensor4d(dense, [k, k, cin, cout]);
      const reference = (a: tf.Tensor4D, f: tf.Tensor4D) => {
        const padded = typeof pad === 'number' ? tf.pad(a, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) : a;
        return tf.conv2d(padded as tf.Tensor4D, f, stride, typeof pad === 'number' ? 'valid' : pad);
      };
      const expectedY = tf.tidy(() => reference(x, filter));
      const [expectedDx, expectedDw] = tf.grads((a: tf.Tensor, f: tf.Tensor) => tf.sum(tf.mul(reference(a as tf.Tensor4D, f as tf.Tensor4D), weights)))([x, filter]);
      ops.beginPass();
      const y = ops.apply(unit, x, anchor);
      expect(y.shape).toEqual(expectedY.shape);
      expectCloseArrays(y.dataSync(), expectedY.dataSync(), 1e-5);
      // Input gradient with lr 0 (the weights stay as they are), then one plain SGD step with lr 1: it moves
      // each nonzero by its gradient.
      unit.sgd = { lr: 0, momentum: 0, weightDecay: 0, nesterov: false };
      const dx = tf.grad((a: tf.Tensor) => {
        ops.beginPass();
        return tf.sum(tf.mul(ops.apply(unit, a, anchor), weights));
      })(x);
      expectCloseArrays(dx.dataSync(), expectedDx.dataSync(), 1e-5);
      const valsBefore = layer.vals.slice();
      unit.sgd = { lr: 1, momentum: 0, weightDecay: 0, nesterov: false };
      ops.beginPass();
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(ops.apply(unit, x, anchor), weights)) as tf.Scalar, [anchor]);
      // The window's dense filter gradient: every position.
      const dW = expectedDw.dataSync();
      expectCloseArrays(unit.denseGradient!, dW, 1e-4);
      const moved = scatterConvDense(layer, Float32Array.from(layer.vals, (v, i) => valsBefore[i] - v));
      const maskedDw = Float32Array.from(dW, (g, i) => (dense[i] !== 0 ? g : 0));
      expectCloseArrays(moved, maskedDw, 1e-4);
      tf.dispose([value, ...Object.values(grads), dx, x, weights, filter, expectedY, expectedDx, expectedDw, y]);
      expect(tf.memory().numTensors).toBe(before);
      anchor.dispose();
      ops.dispose();
    });
  }
});

function expectCloseArrays(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]) / Math.max(1, Math.abs(expected[i])));
  expect(worst).toBeLessThan(tolerance);
}
