import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { denseChainSpec, erMlpWidth } from './er-mlp.js';
import { createModel, isModelId, modelInfo } from './registry.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

let built: ReturnType<typeof createModel> | null = null;
afterAll(() => built?.dispose());

it('er-mlp-<width> is 784-W-W-10 with ReLU; its counts and structure are known without building it', () => {
  expect(isModelId('er-mlp-50')).toBe(true);
  expect(isModelId('er-mlp-0')).toBe(false);
  expect(isModelId('er-mlp-')).toBe(false);
  expect(isModelId('er-mlp-2000000')).toBe(false);
  expect(erMlpWidth('lenet5')).toBeNull();
  expect(() => erMlpWidth('er-mlp-2000000')).toThrow(/E_OUT_OF_RANGE.*1\.\.1000000/);
  built = createModel('er-mlp-50', { seed: 'er' });
  expect(built.variables.map((v) => [v.name, v.variable.shape, v.prunable])).toEqual([
    ['fc1.weight', [784, 50], true],
    ['fc1.bias', [50], false],
    ['fc2.weight', [50, 50], true],
    ['fc2.bias', [50], false],
    ['fc3.weight', [50, 10], true],
    ['fc3.bias', [10], false],
  ]);
  // 784·50 + 50² + 50·10 = 42 200 masked; + 50 + 50 + 10 biases.
  expect(modelInfo('er-mlp-50')).toMatchObject({ id: 'er-mlp-50', dataset: 'mnist', maskedWeights: 42_200, totalParameters: 42_310 });
  expect(built.counts).toEqual({ masked: 42_200, total: 42_310 });
  expect(built.layersModel.layers.map((l) => l.getClassName())).toEqual(['InputLayer', 'Flatten', 'Dense', 'ReLU', 'Dense', 'ReLU', 'Dense']);
  // The spec names the same variables and shapes; a width of 10⁵ is described without allocating anything.
  const spec = denseChainSpec('er-mlp-50')!;
  expect(spec.layers.map((l) => [`${l.name}.weight`, l.inFeatures, l.outFeatures, l.relu, l.bias])).toEqual([
    ['fc1.weight', 784, 50, true, true],
    ['fc2.weight', 50, 50, true, true],
    ['fc3.weight', 50, 10, false, true],
  ]);
  expect(denseChainSpec('er-mlp-100000')!.layers.map((l) => l.inFeatures * l.outFeatures)).toEqual([78_400_000, 10_000_000_000, 1_000_000]);
  expect(modelInfo('er-mlp-100000').maskedWeights).toBe(10_079_400_000);
  expect(denseChainSpec('set-mlp')!.layers.map((l) => l.outFeatures)).toEqual([4000, 1000, 4000, 10]);
  expect(denseChainSpec('lenet300-100', { numClasses: 7 })!.layers.map((l) => l.outFeatures)).toEqual([300, 100, 7]);
  expect(denseChainSpec('lenet5')).toBeNull();
  const out = tf.tidy(() => built!.predict(tf.ones([2, 28, 28, 1])).shape);
  expect(out).toEqual([2, 10]);
});
