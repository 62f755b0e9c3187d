import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createModel, modelInfo, modelIds } from './registry.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

let built: ReturnType<typeof createModel> | null = null;
afterAll(() => built?.dispose());

it('set-mlp is 784-4000-1000-4000-10 with ReLU, registered with its counts', () => {
  expect(modelIds).toContain('set-mlp');
  built = createModel('set-mlp', { seed: 'set' });
  expect(built.variables.map((v) => [v.name, v.variable.shape, v.prunable])).toEqual([
    ['fc1.weight', [784, 4000], true],
    ['fc1.bias', [4000], false],
    ['fc2.weight', [4000, 1000], true],
    ['fc2.bias', [1000], false],
    ['fc3.weight', [1000, 4000], true],
    ['fc3.bias', [4000], false],
    ['fc4.weight', [4000, 10], true],
    ['fc4.bias', [10], false],
  ]);
  expect(built.counts).toEqual({ masked: modelInfo('set-mlp').maskedWeights, total: modelInfo('set-mlp').totalParameters });
  expect(modelInfo('set-mlp')).toMatchObject({ dataset: 'mnist', maskedWeights: 11_176_000, totalParameters: 11_185_010 });
  const kinds = built.layersModel.layers.map((l) => l.getClassName());
  expect(kinds).toEqual(['InputLayer', 'Flatten', 'Dense', 'ReLU', 'Dense', 'ReLU', 'Dense', 'ReLU', 'Dense']);
  const out = tf.tidy(() => built!.predict(tf.ones([2, 28, 28, 1])).shape);
  expect(out).toEqual([2, 10]);
});
