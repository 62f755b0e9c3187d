import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useFastCpuConvFilterGrad, useStockCpuConvFilterGrad } from './fast-cpu-conv-filter-grad.js';
import { useCpu } from './zoo-checks.js';

type Pad = 'same' | 'valid' | number;
const cases: { x: [number, number, number, number]; f: [number, number, number, number]; stride: number; pad: Pad }[] = [
  { x: [2, 8, 8, 3], f: [3, 3, 3, 5], stride: 1, pad: 'same' },
  { x: [2, 9, 9, 4], f: [3, 3, 4, 6], stride: 2, pad: 1 },
  { x: [1, 12, 12, 2], f: [5, 5, 2, 3], stride: 1, pad: 'valid' },
  { x: [2, 8, 8, 4], f: [1, 1, 4, 8], stride: 2, pad: 'valid' },
  { x: [1, 32, 32, 3], f: [11, 11, 3, 4], stride: 2, pad: 2 },
  { x: [2, 7, 7, 3], f: [3, 3, 3, 2], stride: 2, pad: 'same' },
];

function filterGrad(c: (typeof cases)[number]): tf.Tensor {
  return tf.tidy(() => {
    const x = tf.relu(tf.randomNormal(c.x, 0, 1, 'float32', 3)); // ReLU zeros exercise the zero skip
    const w = tf.randomNormal(c.f, 0, 1, 'float32', 4);
    const f = (filter: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, filter as tf.Tensor4D, c.stride, c.pad), 0.5));
    return tf.grad(f)(w);
  });
}

describe('fast cpu Conv2DBackpropFilter (test support)', () => {
  beforeAll(useCpu);
  afterAll(useStockCpuConvFilterGrad);

  it('matches the stock kernel for strides 1/2, same/valid/explicit padding, 1×1 and 11×11 kernels', async () => {
    const stock = cases.map(filterGrad);
    useFastCpuConvFilterGrad();
    const fast = cases.map(filterGrad);
    useStockCpuConvFilterGrad();
    for (let i = 0; i < cases.length; i++) {
      expect(fast[i].shape).toEqual(cases[i].f);
      const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(fast[i], stock[i]))).dataSync()[0]);
      const scale = tf.tidy(() => tf.max(tf.abs(stock[i])).dataSync()[0]);
      expect(scale).toBeGreaterThan(0);
      expect(diff / scale).toBeLessThan(1e-5);
    }
    tf.dispose([...stock, ...fast]);
  });
});
