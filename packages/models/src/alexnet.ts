import * as tfl from '@tensorflow/tfjs-layers';
import { ModelBuilder } from './builder.js';
import type { Apply } from './builder.js';
import { finishModel } from './layers-trainable-model.js';
import type { LayersTrainableModel } from './layers-trainable-model.js';
import { flatSize, resolveShape } from './model-options.js';
import type { ModelOptions } from './model-options.js';

/** AlexNet size: `s` (classifier width 1024) or `b` (2048). */
export type AlexNetConfig = 's' | 'b';

/** The five conv layers of the CIFAR AlexNet (docs/algorithm.md#models table): [out, kernel, stride, padding]. */
export const ALEXNET_CONVS: readonly (readonly [number, number, number, number])[] = [
  [96, 11, 2, 2],
  [256, 5, 2, 2],
  [384, 3, 2, 1],
  [384, 3, 2, 1],
  [256, 3, 2, 1],
];

/**
 * AlexNet-s / AlexNet-b for CIFAR-10 (docs/algorithm.md#models, `AlexNet('s'|'b', 10)`): five stride-2 convs, each
 * `conv(bias) → BN2d → ReLU` with explicit symmetric padding (32 → 13 → 7 → 4 → 2 → 1), no pooling, no
 * dropout; classifier `Linear 256→1024f → BN1d → ReLU → Linear → BN1d → ReLU → Linear →10` (f = 1 for `s`,
 * 2 for `b`). Module names `features.{0,3,6,9,12}` (BN `features.{1,4,...}`), `classifier.{0,1,3,4,6}`.
 * PyTorch default init. s: 5,066,784 masked / 5,077,066 total; b: 8,484,896 / 8,501,322.
 */
export function createAlexNet(config: AlexNetConfig, options: ModelOptions = {}): LayersTrainableModel {
  const { inputShape, numClasses } = resolveShape(options, [32, 32, 3], 10);
  const width = 1024 * (config === 's' ? 1 : 2);
  const b = new ModelBuilder(options.seed, options);

  const features: Apply[] = [];
  let inChannels = inputShape[2];
  ALEXNET_CONVS.forEach(([out, k, stride, padding], i) => {
    const conv = b.conv2d(`features.${3 * i}`, { inChannels, outChannels: out, kernelSize: k, stride, padding });
    const bn = b.batchNorm(`features.${3 * i + 1}`, out);
    const relu = b.relu();
    features.push((x) => relu(bn(conv(x))));
    inChannels = out;
  });

  const input = tfl.input({ shape: [...inputShape] });
  let x = features.reduce((h, layer) => layer(h), input);
  x = b.flatten()(x);
  const fc0 = b.linear('classifier.0', { inFeatures: flatSize(x.shape), outFeatures: width });
  const bn1 = b.batchNorm('classifier.1', width);
  const fc3 = b.linear('classifier.3', { inFeatures: width, outFeatures: width });
  const bn4 = b.batchNorm('classifier.4', width);
  const fc6 = b.linear('classifier.6', { inFeatures: width, outFeatures: numClasses });
  x = b.relu()(bn1(fc0(x)));
  x = b.relu()(bn4(fc3(x)));
  const logits = fc6(x);
  return finishModel(`alexnet-${config}`, b, input, logits, inputShape, numClasses);
}
