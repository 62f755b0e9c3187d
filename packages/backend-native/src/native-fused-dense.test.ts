import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers'; // stock gradients (tfjs-core's Node entry registers none)
import { beforeAll, describe, expect, it } from 'vitest';

import {
  FUSED_DENSE_GRAD_KERNEL,
  FUSED_DENSE_KERNEL,
  LOG_SOFTMAX_NLL_GRAD_KERNEL,
  LOG_SOFTMAX_NLL_KERNEL,
  SGD_STEP_MASKED_KERNEL,
  SgdOptimizer,
  fusedDense,
  hasFusedDenseKernels,
  hasLogSoftmaxNllKernels,
  logSoftmaxNll,
  nllLoss,
} from '@sparse-learning/core';

import { nativeAddonStatus } from './addon.js';
import type { NativeAddon } from './addon.js';
import { registerNativeBackend } from './native-backend.js';
import {
  DENSE_GRAD_KERNEL_NAME,
  DENSE_KERNEL_NAME,
  LOSS_GRAD_KERNEL_NAME,
  LOSS_KERNEL_NAME,
  SGD_STEP_MASKED_KERNEL_NAME,
} from './native-kernels.js';
import { skipWithoutNativeAddon } from './native-test-skip.js';
import { randomData } from './test-helpers.js';

// Issue 10, deliverable 3: the fused dense layer (one forward, one backward launch), the fused loss and the SGD
// step with the mask multiply folded in must reproduce the unfused paths bit for bit on the native backend
// (both bases). Whole training steps (LeNet-300-100, fused against unfused) are compared in the zoo's tests
// (packages/models/src/fused-training.test.ts): backend-native's tests build their networks themselves.
const builds: [string, NativeAddon][] = [];
const status = nativeAddonStatus();
status.addon?.setThreads(2);
if (status.addon) builds.push([status.addon.info().gemm, status.addon]);
const nativeSuite = skipWithoutNativeAddon(builds, status.reason);
const addon = builds[0][1];

it('the native kernel names are the ones core looks up', () => {
  expect(DENSE_KERNEL_NAME).toBe(FUSED_DENSE_KERNEL);
  expect(DENSE_GRAD_KERNEL_NAME).toBe(FUSED_DENSE_GRAD_KERNEL);
  expect(SGD_STEP_MASKED_KERNEL_NAME).toBe(SGD_STEP_MASKED_KERNEL);
  expect(LOSS_KERNEL_NAME).toBe(LOG_SOFTMAX_NLL_KERNEL);
  expect(LOSS_GRAD_KERNEL_NAME).toBe(LOG_SOFTMAX_NLL_GRAD_KERNEL);
});

const NATIVE = { wasm: 'fused-dense-test-wasm', cpu: 'fused-dense-test-cpu' } as const;

/** Values and gradients (w.r.t. x, w, b) of one dense layer, fused or through the stock composite. */
function denseRun(backendName: string, m: number, k: number, n: number, activation: 'linear' | 'relu', bias: boolean, fused: boolean) {
  const before = tf.memory().numTensors;
  const x = tf.tensor2d(randomData(m * k, 1), [m, k]);
  const w = tf.tensor2d(randomData(k * n, 2), [k, n]);
  const b = tf.tensor1d(randomData(n, 3));
  const dy = tf.tensor2d(randomData(m * n, 4), [m, n]);
  const f = (a: tf.Tensor, kk: tf.Tensor, c?: tf.Tensor): tf.Tensor => {
    if (fused) return fusedDense(a, kk, c ?? null, activation);
    const y = tf.fused.matMul({ a, b: kk, bias: c });
    return activation === 'relu' ? tf.relu(y) : y;
  };
  const { value, grads } = tf.tidy(() => {
    const out = tf.valueAndGrads((...args: tf.Tensor[]) => f(args[0], args[1], args[2]))(bias ? [x, w, b] : [x, w], dy);
    return { value: out.value, grads: out.grads };
  });
  const result = [value, ...grads].map((t) => Array.from(t.dataSync()));
  tf.dispose([value, ...grads, x, w, b, dy]);
  expect(tf.memory().numTensors, backendName).toBe(before);
  return result;
}

