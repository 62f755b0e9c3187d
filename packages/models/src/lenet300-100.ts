import * as tfl from '@tensorflow/tfjs-layers';
import { ModelBuilder } from './builder.js';
import { denseChainForward } from './dense-chain.js';
import { finishModel } from './layers-trainable-model.js';
import type { LayersTrainableModel } from './layers-trainable-model.js';
import { resolveShape } from './model-options.js';
import type { ModelOptions } from './model-options.js';

/**
 * LeNet-300-100 (docs/algorithm.md#models, `LeNet_300_100`): `fc1 784→300 → ReLU → fc2 300→100 → ReLU → fc3 100→10`,
 * all with bias, PyTorch default init. Takes MNIST images `[28,28,1]` and flattens them internally
 * (PyTorch `x.view(-1, 784)`). 266,200 masked weights, 266,610 parameters.
 *
 * Unless `fused: false`, `loss` and `predict` run the same network as three `fusedDense` ops on the
 * weights (flatten as tfjs-layers' `Flatten` does, then dense + ReLU, dense + ReLU, dense): identical results,
 * a fraction of the kernel launches (issue 10).
 */
export function createLeNet300100(options: ModelOptions = {}): LayersTrainableModel {
  const { inputShape, numClasses } = resolveShape(options, [28, 28, 1], 10);
  const inFeatures = inputShape[0] * inputShape[1] * inputShape[2];
  const b = new ModelBuilder(options.seed, options);
  const fc1 = b.linear('fc1', { inFeatures, outFeatures: 300 });
  const fc2 = b.linear('fc2', { inFeatures: 300, outFeatures: 100 });
  const fc3 = b.linear('fc3', { inFeatures: 100, outFeatures: numClasses });

  const input = tfl.input({ shape: [...inputShape] });
  let x = b.flatten()(input);
  x = b.relu()(fc1(x));
  x = b.relu()(fc2(x));
  const logits = fc3(x);
  // The same network as fused dense ops, used unless `fused: false` (finishModel decides).
  const direct = denseChainForward(['fc1', 'fc2', 'fc3'], inFeatures);
  return finishModel('lenet300-100', b, input, logits, inputShape, numClasses, direct);
}
