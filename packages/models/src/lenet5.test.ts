import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LayersTrainableModel } from './layers-trainable-model.js';
import { createLeNet5 } from './lenet5.js';
import { checkForward, checkTrainingStep, checkZooModel, useCpu } from './test-support/zoo-checks.js';

describe('LeNet-5-Caffe (docs/algorithm.md#models)', () => {
  let model: LayersTrainableModel;
  beforeAll(async () => {
    await useCpu();
    model = createLeNet5({ seed: 5 });
  });
  afterAll(() => model.dispose());

  it('has the spec counts (430,500 / 431,080), PyTorch names and shapes (flatten 800)', () => {
    checkZooModel(model, 'lenet5');
    expect(model.variables.map((v) => `${v.name}:${v.variable.shape.join('x')}`)).toEqual([
      'conv1.weight:5x5x1x20',
      'conv1.bias:20',
      'conv2.weight:5x5x20x50',
      'conv2.bias:50',
      'fc3.weight:800x500',
      'fc3.bias:500',
      'fc4.weight:500x10',
      'fc4.bias:10',
    ]);
    expect(model.layersModel.getLayer('conv1').outputShape).toEqual([null, 24, 24, 20]);
    expect(model.layersModel.getLayer('conv2').outputShape).toEqual([null, 8, 8, 50]);
  });

  it('PyTorch conv init: conv2 kernel within ±1/√(20·5·5), bias bound from the kernel fan-in', () => {
    const bound = 1 / Math.sqrt(500);
    const w = model.variables[2].variable.dataSync();
    const b = model.variables[3].variable.dataSync();
    expect(Math.max(...Array.from(w, Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(w, Math.abs))).toBeGreaterThan(0.98 * bound);
    expect(Math.max(...Array.from(b, Math.abs))).toBeLessThanOrEqual(bound);
  });

  it('forward gives [batch, 10] log-probabilities', async () => {
    await checkForward(model, 2);
  });

  it('one SGD step on the stock cpu kernels updates every weight without leaking tensors', async () => {
    await checkTrainingStep(model, 2);
  });
});
