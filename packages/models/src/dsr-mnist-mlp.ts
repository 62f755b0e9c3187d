import * as tfl from '@tensorflow/tfjs-layers';
import { ModelBuilder } from './builder.js';
import { finishModel } from './layers-trainable-model.js';
import type { LayersTrainableModel } from './layers-trainable-model.js';
import { resolveShape } from './model-options.js';
import type { ModelOptions } from './model-options.js';

/**
 * The MNIST MLP of the DSR codebase (Mostafa & Wang 2019; the `mnist_mlp` the Sparse Momentum paper's SET,
 * DeepR and DSR values on LeNet-300-100 were run with, docs/algorithm.md#baselines): LeNet-300-100's widths,
 * but every linear layer without bias and followed by batch norm, the 10 logits included —
 * `fc1 784→300 → BN → ReLU → fc2 300→100 → BN → ReLU → fc3 100→10 → BN`. PyTorch default init (as every zoo
 * model), PyTorch batch-norm semantics. 266,200 masked weights (as LeNet-300-100), 267,020 parameters (BN γ, β).
 *
 * It exists to measure how much of a baseline's distance from its published value is this architecture
 * (results/README.md, issue 14); the paper's own Sparse Momentum runs use {@link createLeNet300100}.
 * Runs through the tfjs-layers executor (no fused dense path: batch norm sits between the layers).
 */
export function createDsrMnistMlp(options: ModelOptions = {}): LayersTrainableModel {
  const { inputShape, numClasses } = resolveShape(options, [28, 28, 1], 10);
  const inFeatures = inputShape[0] * inputShape[1] * inputShape[2];
  const b = new ModelBuilder(options.seed, options);
  // Declaration order = PyTorch's module order in `mnist_mlp.__init__`: fc1, fc_int, fc2, then bn1..bn3.
  const fc1 = b.linear('fc1', { inFeatures, outFeatures: 300, bias: false });
  const fc2 = b.linear('fc2', { inFeatures: 300, outFeatures: 100, bias: false });
  const fc3 = b.linear('fc3', { inFeatures: 100, outFeatures: numClasses, bias: false });
  const bn1 = b.batchNorm('bn1', 300);
  const bn2 = b.batchNorm('bn2', 100);
  const bn3 = b.batchNorm('bn3', numClasses);

  const input = tfl.input({ shape: [...inputShape] });
  let x = b.flatten()(input);
  x = b.relu()(bn1(fc1(x)));
  x = b.relu()(bn2(fc2(x)));
  const logits = bn3(fc3(x));
  return finishModel('dsr-mnist-mlp', b, input, logits, inputShape, numClasses);
}
