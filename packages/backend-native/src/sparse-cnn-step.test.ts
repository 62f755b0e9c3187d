import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers'; // stock gradients (tfjs-core's Node entry registers none)
import { SparseLearningError } from '@sparse-learning/core';
import { beforeAll, describe, expect, it } from 'vitest';

import { nativeAddonStatus } from './addon.js';
import { nativeSkipOptions } from './native-test-skip.js';
import { SparseCnnStep, channelMajorRows, sparseCnnAddonOf, type SparseCnnSgd } from './sparse-cnn-step.js';
import { fromChannelMajor, scatterConvDense, sparseConvFromDense, toChannelMajor } from './sparse-conv-layout.js';
import { paddedBatch, scatterDense, sparseLayerFromDense } from './sparse-layout.js';
import { rng } from './test-helpers.js';

// A sparse LeNet-5-Caffe step (sparse conv + pooling + sparse Dense, issue 9) against the masked dense step
// on tfjs's cpu backend: same weights and masks, PyTorch SGD (Nesterov, weight decay), weights re-masked after
// every masked step. Over several steps the losses, active weights and biases must agree (relative 1e-5; seen:
// ≈ 3e-8 after 3 steps).
const status = nativeAddonStatus();
const addon = sparseCnnAddonOf(status.addon);
const suite = nativeSkipOptions(addon ? null : `no sparse CNN kernels (${status.reason})`);

// LeNet-5-Caffe: conv1 1→20 5×5, ReLU, pool 2; conv2 20→50 5×5, ReLU, pool 2; fc3 800→500 ReLU; fc4 500→10.
const SHAPES = { conv1: [5, 5, 1, 20], conv2: [5, 5, 20, 50], fc3: [800, 500], fc4: [500, 10] } as const;
type Name = keyof typeof SHAPES;
const NAMES: Name[] = ['conv1', 'conv2', 'fc3', 'fc4'];
const SGD: SparseCnnSgd = { lr: 0.05, momentum: 0.9, weightDecay: 5e-4, nesterov: true };

interface Params {
  weights: Record<Name, Float32Array>;
  biases: Record<Name, Float32Array>;
  masks: Record<Name, Uint8Array>;
}

function makeParams(density: number, seed: number): Params {
  const r = rng(seed);
  const weights = {} as Record<Name, Float32Array>;
  const biases = {} as Record<Name, Float32Array>;
  const masks = {} as Record<Name, Uint8Array>;
  for (const n of NAMES) {
    const shape: readonly number[] = SHAPES[n];
    const size = shape.reduce((x, y) => x * y, 1);
    const fanIn = size / shape[shape.length - 1];
    const bound = 1 / Math.sqrt(fanIn * density);
    masks[n] = Uint8Array.from({ length: size }, () => (r() < density ? 1 : 0));
    weights[n] = Float32Array.from(masks[n], (m) => (m ? (r() * 2 - 1) * bound : 0));
    biases[n] = Float32Array.from({ length: shape[shape.length - 1] }, () => (r() * 2 - 1) * 0.1);
  }
  return { weights, biases, masks };
}

