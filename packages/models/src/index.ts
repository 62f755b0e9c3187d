/**
 * @sparse-learning/models — the Sparse Momentum paper's model zoo (docs/algorithm.md#models) on tfjs-layers: LeNet-300-100,
 * LeNet-5-Caffe, AlexNet-s/b, VGG16-C/D/like, WideResNet-16-8/16-10/22-8/28-2 and ResNet-50, with PyTorch
 * initialisation, PyTorch padding, PyTorch parameter names and the masked/dense split of
 * docs/algorithm.md#which-weights-are-sparse.
 */
export { createModel, modelInfo, modelIds, modelFamilies, isModelId } from './registry.js';
export { createErMlp, denseChainSpec, erMlpWidth, ER_MLP_FAMILY, ER_MLP_PATTERN, ER_MLP_MAX_WIDTH } from './er-mlp.js';
export type { DenseChainSpec, DenseChainLayer } from './er-mlp.js';
export type { ModelId, ModelInfo } from './registry.js';
export type { ModelOptions, InputShape } from './model-options.js';
export { LayersTrainableModel, countParameters } from './layers-trainable-model.js';
export type { ZooModel, ZooDataset, ParameterCounts } from './layers-trainable-model.js';
export { createLeNet300100 } from './lenet300-100.js';
export { createSetMlp, SET_MLP_HIDDEN } from './set-mlp.js';
export { createDsrMnistMlp } from './dsr-mnist-mlp.js';
export { createLeNet5 } from './lenet5.js';
export { createAlexNet, ALEXNET_CONVS } from './alexnet.js';
export type { AlexNetConfig } from './alexnet.js';
export { createVgg16, VGG_CONFIGS } from './vgg16.js';
export type { VggConfig, VggLayer } from './vgg16.js';
export { createWideResNet } from './wide-resnet.js';
export type { WideResNetOptions } from './wide-resnet.js';
export { createResNet50 } from './resnet50.js';
export type { ResNet50Options, ResNetInit } from './resnet50.js';
export { ModelBuilder, BN_MOMENTUM, BN_EPSILON, BN_TORCH_MOMENTUM } from './builder.js';
export type { Apply, Sym, Conv2dSpec, LinearSpec, BuilderOptions } from './builder.js';
export { TorchBatchNorm } from './torch-batch-norm.js';
export type { RunningVariance, TorchBatchNormArgs } from './torch-batch-norm.js';
export { SeededDropout, RandomKeyStream, defaultRandomKey } from './seeded-dropout.js';
export type { SeededDropoutArgs } from './seeded-dropout.js';
export {
  SeedSource,
  pytorchKernelInitializer,
  pytorchBiasInitializer,
  normalInitializer,
  heNormalFanOutStd,
  heNormalFanInStd,
  kernelInitializer,
  biasInitializer,
} from './init.js';
export type { Initializer, KernelInit, BiasInit } from './init.js';
export { planPadding, convOutputSize } from './padding.js';
export type { PaddingPlan } from './padding.js';
