import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { nllLoss } from '../losses/nll-loss.js';
import { LOG_SOFTMAX_NLL_GRAD_KERNEL, LOG_SOFTMAX_NLL_KERNEL, hasLogSoftmaxNllKernels, logSoftmaxNll } from './log-softmax-nll.js';

beforeAll(async () => {
  await import('@tensorflow/tfjs-layers'); // the stock gradients
  await tf.setBackend('cpu');
});

describe('logSoftmaxNll (composite on a backend without the fused kernels)', () => {
  it('cpu registers no fused loss kernel', () => {
    expect(hasLogSoftmaxNllKernels()).toBe(false);
    expect(tf.getKernel(LOG_SOFTMAX_NLL_KERNEL, 'cpu')).toBeUndefined();
    expect(tf.getKernel(LOG_SOFTMAX_NLL_GRAD_KERNEL, 'cpu')).toBeUndefined();
  });

  it('hand-worked loss and gradient: mean −log softmax[label]; d/dlogits = (softmax − onehot) / N', () => {
    // Row 1: softmax of [0, ln 3] = [1/4, 3/4], label 1 → −ln(3/4); row 2: [1, 1] → [1/2, 1/2], label 0 → ln 2.
    const logits = tf.tensor2d([0, Math.log(3), 1, 1], [2, 2]);
    const labels = tf.tensor1d([1, 0], 'int32');
    const before = tf.memory().numTensors;
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => logSoftmaxNll(x, labels))(logits);
    expect(value.dataSync()[0]).toBeCloseTo((-Math.log(0.75) + Math.log(2)) / 2, 6);
    Array.from(grad.dataSync()).forEach((g, i) => expect(g).toBeCloseTo([0.125, -0.125, -0.25, 0.25][i], 6));
    tf.dispose([value, grad]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([logits, labels]);
  });

  it('equals nllLoss(tf.logSoftmax(logits), labels), value and gradient', () => {
    const logits = tf.randomNormal([9, 4], 0, 3, 'float32', 7);
    const labels = tf.tensor1d([0, 3, 2, 1, 1, 0, 3, 2, 2], 'int32');
    const ours = tf.valueAndGrad((x: tf.Tensor) => logSoftmaxNll(x, labels))(logits);
    const stock = tf.valueAndGrad((x: tf.Tensor) => nllLoss(tf.logSoftmax(x), labels))(logits);
    expect(Array.from(ours.value.dataSync())).toEqual(Array.from(stock.value.dataSync()));
    expect(Array.from(ours.grad.dataSync())).toEqual(Array.from(stock.grad.dataSync()));
    tf.dispose([logits, labels, ours.value, ours.grad, stock.value, stock.grad]);
  });
});
