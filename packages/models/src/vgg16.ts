import * as tfl from '@tensorflow/tfjs-layers';
import { ModelBuilder } from './builder.js';
import type { Apply } from './builder.js';
import { finishModel } from './layers-trainable-model.js';
import type { LayersTrainableModel } from './layers-trainable-model.js';
import { flatSize, resolveShape } from './model-options.js';
import type { ModelOptions } from './model-options.js';

/** VGG16 variant (docs/algorithm.md#models): `C` (with 1×1 convs), `D`, or `like` (one hidden classifier layer). */
export type VggConfig = 'C' | 'D' | 'like';

/** One entry of a VGG config: a 3×3 conv width, `[kernel, width]` for a 1×1 conv, or `'M'` (max pool). */
export type VggLayer = number | readonly [number, number] | 'M';

const D_LAYERS: readonly VggLayer[] = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'];

/** `VGG_CONFIGS` of the official code (docs/algorithm.md#models). */
export const VGG_CONFIGS: Readonly<Record<VggConfig, readonly VggLayer[]>> = {
  C: [64, 64, 'M', 128, 128, 'M', 256, 256, [1, 256], 'M', 512, 512, [1, 512], 'M', 512, 512, [1, 512], 'M'],
  D: D_LAYERS,
  like: D_LAYERS,
};

/**
 * VGG16-C / -D / -like for CIFAR-10 (docs/algorithm.md#models, `VGG16(config, 10)`, `make_layers(batch_norm=True)`):
 * every conv `conv(bias, padding=1) → BN2d → ReLU`, 2×2/2 max pools. The quirk of `C` is kept: its 1×1
 * convs also pad by 1 and grow the map by 2 px, so the classifier input is 512·2·2 = 2048 (D/like: 512).
 * Classifier C/D: `Linear(2048|512 → 512) → ReLU → BN1d → Linear 512→512 → ReLU → BN1d → Linear →10`
 * (ReLU before BN); `like`: `Linear 512→512 → ReLU → BN1d → Linear →10`. Module names follow the
 * `nn.Sequential` indices (`features.0, 3, 7, 10, ...`; `classifier.0, 2, 3, 5, 6`). PyTorch default init.
 */
export function createVgg16(config: VggConfig, options: ModelOptions = {}): LayersTrainableModel {
  const { inputShape, numClasses } = resolveShape(options, [32, 32, 3], 10);
  const b = new ModelBuilder(options.seed, options);

  const features: Apply[] = [];
  let inChannels = inputShape[2];
  let index = 0;
  for (const entry of VGG_CONFIGS[config]) {
    if (entry === 'M') {
      features.push(b.maxPool(2, 2));
      index += 1;
      continue;
    }
    const [kernelSize, out] = typeof entry === 'number' ? [3, entry] : entry;
    // padding=1 for every conv, including the 1×1 ones (official quirk, docs/algorithm.md#models).
    const conv = b.conv2d(`features.${index}`, { inChannels, outChannels: out, kernelSize, padding: 1 });
    const bn = b.batchNorm(`features.${index + 1}`, out);
    const relu = b.relu();
    features.push((x) => relu(bn(conv(x))));
    inChannels = out;
    index += 3;
  }

  const input = tfl.input({ shape: [...inputShape] });
  let x = features.reduce((h, layer) => layer(h), input);
  x = b.flatten()(x);
  const inFeatures = flatSize(x.shape);
  if (config === 'like') {
    const fc0 = b.linear('classifier.0', { inFeatures, outFeatures: 512 });
    const bn2 = b.batchNorm('classifier.2', 512);
    const fc3 = b.linear('classifier.3', { inFeatures: 512, outFeatures: numClasses });
    x = fc3(bn2(b.relu()(fc0(x))));
  } else {
    const fc0 = b.linear('classifier.0', { inFeatures, outFeatures: 512 });
    const bn2 = b.batchNorm('classifier.2', 512);
    const fc3 = b.linear('classifier.3', { inFeatures: 512, outFeatures: 512 });
    const bn5 = b.batchNorm('classifier.5', 512);
    const fc6 = b.linear('classifier.6', { inFeatures: 512, outFeatures: numClasses });
    x = bn2(b.relu()(fc0(x)));
    x = bn5(b.relu()(fc3(x)));
    x = fc6(x);
  }
  return finishModel(`vgg-${config === 'like' ? 'like' : config.toLowerCase()}`, b, input, x, inputShape, numClasses);
}
