import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { isSparseLearningError } from '../errors.js';
import { FUSED_DENSE_GRAD_KERNEL, FUSED_DENSE_KERNEL, fusedDense, hasFusedDenseKernels } from './fused-dense.js';

// tfjs-core's Node entry registers no gradients; the stock set comes with tfjs-layers (as in the trainer).
beforeAll(async () => {
  await import('@tensorflow/tfjs-layers');
  await tf.setBackend('cpu');
});

const x = () => tf.tensor2d([1, -2, 0.5, 1], [2, 2]);
const w = () => tf.tensor2d([1, 2, -1, 0.5, -1, 1], [2, 3]);
const b = () => tf.tensor1d([0.1, 0, -0.5]);

describe('fusedDense (composite on a backend without the fused kernels)', () => {
  it('cpu registers no fused dense kernel: the composite runs', () => {
    expect(hasFusedDenseKernels()).toBe(false);
    expect(tf.getKernel(FUSED_DENSE_KERNEL, 'cpu')).toBeUndefined();
    expect(tf.getKernel(FUSED_DENSE_GRAD_KERNEL, 'cpu')).toBeUndefined();
  });

  it('hand-worked forward: relu(x·w + b) and x·w + b', () => {
    // x·w = [[0, 4, -3], [1, 0, 0.5]]; + b = [[0.1, 4, -3.5], [1.1, 0, 0]].
    const [xs, ws, bs] = [x(), w(), b()];
    const relu = fusedDense(xs, ws, bs, 'relu');
    const linear = fusedDense(xs, ws, bs, 'linear');
    const noBias = fusedDense(xs, ws, null, 'linear');
    expect(relu.shape).toEqual([2, 3]);
    Array.from(relu.dataSync()).forEach((v, i) => expect(v).toBeCloseTo([0.1, 4, 0, 1.1, 0, 0][i], 6));
    Array.from(linear.dataSync()).forEach((v, i) => expect(v).toBeCloseTo([0.1, 4, -3.5, 1.1, 0, 0][i], 6));
    Array.from(noBias.dataSync()).forEach((v, i) => expect(v).toBeCloseTo([0, 4, -3, 1, 0, 0.5][i], 6));
    tf.dispose([xs, ws, bs, relu, linear, noBias]);
  });

  it('hand-worked gradients of sum(relu(x·w + b)): ReLU gradient 0 at a pre-activation of exactly 0', () => {
    // dyAct = step(pre) = [[1, 1, 0], [1, 0, 0]]; dW = xᵀ·dyAct = [[1.5, 1, 0], [-1, -2, 0]];
    // db = [2, 1, 0]; dx = dyAct·wᵀ = [[3, -0.5], [1, 0.5]].
    const [xs, ws, bs] = [x(), w(), b()];
    const before = tf.memory().numTensors;
    const grads = tf.grads((a: tf.Tensor, k: tf.Tensor, c: tf.Tensor) => tf.sum(fusedDense(a, k, c, 'relu')))([xs, ws, bs]);
    expect(Array.from(grads[0].dataSync())).toEqual([3, -0.5, 1, 0.5]);
    expect(Array.from(grads[1].dataSync())).toEqual([1.5, 1, 0, -1, -2, 0]);
    expect(Array.from(grads[2].dataSync())).toEqual([2, 1, 0]);
    tf.dispose(grads);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([xs, ws, bs]);
  });

  it('equals tf.fused.matMul + tf.relu (what tfjs-layers Dense and ReLU run), values and gradients', () => {
    const xs = tf.randomNormal([7, 5], 0, 1, 'float32', 1);
    const ws = tf.randomNormal([5, 4], 0, 1, 'float32', 2);
    const bs = tf.randomNormal([4], 0, 1, 'float32', 3);
    const dy = tf.randomNormal([7, 4], 0, 1, 'float32', 4);
    const ours = tf.grads((a: tf.Tensor, k: tf.Tensor, c: tf.Tensor) => fusedDense(a, k, c, 'relu'))([xs, ws, bs], dy);
    const stock = tf.grads((a: tf.Tensor, k: tf.Tensor, c: tf.Tensor) => tf.relu(tf.fused.matMul({ a, b: k, bias: c })))([xs, ws, bs], dy);
    ours.forEach((g, i) => expect(Array.from(g.dataSync())).toEqual(Array.from(stock[i].dataSync())));
    tf.dispose([xs, ws, bs, dy, ...ours, ...stock]);
  });

  it('rejects another activation with E_OUT_OF_RANGE naming the valid ones', () => {
    const [xs, ws] = [x(), w()];
    let caught: unknown;
    try {
      fusedDense(xs, ws, null, 'tanh' as never);
    } catch (error) {
      caught = error;
    }
    expect(isSparseLearningError(caught) && caught.code).toBe('E_OUT_OF_RANGE');
    expect(String((caught as Error).message)).toMatch(/tanh.*'linear' or 'relu'/);
    tf.dispose([xs, ws]);
  });
});
