import * as tfl from '@tensorflow/tfjs-layers';
import { outOfRangeError } from '@sparse-learning/core';
import { ModelBuilder } from './builder.js';
import type { Apply, Sym } from './builder.js';
import { heNormalFanOutStd } from './init.js';
import { finishModel } from './layers-trainable-model.js';
import type { LayersTrainableModel } from './layers-trainable-model.js';
import { resolveShape } from './model-options.js';
import type { ModelOptions } from './model-options.js';

/** Options of {@link createWideResNet}. */
export interface WideResNetOptions extends ModelOptions {
  /** Dropout between the two convs of every block, training only. Default 0.3 (all paper configs, docs/algorithm.md#models). */
  readonly dropRate?: number;
}

/**
 * WideResNet-depth-k for CIFAR-10 (docs/algorithm.md#models, `WideResNet(depth, k, 10, 0.3)`), pre-activation basic blocks.
 *
 * - `conv1` 3→16, 3×3, no bias; three groups `block1..3` of n = (depth−4)/6 blocks with widths 16k, 32k,
 *   64k and strides 1, 2, 2; head `bn1 → ReLU → avg pool → fc` (64k→10, bias).
 * - Block (`blockG.layer.i`): if in == out: `o = ReLU(bn1(x))`, shortcut `x`; else `x' = ReLU(bn1(x))` feeds
 *   both `conv1` and the 1×1 `convShortcut` (no bias, stride of the block). Then `ReLU(bn2(conv1))` →
 *   dropout → `conv2`, plus the shortcut. The first block of every group has a shortcut conv (16 ≠ 16k).
 * - Init (official override): every conv N(0, √(2/(k·k·out))), BN γ=1 β=0, fc bias 0, fc weight PyTorch
 *   default.
 * - Stride-2 3×3 convs use explicit symmetric padding (docs/algorithm.md#models).
 * - `avg_pool2d(8)` is implemented as global average pooling: identical on the 8×8 map of a 32×32 input,
 *   and it keeps smaller test inputs usable.
 */
export function createWideResNet(depth: number, widenFactor: number, options: WideResNetOptions = {}): LayersTrainableModel {
  if (!Number.isInteger(depth) || depth < 10 || (depth - 4) % 6 !== 0) {
    throw outOfRangeError('depth', depth, '6n + 4 with n >= 1 (e.g. 16, 22, 28)');
  }
  if (!Number.isInteger(widenFactor) || widenFactor < 1) throw outOfRangeError('widenFactor', widenFactor, 'an integer >= 1');
  const dropRate = options.dropRate ?? 0.3;
  if (!(dropRate >= 0 && dropRate < 1)) throw outOfRangeError('dropRate', dropRate, '0 <= dropRate < 1');
  const { inputShape, numClasses } = resolveShape(options, [32, 32, 3], 10);
  const n = (depth - 4) / 6;
  const channels = [16, 16 * widenFactor, 32 * widenFactor, 64 * widenFactor];
  const b = new ModelBuilder(options.seed, options);

  const conv = (name: string, inChannels: number, outChannels: number, kernelSize: number, stride: number): Apply =>
    b.conv2d(name, {
      inChannels,
      outChannels,
      kernelSize,
      stride,
      padding: kernelSize === 3 ? 1 : 0,
      bias: false,
      kernelInit: { normal: heNormalFanOutStd(kernelSize, outChannels) },
    });

  const basicBlock = (name: string, inPlanes: number, outPlanes: number, stride: number): Apply => {
    // Declared in the PyTorch registration order: bn1, conv1, bn2, conv2, convShortcut.
    const bn1 = b.batchNorm(`${name}.bn1`, inPlanes);
    const relu1 = b.relu();
    const conv1 = conv(`${name}.conv1`, inPlanes, outPlanes, 3, stride);
    const bn2 = b.batchNorm(`${name}.bn2`, outPlanes);
    const relu2 = b.relu();
    const drop = dropRate > 0 ? b.dropout(dropRate) : (x: Sym) => x;
    const conv2 = conv(`${name}.conv2`, outPlanes, outPlanes, 3, 1);
    const equalInOut = inPlanes === outPlanes;
    const shortcut = equalInOut ? undefined : conv(`${name}.convShortcut`, inPlanes, outPlanes, 1, stride);
    const add = b.add();
    return (x) => {
      const o = relu1(bn1(x));
      const h = conv2(drop(relu2(bn2(conv1(o)))));
      return add(shortcut === undefined ? x : shortcut(o), h);
    };
  };

  const conv1 = conv('conv1', inputShape[2], channels[0], 3, 1);
  const groups: Apply[] = [];
  const strides = [1, 2, 2];
  for (let g = 0; g < 3; g++) {
    for (let i = 0; i < n; i++) {
      const inPlanes = i === 0 ? channels[g] : channels[g + 1];
      groups.push(basicBlock(`block${g + 1}.layer.${i}`, inPlanes, channels[g + 1], i === 0 ? strides[g] : 1));
    }
  }
  const bn1 = b.batchNorm('bn1', channels[3]);
  const fc = b.linear('fc', { inFeatures: channels[3], outFeatures: numClasses, biasInit: 'zeros' });

  const input = tfl.input({ shape: [...inputShape] });
  let x = groups.reduce((h, block) => block(h), conv1(input));
  x = b.globalAvgPool()(b.relu()(bn1(x)));
  const logits = fc(x);
  return finishModel(`wrn-${depth}-${widenFactor}`, b, input, logits, inputShape, numClasses);
}
