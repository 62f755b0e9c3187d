import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers'; // stock gradients (tfjs-core's Node entry registers none)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CONV_CASES, expectClose, input, runOn } from './test-helpers.js';
import { registerWasmCompositeKernels, unregisterWasmCompositeKernels, wasmCompositeKernels } from './wasm-composite-kernels.js';

/** Backend-level data count: catches intermediates a composite kernel forgot to free. */
const backendData = (): number => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();

describe('wasm composite conv-gradient kernels', () => {
  beforeAll(async () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined(); // the gap being filled
    expect(registerWasmCompositeKernels()).toEqual(['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'BatchMatMul', '_FusedMatMul']);
    expect(await tf.setBackend('wasm')).toBe(true);
  });

  afterAll(() => {
    unregisterWasmCompositeKernels();
  });

  it('is idempotent and leaves the cpu backend alone', () => {
    expect(registerWasmCompositeKernels()).toEqual(['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'BatchMatMul', '_FusedMatMul']);
    expect(wasmCompositeKernels('cpu')).toEqual([]);
  });

  for (const c of CONV_CASES) {
    it(`${c.name}: fused conv2d (bias + relu) gradients match cpu, no leaked buffers`, async () => {
      const x = input(c.x, 3);
      const f = input(c.f, 4);
      const bias = input([c.f[3]], 5);
      const fn = (xt: tf.Tensor, ft: tf.Tensor, bt: tf.Tensor) =>
        tf.grads((p: tf.Tensor, q: tf.Tensor, b: tf.Tensor) =>
          tf.sum(tf.square(tf.fused.conv2d({ x: p as tf.Tensor4D, filter: q as tf.Tensor4D, strides: c.stride, pad: c.pad, bias: b, activation: 'relu' }))),
        )([xt, ft, bt]);
      await tf.setBackend('wasm');
      const before = backendData();
      const wasm = await runOn('wasm', [x, f, bias], fn);
      expect(backendData()).toBe(before);
      expectClose(wasm, await runOn('cpu', [x, f, bias], fn));
    });
  }

  for (const c of CONV_CASES) {
    it(`${c.name}: plain conv2d (stock gradient, composite kernels) gradients match cpu`, async () => {
      const x = input(c.x, 3);
      const f = input(c.f, 4);
      const outShape = tf.tidy(() => tf.conv2d(tf.zeros(c.x as [number, number, number, number]) as tf.Tensor4D, tf.zeros(c.f as [number, number, number, number]) as tf.Tensor4D, c.stride, c.pad).shape);
      const up = input(outShape, 9);
      const fn = (xt: tf.Tensor, ft: tf.Tensor, w: tf.Tensor) =>
        tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, c.stride, c.pad), w)))([xt, ft]);
      expectClose(await runOn('wasm', [x, f, up], fn), await runOn('cpu', [x, f, up], fn));
    });
  }

  it('a LeNet-5-like block (conv, relu, max-pool) trains on wasm like on cpu', async () => {
    const x = input([2, 12, 12, 1], 1);
    const f = input([5, 5, 1, 4], 2);
    const fn = (xt: tf.Tensor, ft: tf.Tensor) =>
      tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(tf.maxPool(tf.relu(tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 1, 'valid')), 2, 2, 'valid'))))([xt, ft]);
    expectClose(await runOn('wasm', [x, f], fn), await runOn('cpu', [x, f], fn));
  });

  for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
    it(`fused matMul (bias, relu) transposeA=${ta} transposeB=${tb}: output and gradients match cpu`, async () => {
      const [m, k, n] = [13, 37, 9];
      const a = input(ta ? [k, m] : [m, k], 1);
      const b = input(tb ? [n, k] : [k, n], 2);
      const bias = input([n], 3);
      const fn = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => {
        const f = (p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) =>
          tf.fused.matMul({ a: p as tf.Tensor2D, b: q as tf.Tensor2D, transposeA: ta, transposeB: tb, bias: r, activation: 'relu' });
        return [f(x, y, z), ...tf.grads((p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => tf.sum(tf.square(f(p, q, r))))([x, y, z])];
      };
      await tf.setBackend('wasm');
      const before = backendData();
      const wasm = await runOn('wasm', [a, b, bias], fn);
      expect(backendData()).toBe(before);
      expectClose(wasm, await runOn('cpu', [a, b, bias], fn));
    });
  }

  it('hand-worked fused matMul with transposeA adds the bias per output column (stock wasm bug)', async () => {
    await tf.setBackend('wasm');
    const y = tf.tidy(() => {
      const a = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
      return Array.from(tf.fused.matMul({ a, b: tf.eye(2) as tf.Tensor2D, transposeA: true, bias: tf.tensor1d([10, 20]) }).dataSync());
    });
    expect(y).toEqual([11, 24, 12, 25, 13, 26]);
  });

  it('rank-3 batched matMul with transposes and a broadcast batch matches cpu', async () => {
    const a = input([3, 7, 5], 1);
    const b = input([1, 4, 7], 2);
    const fn = (x: tf.Tensor, y: tf.Tensor) => [
      tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D, true, true),
      tf.matMul(x as tf.Tensor3D, x as tf.Tensor3D, true, false),
      tf.matMul(x as tf.Tensor3D, x as tf.Tensor3D, false, true),
    ];
    expectClose(await runOn('wasm', [a, b], fn), await runOn('cpu', [a, b], fn));
  });

  it('hand-worked filter gradient: 1x1 input channel, 2x2 filter, all-ones dy', async () => {
    await tf.setBackend('wasm');
    // x = [[1,2,3],[4,5,6],[7,8,9]], valid 2x2 conv: dW[i,j] = sum of the 2x2 block of x starting at (i,j).
    const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
    const dy = tf.ones([1, 2, 2, 1]);
    const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'valid', dataFormat: 'NHWC', filterShape: [2, 2, 1, 1] }) as tf.Tensor;
    expect(Array.from(dw.dataSync())).toEqual([12, 16, 24, 28]);
    tf.dispose([x, dy, dw]);
  });

  it('NCHW input gradient falls back to the stock wasm kernel', async () => {
    const dy = input([1, 2, 3, 3], 1);
    const w = input([2, 2, 1, 2], 2);
    const fn = (d: tf.Tensor, f: tf.Tensor) =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy: d, filter: f }, { strides: 1, pad: 'valid', dataFormat: 'NCHW', inputShape: [1, 1, 4, 4] }) as tf.Tensor;
    expectClose(await runOn('wasm', [dy, w], fn), await runOn('cpu', [dy, w], fn));
  });
});
