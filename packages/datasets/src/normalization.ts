import { SparseLearningError } from '@sparse-learning/core';

/**
 * Per-channel normalisation `(x / 255 - mean[c]) / std[c]`, torchvision's `ToTensor` + `Normalize`
 * (docs/algorithm.md#recipes). One entry per channel.
 */
export interface Normalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** MNIST: `Normalize((0.1307,), (0.3081,))` (docs/algorithm.md#recipes, `sparselearning/utils.py::get_mnist_dataloaders`). */
export const MNIST_NORMALIZATION: Normalization = Object.freeze({ mean: [0.1307], std: [0.3081] });

/**
 * CIFAR-10: `Normalize((0.4914, 0.4822, 0.4465), (0.2023, 0.1994, 0.2010))` (docs/algorithm.md#recipes,
 * `get_cifar10_dataloaders`), channels R, G, B.
 */
export const CIFAR10_NORMALIZATION: Normalization = Object.freeze({
  mean: [0.4914, 0.4822, 0.4465],
  std: [0.2023, 0.1994, 0.201],
});

/**
 * A lookup table `table[c * 256 + byte]` holding the normalised float32 value of every byte in every channel.
 *
 * Why a table: a batch then costs one lookup per pixel, and the values are bit-identical to PyTorch's float32
 * pipeline: `ToTensor` computes `fround(byte / 255)`, `Normalize` then `sub_(mean)` and `div_(std)` with
 * float32 `mean`/`std`; each step is rounded to float32 here exactly as there (a double-precision operation
 * on float32 operands followed by `Math.fround` is the correctly rounded float32 result).
 */
export function normalizationTable(normalization: Normalization, channels: number): Float32Array {
  const { mean, std } = normalization;
  if (mean.length !== channels || std.length !== channels) {
    throw new SparseLearningError(
      'E_CONFIG_INVALID',
      `normalization needs one mean and one std per channel (${channels}); got ${mean.length} means and ${std.length} stds`,
      { channels, mean: [...mean], std: [...std] },
    );
  }
  const table = new Float32Array(channels * 256);
  for (let c = 0; c < channels; c++) {
    if (!(std[c] > 0) || !Number.isFinite(mean[c])) {
      throw new SparseLearningError(
        'E_CONFIG_INVALID',
        `normalization channel ${c}: mean = ${mean[c]}, std = ${std[c]}; expected a finite mean and std > 0`,
        { channel: c, mean: mean[c], std: std[c] },
      );
    }
    const m = Math.fround(mean[c]);
    const s = Math.fround(std[c]);
    for (let k = 0; k < 256; k++) {
      const x = Math.fround(k / 255);
      table[c * 256 + k] = Math.fround(Math.fround(x - m) / s);
    }
  }
  return table;
}
