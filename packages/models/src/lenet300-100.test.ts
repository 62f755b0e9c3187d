import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LayersTrainableModel } from './layers-trainable-model.js';
import { createLeNet300100 } from './lenet300-100.js';
import { checkForward, checkTrainingStep, checkZooModel, randomBatch, useCpu } from './test-support/zoo-checks.js';

describe('LeNet-300-100 (docs/algorithm.md#models)', () => {
  let model: LayersTrainableModel;
  beforeAll(async () => {
    await useCpu();
    model = createLeNet300100({ seed: 11 });
  });
  afterAll(() => model.dispose());

  it('has the spec counts (266,200 masked / 266,610 total), PyTorch names and shapes', () => {
    checkZooModel(model, 'lenet300-100');
    expect(model.variables.map((v) => `${v.name}:${v.variable.shape.join('x')}`)).toEqual([
      'fc1.weight:784x300',
      'fc1.bias:300',
      'fc2.weight:300x100',
      'fc2.bias:100',
      'fc3.weight:100x10',
      'fc3.bias:10',
    ]);
  });

  it('takes [28,28,1] MNIST images and flattens them internally', async () => {
    expect(model.inputShape).toEqual([28, 28, 1]);
    await checkForward(model, 2);
  });

  it('PyTorch init: fc1 kernel ~ U(±1/√784), sample std ≈ (1/√784)/√3; bias within ±1/√784', () => {
    const w = model.variables[0].variable.dataSync();
    const bound = 1 / Math.sqrt(784);
    let sum = 0;
    let sq = 0;
    let maxAbs = 0;
    for (const v of w) {
      sum += v;
      sq += v * v;
      maxAbs = Math.max(maxAbs, Math.abs(v));
    }
    const mean = sum / w.length;
    const std = Math.sqrt(sq / w.length - mean * mean);
    expect(std / (bound / Math.sqrt(3))).toBeCloseTo(1, 1); // 235,200 samples: within a few tenths of a %
    expect(Math.abs(std / (bound / Math.sqrt(3)) - 1)).toBeLessThan(0.01);
    expect(Math.abs(mean)).toBeLessThan(1e-3);
    expect(maxAbs).toBeLessThanOrEqual(bound);
    expect(maxAbs).toBeGreaterThan(0.99 * bound);
    const b = model.variables[1].variable.dataSync();
    expect(Math.max(...Array.from(b, Math.abs))).toBeLessThanOrEqual(bound);
    // fc3: fan_in 100, so its bound is 0.1.
    const b3 = model.variables[5].variable.dataSync();
    expect(Math.max(...Array.from(b3, Math.abs))).toBeLessThanOrEqual(0.1);
  });

  it('loss = mean NLL of log_softmax (no BN/dropout: equals the inference log-probabilities)', async () => {
    const { x, y } = randomBatch(3, [28, 28, 1], 10);
    const loss = model.loss(x, y);
    const logp = model.predict(x);
    const labels = await y.data();
    const lp = await logp.data();
    const manual = -(lp[labels[0]] + lp[10 + labels[1]] + lp[20 + labels[2]]) / 3;
    expect((await loss.data())[0]).toBeCloseTo(manual, 5);
    tf.dispose([x, y, loss, logp]);
  });

  it('one SGD step updates every weight without leaking tensors', async () => {
    await checkTrainingStep(model, 4);
  });

  it('input shape and class count can be overridden', () => {
    const small = createLeNet300100({ inputShape: [8, 8, 1], numClasses: 3 });
    expect(small.variables[0].variable.shape).toEqual([64, 300]);
    expect(small.variables[4].variable.shape).toEqual([100, 3]);
    small.dispose();
  });
});
