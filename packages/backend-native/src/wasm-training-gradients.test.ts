import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { expectClose, input, runOn } from './test-helpers.js';
import {
  registerWasmTrainingGradients,
  unregisterWasmTrainingGradients,
  wasmTrainingGradientScope,
} from './wasm-training-gradients.js';

const kernelNames = async (backend: string, f: () => tf.TensorContainer): Promise<string[]> => {
  await tf.setBackend(backend);
  const info = await tf.profile(f);
  return info.kernels.map((k) => k.name);
};

describe('wasm training gradients', () => {
  let stockMatMul: tf.GradConfig | undefined;
  let stockConv: tf.GradConfig | undefined;

  beforeAll(async () => {
    await import('@tensorflow/tfjs-layers'); // stock gradients
    stockMatMul = tf.getGradient('BatchMatMul');
    stockConv = tf.getGradient('Conv2D');
    registerWasmTrainingGradients();
    expect(await tf.setBackend('wasm')).toBe(true);
  });

  afterAll(() => {
    unregisterWasmTrainingGradients();
  });

  it('is scoped to wasm by default and idempotent', () => {
    registerWasmTrainingGradients();
    expect(wasmTrainingGradientScope()).toEqual(['wasm']);
    expect(tf.getGradient('BatchMatMul')).not.toBe(stockMatMul);
  });

  const matCases: [number, number, number][] = [
    [1, 1, 1],
    [7, 13, 5],
    [100, 37, 9],
    [3, 33, 17],
  ];
  for (const [m, k, n] of matCases) {
    for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
      it(`matMul ${m}x${k}x${n} transposeA=${ta} transposeB=${tb}: gradients equal the stock cpu ones`, async () => {
        const a = input(ta ? [k, m] : [m, k], 11 + m);
        const b = input(tb ? [n, k] : [k, n], 23 + n);
        const up = input([m, n], 5);
        const fn = (x: tf.Tensor, y: tf.Tensor, w: tf.Tensor) =>
          tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D, ta, tb), w)))([x, y]);
        expectClose(await runOn('wasm', [a, b, up], fn), await runOn('cpu', [a, b, up], fn));
      });
    }
  }

  it('takes the explicit-transpose path on wasm only', async () => {
    const grad = () => {
      const a = tf.ones([4, 3]);
      const b = tf.ones([3, 2]);
      return tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D)))([a, b]);
    };
    expect(await kernelNames('wasm', grad)).toContain('Transpose');
    expect(await kernelNames('cpu', grad)).not.toContain('Transpose');
  });

  it('hand-worked matMul gradient: d/dA sum(A B) = 1 B^T, d/dB = A^T 1', async () => {
    await tf.setBackend('wasm');
    const a = tf.tensor2d([[1, 2], [3, 4]]);
    const b = tf.tensor2d([[5, 6], [7, 8]]);
    const [ga, gb] = tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D)))([a, b]);
    expect(Array.from(ga.dataSync())).toEqual([11, 15, 11, 15]);
    expect(Array.from(gb.dataSync())).toEqual([4, 4, 6, 6]);
    tf.dispose([a, b, ga, gb]);
  });

  it('rank-3 batched matMul falls back to the stock gradient', async () => {
    const a = input([2, 3, 4], 1);
    const b = input([2, 4, 5], 2);
    const fn = (x: tf.Tensor, y: tf.Tensor) =>
      tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.matMul(p as tf.Tensor3D, q as tf.Tensor3D, false, false)))([x, y]);
    expectClose(await runOn('wasm', [a, b], fn), await runOn('cpu', [a, b], fn));
  });

  it('leaves the conv gradient alone (the composite kernels compute it)', () => {
    expect(tf.getGradient('Conv2D')).toBe(stockConv);
  });

  it('unregister restores the stock gradient', () => {
    unregisterWasmTrainingGradients();
    expect(tf.getGradient('BatchMatMul')).toBe(stockMatMul);
    expect(wasmTrainingGradientScope()).toEqual([]);
    registerWasmTrainingGradients();
  });
});