for (const base of ['wasm', 'cpu'] as const) {
  describe(`native (${base} base): fused dense layer`, nativeSuite, () => {
    beforeAll(async () => {
      expect(registerNativeBackend({ name: NATIVE[base], base, addon })).toBe(true);
      expect(await tf.setBackend(NATIVE[base])).toBe(true);
    });

    it('registers both fused dense kernels and the masked SGD kernel', () => {
      expect(hasFusedDenseKernels()).toBe(true);
      expect(tf.getKernel(SGD_STEP_MASKED_KERNEL, NATIVE[base])).toBeDefined();
    });

    for (const [m, k, n] of [[7, 13, 5], [100, 300, 100], [33, 64, 10]]) {
      for (const activation of ['relu', 'linear'] as const) {
        for (const bias of [true, false]) {
          it(`${m}x${k}·${k}x${n} ${activation}${bias ? ' + bias' : ''}: value and gradients equal the composite bit for bit`, () => {
            const fusedOut = denseRun(NATIVE[base], m, k, n, activation, bias, true);
            const stock = denseRun(NATIVE[base], m, k, n, activation, bias, false);
            expect(fusedOut.length).toBe(bias ? 4 : 3);
            fusedOut.forEach((v, i) => expect(v, `output ${i}`).toEqual(stock[i]));
          });
        }
      }
    }

    it('one forward and one backward launch per layer (and an unread input gradient is never computed)', async () => {
      const x = tf.tensor2d(randomData(8 * 6, 1), [8, 6]);
      const w = tf.variable(tf.tensor2d(randomData(6 * 4, 2), [6, 4]));
      const b = tf.variable(tf.tensor1d(randomData(4, 3)));
      const count = async (fused: boolean) => {
        const info = await tf.profile(() => {
          const { value, grads } = tf.variableGrads(() =>
            tf.sum(fused ? fusedDense(x, w, b, 'relu') : tf.relu(tf.fused.matMul({ a: x, b: w, bias: b }))),
          );
          tf.dispose([value, ...Object.values(grads)]);
        });
        return info.kernels.map((kernel) => kernel.name);
      };
      const fusedNames = await count(true);
      const stockNames = await count(false);
      expect(fusedNames.filter((name) => name === FUSED_DENSE_KERNEL)).toHaveLength(1);
      expect(fusedNames.filter((name) => name === FUSED_DENSE_GRAD_KERNEL)).toHaveLength(1);
      expect(fusedNames).not.toContain('BatchMatMul');
      expect(fusedNames.length).toBeLessThan(stockNames.length);
      tf.dispose([x, w, b]);
    });
  });
}

