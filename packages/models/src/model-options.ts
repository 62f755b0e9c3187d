import { outOfRangeError } from '@sparse-learning/core';
import type { RunningVariance } from './torch-batch-norm.js';

/** NHWC input shape without the batch axis: `[height, width, channels]`. */
export type InputShape = readonly [number, number, number];

/** Options every zoo factory accepts (docs/algorithm.md#models; defaults are the paper's datasets). */
export interface ModelOptions {
  /** Override the NHWC input shape (default: MNIST `[28,28,1]`, CIFAR `[32,32,3]`, ImageNet `[224,224,3]`). */
  readonly inputShape?: InputShape;
  /** Override the number of classes (default 10; 1000 for ResNet-50). */
  readonly numClasses?: number;
  /** Seed of every weight initializer: the same seed builds identical weights. Unseeded by default. */
  readonly seed?: number | string;
  /**
   * How batch norm updates its running variance in training: `'unbiased'` (default: PyTorch, docs/algorithm.md#models)
   * or `'biased'` (tfjs-layers/Keras, what this package did before 0.2). Models without batch norm ignore it.
   */
  readonly batchNormRunningVariance?: RunningVariance;
  /**
   * Run the training loss as core's `logSoftmaxNll` and, for fully connected models (LeNet-300-100), `loss`
   * and `predict` as core's `fusedDense` ops directly on the weights instead of through the tfjs-layers
   * executor (default true). Same kernels' arithmetic, same results bit for bit (tests compare both ways on
   * cpu, wasm and native); on a backend with the fused kernels (`native`) a dense layer is then one launch
   * forward and one backward, and so is the loss (issue 10). `false` keeps the executor and the composite loss.
   */
  readonly fused?: boolean;
}

/** Validates and fills in the input shape and class count. */
export function resolveShape(
  options: ModelOptions,
  defaultShape: InputShape,
  defaultClasses: number,
): { inputShape: [number, number, number]; numClasses: number } {
  const inputShape = options.inputShape ?? defaultShape;
  if (inputShape.length !== 3 || !inputShape.every((d) => Number.isInteger(d) && d > 0)) {
    throw outOfRangeError('inputShape', JSON.stringify(inputShape), '[height, width, channels] of positive integers');
  }
  const numClasses = options.numClasses ?? defaultClasses;
  if (!Number.isInteger(numClasses) || numClasses < 1) {
    throw outOfRangeError('numClasses', numClasses, 'an integer >= 1');
  }
  return { inputShape: [inputShape[0], inputShape[1], inputShape[2]], numClasses };
}

/** Number of features after flattening a symbolic `[batch, ...]` shape. */
export function flatSize(shape: readonly (number | null)[]): number {
  return shape.slice(1).reduce<number>((a, d) => a * (d ?? Number.NaN), 1);
}
