import * as tfl from '@tensorflow/tfjs-layers';
import { ModelBuilder } from './builder.js';
import { denseChainForward } from './dense-chain.js';
import { finishModel } from './layers-trainable-model.js';
import type { LayersTrainableModel } from './layers-trainable-model.js';
import { resolveShape } from './model-options.js';
import type { ModelOptions } from './model-options.js';

/** Hidden widths of {@link createSetMlp}. */
export const SET_MLP_HIDDEN = [4000, 1000, 4000] as const;

/**
 * SET-MLP (Mocanu et al. 2018, "Scalable training of artificial neural networks with adaptive sparse
 * connectivity", the MNIST MLP of §"Results"): `fc1 784→4000 → ReLU → fc2 4000→1000 → ReLU → fc3 1000→4000 →
 * ReLU → fc4 4000→10`, all with bias, PyTorch default init (as every zoo model). The wide MLP where truly
 * sparse execution pays most (issue 9). Takes MNIST images `[28,28,1]` and flattens them internally.
 * 11,176,000 masked weights, 11,185,010 parameters. Unless `fused: false`, `loss` and `predict` run as
 * four fused dense ops on the weights (identical results, issue 10).
 */
export function createSetMlp(options: ModelOptions = {}): LayersTrainableModel {
  const { inputShape, numClasses } = resolveShape(options, [28, 28, 1], 10);
  const inFeatures = inputShape[0] * inputShape[1] * inputShape[2];
  const b = new ModelBuilder(options.seed, options);
  const widths = [inFeatures, ...SET_MLP_HIDDEN, numClasses];
  const layers = widths.slice(1).map((outFeatures, i) => b.linear(`fc${i + 1}`, { inFeatures: widths[i], outFeatures }));

  const input = tfl.input({ shape: [...inputShape] });
  let x = b.flatten()(input);
  layers.forEach((layer, i) => {
    x = layer(x);
    if (i < layers.length - 1) x = b.relu()(x);
  });
  // The same network as fused dense ops, used unless `fused: false` (finishModel decides).
  const direct = denseChainForward(widths.slice(1).map((_, i) => `fc${i + 1}`), inFeatures);
  return finishModel('set-mlp', b, input, x, inputShape, numClasses, direct);
}