/** Loss and its gradient w.r.t. the logits, fused or through the composite, on the active backend. */
function lossRun(logitsData: Float32Array, n: number, c: number, labels: tf.Tensor, fused: boolean, upstream = 1) {
  const before = tf.memory().numTensors;
  const logits = tf.tensor2d(logitsData, [n, c]);
  const f = (x: tf.Tensor) => tf.mul(fused ? logSoftmaxNll(x, labels) : nllLoss(tf.logSoftmax(x), labels), upstream);
  const { value, grad } = tf.valueAndGrad(f)(logits);
  const out = [Array.from(value.dataSync()), Array.from(grad.dataSync())];
  tf.dispose([value, grad, logits]);
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

for (const base of ['wasm', 'cpu'] as const) {
  describe(`native (${base} base): fused training loss`, nativeSuite, () => {
    beforeAll(async () => {
      expect(registerNativeBackend({ name: NATIVE[base], base, addon })).toBe(true);
      expect(await tf.setBackend(NATIVE[base])).toBe(true);
    });

    it('registers both loss kernels', () => {
      expect(hasLogSoftmaxNllKernels()).toBe(true);
    });

    const cases: [string, number, number, () => tf.Tensor][] = [
      ['b100, 10 classes', 100, 10, () => tf.tensor1d(Int32Array.from({ length: 100 }, (_, i) => (i * 7) % 10), 'int32')],
      ['b7, 3 classes, labels out of range (-1, 3, 9)', 7, 3, () => tf.tensor1d([0, -1, 2, 3, 1, 9, 2], 'int32')],
      ['b5, float32 labels (cast like the composite)', 5, 4, () => tf.tensor1d([0, 1.7, 3, 2.2, 0], 'float32')],
      ['b1, 2 classes, labels [1,1]-shaped', 1, 2, () => tf.tensor2d([[1]], [1, 1], 'int32')],
    ];
    for (const [label, n, c, makeLabels] of cases) {
      it(`${label}: loss and gradient equal the composite bit for bit`, () => {
        const labels = makeLabels();
        for (const [seed, scale] of [[1, 1], [2, 30], [3, 1e-3]] as const) {
          const data = randomData(n * c, seed).map((v) => v * scale);
          if (seed === 2) data[0] = 80; // one logit dominating its row (log-probabilities of exactly 0 and ≈ -110)
          for (const upstream of [1, -2.5]) {
            const fused = lossRun(data, n, c, labels, true, upstream);
            const stock = lossRun(data, n, c, labels, false, upstream);
            expect(fused[0], `loss, seed ${seed}`).toEqual(stock[0]);
            expect(fused[1], `gradient, seed ${seed}`).toEqual(stock[1]);
          }
        }
        labels.dispose();
      });
    }

    it('one forward and one backward launch instead of the composite\'s ~30', async () => {
      const logits = tf.variable(tf.tensor2d(randomData(40, 1), [4, 10]));
      const labels = tf.tensor1d([1, 2, 3, 4], 'int32');
      const names = async (fused: boolean) =>
        (
          await tf.profile(() => {
            const { value, grads } = tf.variableGrads(() => (fused ? logSoftmaxNll(logits, labels) : nllLoss(tf.logSoftmax(logits), labels)));
            tf.dispose([value, ...Object.values(grads)]);
          })
        ).kernels.map((k) => k.name);
      const fused = await names(true);
      const stock = await names(false);
      expect(fused.filter((k) => k === LOG_SOFTMAX_NLL_KERNEL)).toHaveLength(1);
      expect(fused.filter((k) => k === LOG_SOFTMAX_NLL_GRAD_KERNEL)).toHaveLength(1);
      expect(fused.length).toBeLessThan(8);
      expect(stock.length).toBeGreaterThan(20);
      tf.dispose([logits, labels]);
    });
  });
}

describe('native (wasm base): the SGD step updates in place only what nothing else can see', nativeSuite, () => {
  beforeAll(async () => {
    expect(registerNativeBackend({ name: NATIVE.wasm, base: 'wasm', addon })).toBe(true);
    expect(await tf.setBackend(NATIVE.wasm)).toBe(true);
  });

  const dataIdOf = (t: tf.Tensor) => (t as unknown as { dataId: object }).dataId;

  for (const masked of [false, true]) {
    it(`${masked ? 'masked' : 'unmasked'}: in place once the buffer exists; a clone someone keeps is never written`, () => {
      const init = tf.tensor2d(randomData(300 * 20, 1), [300, 20]);
      const w = tf.variable(init);
      init.dispose();
      const mask = tf.tensor2d(Float32Array.from(randomData(300 * 20, 2), (v) => (v > 0 ? 1 : 0)), [300, 20]);
      const opt = new SgdOptimizer({ learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
      const step = (seed: number) => {
        const g = tf.tensor2d(randomData(300 * 20, seed), [300, 20]);
        if (masked) opt.applyGradientsMasked({ w: g }, { w }, { w: mask });
        else opt.applyGradients({ w: g }, { w });
        g.dispose();
      };
      const before = tf.memory().numTensors;
      step(3); // first step: the buffer is new, so no update in place
      const id = dataIdOf(w);
      step(4);
      expect(dataIdOf(w)).toBe(id); // in place: the same data
      const kept = tf.clone(w); // an alias of the same data (Identity aliases on native)
      const keptValues = Array.from(kept.dataSync());
      step(5);
      expect(dataIdOf(w)).not.toBe(id); // shared data: written to a new buffer
      expect(Array.from(kept.dataSync())).toEqual(keptValues);
      kept.dispose();
      const buffer = opt.momentumOf('w')!; // a clone of the slot: the next step must not write into it
      const bufferValues = Array.from(buffer.dataSync());
      step(6);
      expect(Array.from(buffer.dataSync())).toEqual(bufferValues);
      buffer.dispose();
      expect(tf.memory().numTensors).toBe(before + 1); // + the momentum slot
      opt.dispose();
      tf.dispose([w, mask]);
    });
  }
});
