import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers'; // stock gradients (tfjs-core's Node entry registers none)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { nativeAddonStatus } from './addon.js';
import { registerNativeBackend } from './native-backend.js';
import { RELU_GRAD_KERNEL_NAME } from './native-kernels.js';
import { nativeSkipOptions } from './native-test-skip.js';
import { registerNativeTrainingGradients, unregisterNativeTrainingGradients } from './native-training-gradients.js';
import { randomData } from './test-helpers.js';

// A whole LeNet-5-Caffe training step's loss and gradients (conv1 1→20 5×5 with bias → ReLU → 2×2 pool → conv2
// 20→50 → ReLU → pool → fc 800→500 → ReLU → fc 500→10 → softmax cross-entropy), the ops tf.layers runs, on the
// native backend with lenet5-step's kernels (direct conv1 passes, AVX-512 pool pair, one-pass ReLU gradient)
// against the previous path (SL_CONV_SMALL=0, SL_POOL_DIRECT=0, the stock ReLU gradient): equal within
// float32 rounding, no tensor leaks.
const status = nativeAddonStatus();
const suite = nativeSkipOptions(status.addon ? null : status.reason);
const NAME = 'native-lenet5-step-test';

const SHAPES: Record<string, number[]> = {
  c1w: [5, 5, 1, 20],
  c1b: [20],
  c2w: [5, 5, 20, 50],
  c2b: [50],
  f3w: [800, 500],
  f3b: [500],
  f4w: [500, 10],
  f4b: [10],
};

describe('a LeNet-5-Caffe step on the native backend: lenet5-step kernels against the previous path', suite, () => {
  beforeAll(async () => {
    expect(registerNativeBackend({ name: NAME, base: 'wasm' })).toBe(true);
    expect(await tf.setBackend(NAME)).toBe(true);
  });
  afterAll(async () => {
    unregisterNativeTrainingGradients();
    delete process.env.SL_CONV_SMALL;
    delete process.env.SL_POOL_DIRECT;
    await tf.setBackend('cpu');
  });

  function step(batch: number): { loss: number; grads: Record<string, Float32Array> } {
    const vars = Object.fromEntries(
      Object.entries(SHAPES).map(([k, shape], i) => [
        k,
        tf.variable(tf.tensor(randomData(shape.reduce((a, b) => a * b, 1), 70 + i).map((v) => v * 0.2), shape), true, `${NAME}-${k}-${Math.random()}`),
      ]),
    );
    const x = tf.tensor4d(randomData(batch * 28 * 28, 80), [batch, 28, 28, 1]);
    const labels = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => (i * 7) % 10), 'int32'), 10);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => {
      let h: tf.Tensor4D = tf.relu(tf.fused.conv2d({ x, filter: vars.c1w as tf.Tensor4D, strides: 1, pad: 'valid', bias: vars.c1b }));
      h = tf.maxPool(h, 2, 2, 'valid');
      h = tf.relu(tf.fused.conv2d({ x: h, filter: vars.c2w as tf.Tensor4D, strides: 1, pad: 'valid', bias: vars.c2b }));
      const flat = tf.reshape(tf.maxPool(h, 2, 2, 'valid'), [batch, 800]) as tf.Tensor2D;
      const hidden = tf.relu(tf.fused.matMul({ a: flat, b: vars.f3w as tf.Tensor2D, bias: vars.f3b }));
      const logits = tf.fused.matMul({ a: hidden, b: vars.f4w as tf.Tensor2D, bias: vars.f4b });
      return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
    });
    const out = { loss: value.dataSync()[0], grads: Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, Float32Array.from(grads[v.name].dataSync())])) };
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, labels, ...Object.values(vars)]);
    return out;
  }

  it('batch 3 and batch 1: loss and every gradient within float32 rounding of the previous path; the new kernels ran', async () => {
    for (const batch of [3, 1]) {
      process.env.SL_CONV_SMALL = '0';
      process.env.SL_POOL_DIRECT = '0';
      unregisterNativeTrainingGradients();
      const previous = step(batch);
      delete process.env.SL_CONV_SMALL;
      delete process.env.SL_POOL_DIRECT;
      registerNativeTrainingGradients({ backends: [NAME] });
      const info = await tf.profile(() => {
        const now = step(batch);
        expect(Math.abs(now.loss - previous.loss)).toBeLessThan(1e-6 * Math.max(1, Math.abs(previous.loss)));
        for (const [k, g] of Object.entries(previous.grads)) {
          const got = now.grads[k];
          expect(got.length).toBe(g.length);
          const scale = g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
          const worst = got.reduce((m, v, i) => Math.max(m, Math.abs(v - g[i])), 0);
          expect(worst).toBeLessThanOrEqual(1e-5 * scale + 1e-7);
        }
      });
      const names = info.kernels.map((k) => k.name);
      expect(names.filter((n) => n === RELU_GRAD_KERNEL_NAME).length).toBe(3);
      expect(names).not.toContain('Step');
    }
  });
});