/** The masked dense step on tfjs's cpu backend; mutates `p` and the momentum buffers; returns the loss. */
function maskedStep(p: Params, bufs: Record<string, Float32Array>, x: Float32Array, labels: Int32Array, batch: number): number {
  const vars = NAMES.flatMap((n) => [tf.variable(tf.tensor(p.weights[n], [...SHAPES[n]]), true, `${n}.w`), tf.variable(tf.tensor1d(p.biases[n]), true, `${n}.b`)]);
  const [c1w, c1b, c2w, c2b, f3w, f3b, f4w, f4b] = vars;
  const { value, grads } = tf.variableGrads(() =>
    tf.tidy(() => {
      const input = tf.tensor4d(x, [batch, 28, 28, 1]);
      let h: tf.Tensor4D = tf.maxPool(tf.relu(tf.add(tf.conv2d(input, c1w as tf.Tensor4D, 1, 'valid'), c1b)) as tf.Tensor4D, 2, 2, 'valid');
      h = tf.maxPool(tf.relu(tf.add(tf.conv2d(h, c2w as tf.Tensor4D, 1, 'valid'), c2b)) as tf.Tensor4D, 2, 2, 'valid');
      const flat = tf.reshape(h, [batch, 800]);
      const hidden = tf.relu(tf.add(tf.matMul(flat, f3w as tf.Tensor2D), f3b));
      const logits = tf.add(tf.matMul(hidden, f4w as tf.Tensor2D), f4b);
      const onehot = tf.oneHot(tf.tensor1d(labels.subarray(0, batch), 'int32'), 10);
      return tf.mean(tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1))) as tf.Scalar;
    }),
  );
  const loss = value.dataSync()[0];
  for (const n of NAMES) {
    for (const [kind, target] of [['w', p.weights[n]], ['b', p.biases[n]]] as const) {
      const key = `${n}.${kind}`;
      const grad = grads[key].dataSync();
      bufs[key] ??= new Float32Array(target.length);
      const buf = bufs[key];
      for (let k = 0; k < target.length; k++) {
        const g = Math.fround(grad[k] + Math.fround(target[k] * SGD.weightDecay));
        buf[k] = Math.fround(Math.fround(buf[k] * SGD.momentum) + g);
        const upd = Math.fround(g + Math.fround(buf[k] * SGD.momentum));
        target[k] = Math.fround(target[k] - Math.fround(upd * SGD.lr));
      }
      if (kind === 'w') for (let k = 0; k < target.length; k++) if (!p.masks[n][k]) target[k] = 0;
    }
  }
  tf.dispose([value, ...Object.values(grads), ...vars]);
  return loss;
}

function expectNear(actual: Float32Array, expected: Float32Array, tol: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let k = 0; k < expected.length; k++) {
    const err = Math.abs(actual[k] - expected[k]) / (1 + Math.abs(expected[k]));
    if (!(err <= worst)) [worst, at] = [Number.isNaN(err) ? Infinity : err, k];
  }
  expect(worst, `${what}: worst relative error at ${at}: ${actual[at]} vs ${expected[at]}`).toBeLessThan(tol);
}

