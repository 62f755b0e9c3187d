import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers'; // stock gradients (tfjs-core's Node entry registers none)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { nativeAddonStatus } from './addon.js';
import { registerNativeBackend } from './native-backend.js';
import { RELU_GRAD_KERNEL_NAME } from './native-kernels.js';
import { nativeSkipOptions } from './native-test-skip.js';
import {
  nativeTrainingGradientsRegistered,
  registerNativeTrainingGradients,
  unregisterNativeTrainingGradients,
} from './native-training-gradients.js';
import { randomData } from './test-helpers.js';

// The one-pass ReLU gradient of the native backend (lenet5-step): bit-identical to tfjs's
// mul(dy, cast(step(x))) — signed zeros and NaN included — in one kernel instead of Step + Cast + Multiply.
const status = nativeAddonStatus();
const suite = nativeSkipOptions(status.addon ? null : status.reason);
const NAME = 'native-relu-grad-test';

describe('native ReLU gradient override (SparseLearningReluGrad)', suite, () => {
  beforeAll(async () => {
    expect(registerNativeBackend({ name: NAME, base: 'wasm' })).toBe(true);
    registerNativeTrainingGradients({ backends: [NAME] });
    expect(await tf.setBackend(NAME)).toBe(true);
  });
  afterAll(async () => {
    unregisterNativeTrainingGradients();
    await tf.setBackend('cpu');
  });

  // Special values on both sides: x = -0, +0, NaN, ±inf, tiny; dy negative (so dy · 0 is -0), NaN and inf.
  const special = Float32Array.from([-0, 0, Number.NaN, Infinity, -Infinity, 1e-38, -1e-38, 2, -3, 0.5]);
  const dySpecial = Float32Array.from([-1, -2, 3, Number.NaN, Infinity, -4, 5, -Infinity, Number.NaN, -0]);
  const cases: [string, number[], Float32Array, Float32Array][] = [
    ['special values', [10], special, dySpecial],
    ['a LeNet-5 conv1 activation (2×24×24×20)', [2, 24, 24, 20], randomData(2 * 24 * 24 * 20, 61), randomData(2 * 24 * 24 * 20, 62)],
  ];

  for (const [label, shape, xs, dys] of cases) {
    it(`${label}: the stock gradient's bits, in one kernel, without leaks`, async () => {
      const grad = () => {
        const x = tf.tensor(xs, shape);
        const dy = tf.tensor(dys, shape);
        const g = tf.grad((t: tf.Tensor) => tf.relu(t))(x, dy);
        const out = new Float32Array(g.dataSync() as Float32Array); // same type: a byte copy (NaN payloads kept)
        tf.dispose([x, dy, g]);
        return out;
      };
      await tf.setBackend('cpu');
      const stock = grad();
      await tf.setBackend(NAME);
      const before = tf.memory().numTensors;
      const ours = grad();
      expect(tf.memory().numTensors).toBe(before);
      const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
      expect(bits(ours)).toEqual(bits(stock));
      // One kernel on this backend: no Step / Multiply pass.
      const x = tf.tensor(xs, shape);
      const dy = tf.tensor(dys, shape);
      const info = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.relu(t))(x, dy).dispose());
      const names = info.kernels.map((k) => k.name);
      expect(names).toContain(RELU_GRAD_KERNEL_NAME);
      expect(names).not.toContain('Step');
      tf.dispose([x, dy]);
    });
  }

  it('a hand-worked case: x = [-1, 0, 2], dy = [5, 6, 7] gives [0, 0, 7]', () => {
    const g = tf.tidy(() => tf.grad((t: tf.Tensor) => tf.relu(t))(tf.tensor([-1, 0, 2]), tf.tensor([5, 6, 7])));
    expect(Array.from(g.dataSync())).toEqual([0, 0, 7]);
    g.dispose();
  });

  it('other backends keep the stock gradient (Step + Multiply), and unregistering restores it', async () => {
    await tf.setBackend('cpu');
    const x = tf.tensor([-1, 2]);
    let info = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.relu(t))(x));
    expect(info.kernels.map((k) => k.name)).toContain('Step');
    expect(nativeTrainingGradientsRegistered()).toBe(true);
    unregisterNativeTrainingGradients();
    expect(nativeTrainingGradientsRegistered()).toBe(false);
    await tf.setBackend(NAME);
    info = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.relu(t))(x));
    expect(info.kernels.map((k) => k.name)).not.toContain(RELU_GRAD_KERNEL_NAME);
    registerNativeTrainingGradients({ backends: [NAME] });
    registerNativeTrainingGradients({ backends: [NAME] }); // idempotent
    info = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.relu(t))(x));
    expect(info.kernels.map((k) => k.name)).toContain(RELU_GRAD_KERNEL_NAME);
    x.dispose();
  });
});
