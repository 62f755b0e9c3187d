import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADAM_SLOTS, AdamOptimizer } from './adam-optimizer.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Float64 reference of PyTorch Adam (coupled L2) for a vector. */
function referenceAdam(w0: number[], grads: number[][], lr: number, wd: number, b1 = 0.9, b2 = 0.999, eps = 1e-8) {
  const w = w0.slice();
  const m = w.map(() => 0);
  const v = w.map(() => 0);
  grads.forEach((grad, k) => {
    const t = k + 1;
    for (let i = 0; i < w.length; i++) {
      const g = grad[i] + wd * w[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const denom = Math.sqrt(v[i]) / Math.sqrt(1 - b2 ** t) + eps;
      w[i] -= (lr / (1 - b1 ** t)) * (m[i] / denom);
    }
  });
  return { w, m, v };
}

describe('AdamOptimizer', () => {
  it('matches a float64 reference of torch.optim.Adam with weight decay', () => {
    const w0 = [0.5, -1, 0.25, 2];
    const grads = [
      [0.1, -0.3, 0.02, 1],
      [0.2, 0.1, -0.5, 0.3],
      [-0.4, 0.05, 0.2, -0.1],
    ];
    const ref = referenceAdam(w0, grads, 0.01, 0.01);
    const w = tf.variable(tf.tensor1d(w0));
    const opt = new AdamOptimizer({ learningRate: 0.01, weightDecay: 0.01 });
    for (const g of grads) {
      const grad = tf.tensor1d(g);
      opt.applyGradients({ w: grad }, { w });
      grad.dispose();
    }
    const got = w.dataSync();
    ref.w.forEach((x, i) => expect(got[i]).toBeCloseTo(x, 6));
    // Momentum view: exp_avg / (sqrt(exp_avg_sq) + 1e-8), no bias correction.
    const view = opt.momentumOf('w')!;
    const viewValues = view.dataSync();
    ref.m.forEach((m, i) => expect(viewValues[i]).toBeCloseTo(m / (Math.sqrt(ref.v[i]) + 1e-8), 5));
    view.dispose();
    const state = opt.getState();
    expect(Object.keys(state.slots.w).sort()).toEqual([ADAM_SLOTS.expAvg, ADAM_SLOTS.expAvgSq, ADAM_SLOTS.step].sort());
    expect(state.slots.w.step[0]).toBe(3);
    opt.dispose();
    w.dispose();
  });

  it('resumes from its state and leaks nothing', () => {
    const w1 = tf.variable(tf.tensor2d([[0.5, -1], [0.25, 2]]));
    const w2 = tf.variable(tf.tensor2d([[0.5, -1], [0.25, 2]]));
    const g = tf.tensor2d([[0.1, -0.3], [0.02, 1]]);
    const a = new AdamOptimizer({ learningRate: 0.01 });
    a.applyGradients({ w: g }, { w: w1 });
    w2.assign(w1);
    const b = new AdamOptimizer({ learningRate: 0.01 });
    b.setState(a.getState());
    const before = tf.memory().numTensors;
    a.applyGradients({ w: g }, { w: w1 });
    b.applyGradients({ w: g }, { w: w2 });
    expect(Array.from(w2.dataSync())).toEqual(Array.from(w1.dataSync()));
    // b materialised its two restored slots; a replaced its own: +2 in total.
    expect(tf.memory().numTensors).toBe(before + 2);
    const n = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) a.applyGradients({ w: g }, { w: w1 });
    expect(tf.memory().numTensors).toBe(n);
    a.dispose();
    b.dispose();
    tf.dispose([w1, w2, g]);
  });
});