describe('sparse LeNet-5 step vs the masked dense step (tfjs cpu)', suite, () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('reorders NHWC-flatten rows into channel-major rows', () => {
    // c 2, h 1, w 2, out 1: NHWC rows (p0 c0, p0 c1, p1 c0, p1 c1) → channel-major (c0 p0, c0 p1, c1 p0, c1 p1).
    expect(Array.from(channelMajorRows(Float32Array.from([1, 2, 3, 4]), 2, 1, 2, 1))).toEqual([1, 3, 2, 4]);
    expect(() => channelMajorRows(new Float32Array(3), 2, 1, 2, 1)).toThrow(SparseLearningError);
  });

  for (const [c, h, w, n] of [
    [3, 6, 8, 5],
    [2, 7, 5, 17],
  ] as const) {
    it(`2×2 max pooling and its gradient (ReLU fused) on ${c}×${h}×${w}, batch ${n}: as tf.maxPool on relu'd data with ties`, () => {
      const r = rng(c * h * w * n);
      // ReLU outputs: a third zeros, and ties (repeated values) inside windows.
      const xN = Float32Array.from({ length: n * h * w * c }, () => (r() < 0.33 ? 0 : Math.round(r() * 4) / 4));
      const oh = Math.floor(h / 2);
      const ow = Math.floor(w / 2);
      const dyN = Float32Array.from({ length: n * oh * ow * c }, () => r() * 2 - 1);
      const [yRef, dxRef] = tf.tidy(() => {
        const x = tf.tensor4d(xN, [n, h, w, c]);
        const dy = tf.tensor4d(dyN, [n, oh, ow, c]);
        const y = tf.maxPool(x, 2, 2, 'valid');
        // The gradient through relu(maxPool(·)) routes to the first maximum and drops zero maxima.
        const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(tf.relu(a as tf.Tensor4D), 2, 2, 'valid'), dy)))(x);
        return [y.dataSync(), dx.dataSync()].map((v) => Float32Array.from(v));
      });
      const bp = paddedBatch(n);
      const x = toChannelMajor(xN, n, h, w, c);
      const y = new Float32Array(c * oh * ow * bp).fill(Number.NaN);
      addon!.sparseCmMaxPool2(x, y, c, h, w, bp);
      expect(Array.from(fromChannelMajor(y, n, oh, ow, c))).toEqual(Array.from(yRef));
      const dx = new Float32Array(x.length).fill(Number.NaN);
      addon!.sparseCmMaxPool2Grad(x, toChannelMajor(dyN, n, oh, ow, c), dx, c, h, w, bp, true);
      // (+0 and −0 compare equal: tfjs writes −0 for routed negative zero products.)
      expect(Array.from(fromChannelMajor(dx, n, h, w, c), (v) => v + 0)).toEqual(Array.from(dxRef, (v) => v + 0));
      expect(dx.every((v) => Number.isFinite(v))).toBe(true);
    });
  }

  for (const [density, batch, threads] of [
    [0.3, 5, 2],
    [0.05, 9, 1],
  ] as const) {
    it(`${density * 100} % density, batch ${batch}, ${threads} thread(s): 3 steps give the masked run's losses, active weights and biases`, () => {
      status.addon!.setThreads(threads);
      try {
        const p = makeParams(density, 11 + batch);
        const r = rng(99 + batch);
        const conv1 = sparseConvFromDense(p.weights.conv1, p.masks.conv1, 5, 5, 1, 20, { bias: Float32Array.from(p.biases.conv1), relu: true });
        const conv2 = sparseConvFromDense(p.weights.conv2, p.masks.conv2, 5, 5, 20, 50, { bias: Float32Array.from(p.biases.conv2), relu: true });
        const fc3 = sparseLayerFromDense(channelMajorRows(p.weights.fc3, 50, 4, 4, 500), channelMajorRows(p.masks.fc3, 50, 4, 4, 500), 800, 500, {
          bias: Float32Array.from(p.biases.fc3),
          relu: true,
        });
        const fc4 = sparseLayerFromDense(p.weights.fc4, p.masks.fc4, 500, 10, { bias: Float32Array.from(p.biases.fc4), relu: false });
        const net = new SparseCnnStep(
          addon!,
          [
            { layer: conv1, inH: 28, inW: 28, padding: 'valid', pool: true },
            { layer: conv2, inH: 12, inW: 12, padding: 'valid', pool: true },
          ],
          [fc3, fc4],
        );
        const conv1Start = Float32Array.from(conv1.vals);
        const fc4Start = Float32Array.from(fc4.vals);
        const bufs: Record<string, Float32Array> = {};
        for (let step = 0; step < 3; step++) {
          const x = Float32Array.from({ length: batch * 784 }, () => r());
          const labels = Int32Array.from({ length: batch }, () => Math.floor(r() * 10));
          const sparseLoss = net.step(x, labels, batch, SGD);
          const maskedLoss = maskedStep(p, bufs, x, labels, batch);
          expect(Math.abs(sparseLoss - maskedLoss), `step ${step} loss ${sparseLoss} vs ${maskedLoss}`).toBeLessThan(1e-5 * (1 + Math.abs(maskedLoss)));
        }
        expectNear(scatterConvDense(conv1, conv1.vals), p.weights.conv1, 1e-5, 'conv1 weights');
        expectNear(scatterConvDense(conv2, conv2.vals), p.weights.conv2, 1e-5, 'conv2 weights');
        expectNear(scatterDense(fc3, fc3.vals), channelMajorRows(p.weights.fc3, 50, 4, 4, 500), 1e-5, 'fc3 weights');
        expectNear(scatterDense(fc4, fc4.vals), p.weights.fc4, 1e-5, 'fc4 weights');
        expectNear(conv1.bias!, p.biases.conv1, 1e-5, 'conv1 bias');
        expectNear(conv2.bias!, p.biases.conv2, 1e-5, 'conv2 bias');
        expectNear(fc3.bias!, p.biases.fc3, 1e-5, 'fc3 bias');
        expectNear(fc4.bias!, p.biases.fc4, 1e-5, 'fc4 bias');
        // The weights moved: the comparison is not between two untouched copies.
        const moved = (a: Float32Array, b: Float32Array) => a.reduce((m, v, k) => Math.max(m, Math.abs(v - b[k])), 0);
        expect(moved(conv1.vals, conv1Start)).toBeGreaterThan(1e-4);
        expect(moved(fc4.vals, fc4Start)).toBeGreaterThan(1e-4);
      } finally {
        status.addon!.setThreads(2);
      }
    });
  }
});
