import * as tfl from '@tensorflow/tfjs-layers';
import { ModelBuilder } from './builder.js';
import { finishModel } from './layers-trainable-model.js';
import type { LayersTrainableModel } from './layers-trainable-model.js';
import { flatSize, resolveShape } from './model-options.js';
import type { ModelOptions } from './model-options.js';

/**
 * LeNet-5-Caffe (docs/algorithm.md#models, `LeNet_5_Caffe`): `conv1 1→20 5×5 → ReLU → maxpool 2 → conv2 20→50 5×5 → ReLU →
 * maxpool 2 → flatten 800 → fc3 800→500 → ReLU → fc4 500→10` (ReLU before pooling, no padding, all with
 * bias, PyTorch default init). 430,500 masked weights, 431,080 parameters.
 */
export function createLeNet5(options: ModelOptions = {}): LayersTrainableModel {
  const { inputShape, numClasses } = resolveShape(options, [28, 28, 1], 10);
  const b = new ModelBuilder(options.seed, options);
  const conv1 = b.conv2d('conv1', { inChannels: inputShape[2], outChannels: 20, kernelSize: 5 });
  const conv2 = b.conv2d('conv2', { inChannels: 20, outChannels: 50, kernelSize: 5 });

  const input = tfl.input({ shape: [...inputShape] });
  let x = b.maxPool(2, 2)(b.relu()(conv1(input)));
  x = b.maxPool(2, 2)(b.relu()(conv2(x)));
  x = b.flatten()(x);
  // fc3/fc4 are declared after the convs, as in PyTorch; fc3's width follows the input (800 at 28×28).
  const fc3 = b.linear('fc3', { inFeatures: flatSize(x.shape), outFeatures: 500 });
  const fc4 = b.linear('fc4', { inFeatures: 500, outFeatures: numClasses });
  const logits = fc4(b.relu()(fc3(x)));
  return finishModel('lenet5', b, input, logits, inputShape, numClasses);
}
