import { unknownIdError } from '@sparse-learning/core';
import { createAlexNet } from './alexnet.js';
import { createDsrMnistMlp } from './dsr-mnist-mlp.js';
import { ER_MLP_FAMILY, createErMlp, erMlpWidth } from './er-mlp.js';
import type { LayersTrainableModel, ZooDataset } from './layers-trainable-model.js';
import { createLeNet300100 } from './lenet300-100.js';
import { createLeNet5 } from './lenet5.js';
import type { InputShape, ModelOptions } from './model-options.js';
import { createResNet50 } from './resnet50.js';
import { createSetMlp } from './set-mlp.js';
import { createVgg16 } from './vgg16.js';
import { createWideResNet } from './wide-resnet.js';

/** The official CLI model ids (docs/algorithm.md#models table; `resnet50` for the ImageNet model). */
export const modelIds = [
  'lenet300-100',
  'lenet5',
  'alexnet-s',
  'alexnet-b',
  'vgg-c',
  'vgg-d',
  'vgg-like',
  'wrn-16-8',
  'wrn-16-10',
  'wrn-22-8',
  'wrn-28-2',
  'resnet50',
  'set-mlp',
  'dsr-mnist-mlp',
] as const;

/**
 * Parameterised model families: `er-mlp-<width>` (784-W-W-10 ReLU MLP for Erdős–Rényi sparse runs, issue 9),
 * e.g. `er-mlp-100000`. `models` lists the pattern; {@link isModelId} accepts every member.
 */
export const modelFamilies = [ER_MLP_FAMILY] as const;

/** One of {@link modelIds}, or a member of a {@link modelFamilies} family. */
export type ModelId = (typeof modelIds)[number] | `er-mlp-${number}`;

/** Static facts about a zoo model (default input shape and class count). */
export interface ModelInfo {
  readonly id: ModelId;
  readonly dataset: ZooDataset;
  readonly inputShape: InputShape;
  /** Elements of all masked tensors (every conv and linear weight, docs/algorithm.md#which-weights-are-sparse). */
  readonly maskedWeights: number;
  /** All trainable parameters as PyTorch counts them (BN running statistics excluded). */
  readonly totalParameters: number;
}

interface Entry {
  readonly info: ModelInfo;
  readonly create: (options: ModelOptions) => LayersTrainableModel;
}

const MNIST: InputShape = [28, 28, 1];
const CIFAR: InputShape = [32, 32, 3];
const IMAGENET: InputShape = [224, 224, 3];

function entry(
  id: ModelId,
  dataset: ZooDataset,
  inputShape: InputShape,
  maskedWeights: number,
  totalParameters: number,
  create: (options: ModelOptions) => LayersTrainableModel,
): Entry {
  return { info: { id, dataset, inputShape, maskedWeights, totalParameters }, create };
}

/**
 * The zoo table (docs/algorithm.md#models). The counts are the spec's and are checked against the built models by the tests,
 * so {@link modelInfo} can answer without building anything.
 */
const ZOO: Readonly<Record<(typeof modelIds)[number], Entry>> = {
  'lenet300-100': entry('lenet300-100', 'mnist', MNIST, 266_200, 266_610, createLeNet300100),
  lenet5: entry('lenet5', 'mnist', MNIST, 430_500, 431_080, createLeNet5),
  'alexnet-s': entry('alexnet-s', 'cifar10', CIFAR, 5_066_784, 5_077_066, (o) => createAlexNet('s', o)),
  'alexnet-b': entry('alexnet-b', 'cifar10', CIFAR, 8_484_896, 8_501_322, (o) => createAlexNet('b', o)),
  'vgg-c': entry('vgg-c', 'cifar10', CIFAR, 11_307_712, 11_323_466, (o) => createVgg16('C', o)),
  'vgg-d': entry('vgg-d', 'cifar10', CIFAR, 15_239_872, 15_255_626, (o) => createVgg16('D', o)),
  'vgg-like': entry('vgg-like', 'cifar10', CIFAR, 14_977_728, 14_991_946, (o) => createVgg16('like', o)),
  'wrn-16-8': entry('wrn-16-8', 'cifar10', CIFAR, 10_954_160, 10_961_370, (o) => createWideResNet(16, 8, o)),
  'wrn-16-10': entry('wrn-16-10', 'cifar10', CIFAR, 17_107_632, 17_116_634, (o) => createWideResNet(16, 10, o)),
  'wrn-22-8': entry('wrn-22-8', 'cifar10', CIFAR, 17_147_312, 17_158_106, (o) => createWideResNet(22, 8, o)),
  'wrn-28-2': entry('wrn-28-2', 'cifar10', CIFAR, 1_463_984, 1_467_610, (o) => createWideResNet(28, 2, o)),
  resnet50: entry('resnet50', 'imagenet', IMAGENET, 25_502_912, 25_557_032, createResNet50),
  'set-mlp': entry('set-mlp', 'mnist', MNIST, 11_176_000, 11_185_010, createSetMlp),
  'dsr-mnist-mlp': entry('dsr-mnist-mlp', 'mnist', MNIST, 266_200, 267_020, createDsrMnistMlp),
};

function lookup(id: string): Entry {
  if (Object.prototype.hasOwnProperty.call(ZOO, id)) return ZOO[id as (typeof modelIds)[number]];
  const width = erMlpWidth(id);
  if (width !== null) {
    // 784·W + W·W + W·10 masked weights; biases W + W + 10.
    const masked = 784 * width + width * width + width * 10;
    return entry(id as ModelId, 'mnist', MNIST, masked, masked + 2 * width + 10, (o) => createErMlp(id, o));
  }
  throw unknownIdError('model', id, [...modelIds, ...modelFamilies]);
}

/** True when `id` is one of {@link modelIds} or a member of a {@link modelFamilies} family. */
export function isModelId(id: string): id is ModelId {
  if (Object.prototype.hasOwnProperty.call(ZOO, id)) return true;
  try {
    return erMlpWidth(id) !== null;
  } catch {
    return false;
  }
}

/**
 * Static facts about a model (docs/algorithm.md#models table) without building it. The counts are for the default input
 * shape and class count. Throws `E_UNKNOWN_ID` (listing the valid ids) for an unknown id.
 */
export function modelInfo(id: string): ModelInfo {
  return lookup(id).info;
}

/**
 * Builds a zoo model by its official CLI id (docs/algorithm.md#models). `options.seed` makes the initial weights
 * deterministic; `inputShape` / `numClasses` override the dataset defaults. Throws `E_UNKNOWN_ID` for an
 * unknown id.
 */
export function createModel(id: string, options: ModelOptions = {}): LayersTrainableModel {
  return lookup(id).create(options);
}
