import * as tfl from '@tensorflow/tfjs-layers';
import { ModelBuilder } from './builder.js';
import type { Apply } from './builder.js';
import { heNormalFanInStd, heNormalFanOutStd } from './init.js';
import { finishModel } from './layers-trainable-model.js';
import type { LayersTrainableModel } from './layers-trainable-model.js';
import { resolveShape } from './model-options.js';
import type { ModelOptions } from './model-options.js';

/**
 * Conv init of ResNet-50 (docs/algorithm.md#models): `fan-out` = DSR-codebase model (`imagenet/baseline/model.py`),
 * N(0, √(2/(k²·out))); `fan-in` = tuned NVIDIA model (config `fanin`), `kaiming_normal_(fan_in, relu)`.
 */
export type ResNetInit = 'fan-out' | 'fan-in';

/** Options of {@link createResNet50}. */
export interface ResNet50Options extends ModelOptions {
  /** Conv init; default `fan-out` (DSR codebase). BN γ=1 β=0 and a PyTorch-default FC in both. */
  readonly init?: ResNetInit;
}

/** Bottleneck stages of ResNet-50: [blocks, planes, stride]. */
const STAGES: readonly (readonly [number, number, number])[] = [
  [3, 64, 1],
  [4, 128, 2],
  [6, 256, 2],
  [3, 512, 2],
];
const EXPANSION = 4;

/**
 * ResNet-50 for ImageNet (docs/algorithm.md#models), torchvision layout and names (`conv1`, `bn1`, `layerS.i.conv1..3`,
 * `bn1..3`, `downsample.0/1`, `fc`): stem `conv1 7×7/2 pad 3 → BN → ReLU → maxpool 3/2 pad 1`, bottlenecks
 * [3,4,6,3] with the stride on the 3×3 conv ("v1.5", as both official codebases), 1×1 downsample conv + BN
 * on the first block of every stage, global average pool, `fc 2048→1000` (bias). All 53 convs and the FC
 * weight are masked: 25,502,912 of 25,557,032 parameters.
 *
 * The stem max pool pads with zeros where PyTorch pads with −∞; identical because its input is a ReLU
 * output (≥ 0). Global average pooling = `AdaptiveAvgPool2d(1)`, so any input ≥ 32×32 works.
 */
export function createResNet50(options: ResNet50Options = {}): LayersTrainableModel {
  const { inputShape, numClasses } = resolveShape(options, [224, 224, 3], 1000);
  const init = options.init ?? 'fan-out';
  const b = new ModelBuilder(options.seed, options);

  const conv = (name: string, inChannels: number, outChannels: number, kernelSize: number, stride: number, padding: number): Apply =>
    b.conv2d(name, {
      inChannels,
      outChannels,
      kernelSize,
      stride,
      padding,
      bias: false,
      kernelInit: {
        normal: init === 'fan-out' ? heNormalFanOutStd(kernelSize, outChannels) : heNormalFanInStd(kernelSize, inChannels),
      },
    });

  const bottleneck = (name: string, inPlanes: number, planes: number, stride: number): Apply => {
    const out = planes * EXPANSION;
    const conv1 = conv(`${name}.conv1`, inPlanes, planes, 1, 1, 0);
    const bn1 = b.batchNorm(`${name}.bn1`, planes);
    const conv2 = conv(`${name}.conv2`, planes, planes, 3, stride, 1);
    const bn2 = b.batchNorm(`${name}.bn2`, planes);
    const conv3 = conv(`${name}.conv3`, planes, out, 1, 1, 0);
    const bn3 = b.batchNorm(`${name}.bn3`, out);
    let downsample: Apply | undefined;
    if (stride !== 1 || inPlanes !== out) {
      const dsConv = conv(`${name}.downsample.0`, inPlanes, out, 1, stride, 0);
      const dsBn = b.batchNorm(`${name}.downsample.1`, out);
      downsample = (x) => dsBn(dsConv(x));
    }
    const [relu1, relu2, relu3] = [b.relu(), b.relu(), b.relu()];
    const add = b.add();
    return (x) => {
      let h = relu1(bn1(conv1(x)));
      h = relu2(bn2(conv2(h)));
      h = bn3(conv3(h));
      return relu3(add(h, downsample === undefined ? x : downsample(x)));
    };
  };

  const conv1 = conv('conv1', inputShape[2], 64, 7, 2, 3);
  const bn1 = b.batchNorm('bn1', 64);
  const blocks: Apply[] = [];
  let inPlanes = 64;
  STAGES.forEach(([count, planes, stride], s) => {
    for (let i = 0; i < count; i++) {
      blocks.push(bottleneck(`layer${s + 1}.${i}`, inPlanes, planes, i === 0 ? stride : 1));
      inPlanes = planes * EXPANSION;
    }
  });
  const fc = b.linear('fc', { inFeatures: inPlanes, outFeatures: numClasses });

  const input = tfl.input({ shape: [...inputShape] });
  let x = b.maxPool(3, 2, 1)(b.relu()(bn1(conv1(input))));
  x = blocks.reduce((h, block) => block(h), x);
  const logits = fc(b.globalAvgPool()(x));
  return finishModel('resnet50', b, input, logits, inputShape, numClasses);
}
