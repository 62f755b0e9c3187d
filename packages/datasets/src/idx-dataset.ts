import { SparseLearningError, outOfRangeError } from '@sparse-learning/core';
import { findDataFile } from './data-files.js';
import type { Dataset, LoadDatasetOptions } from './dataset.js';
import { assembleDataset } from './dataset.js';
import type { IdxArray } from './idx-reader.js';
import { IDX_LABELS_U8_MAGIC, IDX_IMAGES_U8_MAGIC, parseIdx, readIdxBytes } from './idx-reader.js';
import type { Normalization } from './normalization.js';
import { MNIST_NORMALIZATION } from './normalization.js';

/** Dataset id of "any MNIST-format dataset in a directory" (Fashion-MNIST, KMNIST, EMNIST, ...). */
export const IDX_DATASET_ID = 'idx';

/** Magic number of an unsigned-byte rank-4 file (`[n, H, W, C]` colour images in IDX layout). */
export const IDX_IMAGES_HWC_U8_MAGIC = 0x00000804;

/** The four MNIST file names (each may also be gzip-compressed with a `.gz` suffix). */
export const MNIST_FILE_NAMES = Object.freeze({
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
});

/** How a caller tunes {@link loadIdxDirectory} (the `mnist` loader fixes these to MNIST's values). */
export interface IdxDirectorySpec {
  readonly id: string;
  readonly normalization: Normalization;
  /** Fixed class count; labels at or above it are `E_DATA_CORRUPT`. When absent: max label + 1. */
  readonly numClasses?: number;
}

async function readImages(dir: string, name: string, what: string): Promise<IdxArray> {
  const path = await findDataFile(dir, [name, `${name}.gz`], what);
  const bytes = await readIdxBytes(path);
  // Rank 4 = colour images stored HWC; anything else must be the classic rank-3 greyscale magic.
  const expected = bytes.length >= 4 && bytes[3] === 4 ? IDX_IMAGES_HWC_U8_MAGIC : IDX_IMAGES_U8_MAGIC;
  return parseIdx(bytes, path, expected);
}

async function readLabels(dir: string, name: string, what: string): Promise<IdxArray> {
  const path = await findDataFile(dir, [name, `${name}.gz`], what);
  return parseIdx(await readIdxBytes(path), path, IDX_LABELS_U8_MAGIC);
}

function checkPair(images: IdxArray, labels: IdxArray): void {
  if (images.dims[0] !== labels.dims[0]) {
    throw new SparseLearningError(
      'E_DATA_MISMATCH',
      `'${images.source}' holds ${images.dims[0]} images but '${labels.source}' holds ${labels.dims[0]} labels`,
      { images: images.source, labels: labels.source, imageCount: images.dims[0], labelCount: labels.dims[0] },
    );
  }
}

function exampleShape(images: IdxArray): [number, number, number] {
  return [images.dims[1], images.dims[2], images.dims.length === 4 ? images.dims[3] : 1];
}

function maxLabel(labels: Uint8Array): number {
  let max = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] > max) max = labels[i];
  return max;
}

function checkLabelRange(labels: IdxArray, numClasses: number): void {
  const data = labels.data as Uint8Array;
  for (let i = 0; i < data.length; i++) {
    if (data[i] >= numClasses) {
      throw new SparseLearningError(
        'E_DATA_CORRUPT',
        `'${labels.source}': label ${data[i]} at index ${i} is out of range; expected 0 <= label < ${numClasses}`,
        { path: labels.source, index: i, label: data[i], numClasses },
      );
    }
  }
}

/**
 * Loads an MNIST-format directory: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
 * `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each raw or `.gz`. Images are unsigned bytes, rank 3
 * (`[n, H, W]`, one channel) or rank 4 (`[n, H, W, C]`); labels unsigned bytes, rank 1. The four files are
 * read in parallel and kept as the file bytes (no per-example copies).
 */
export async function loadIdxDirectory(dataDir: string, spec: IdxDirectorySpec, options: LoadDatasetOptions): Promise<Dataset> {
  const [trainImages, trainLabels, testImages, testLabels] = await Promise.all([
    readImages(dataDir, MNIST_FILE_NAMES.trainImages, `${spec.id} training images`),
    readLabels(dataDir, MNIST_FILE_NAMES.trainLabels, `${spec.id} training labels`),
    readImages(dataDir, MNIST_FILE_NAMES.testImages, `${spec.id} test images`),
    readLabels(dataDir, MNIST_FILE_NAMES.testLabels, `${spec.id} test labels`),
  ]);
  checkPair(trainImages, trainLabels);
  checkPair(testImages, testLabels);
  const inputShape = exampleShape(trainImages);
  const testShape = exampleShape(testImages);
  if (inputShape.join('x') !== testShape.join('x')) {
    throw new SparseLearningError(
      'E_DATA_MISMATCH',
      `training images are ${inputShape.join('x')} ('${trainImages.source}') but test images are ` +
        `${testShape.join('x')} ('${testImages.source}')`,
      { train: inputShape, test: testShape },
    );
  }
  const trainLabelBytes = trainLabels.data as Uint8Array;
  const testLabelBytes = testLabels.data as Uint8Array;
  const numClasses = spec.numClasses ?? Math.max(maxLabel(trainLabelBytes), maxLabel(testLabelBytes)) + 1;
  checkLabelRange(trainLabels, numClasses);
  checkLabelRange(testLabels, numClasses);
  return assembleDataset(
    {
      id: spec.id,
      numClasses,
      classNames: null,
      inputShape,
      normalization: spec.normalization,
      source: dataDir,
      trainImages: trainImages.data as Uint8Array,
      trainLabels: trainLabelBytes,
      testImages: testImages.data as Uint8Array,
      testLabels: testLabelBytes,
      augmentation: null,
    },
    options,
  );
}

/** The class count of an `idx` directory when the user declares none: MNIST's (and its look-alikes'). */
export const IDX_DEFAULT_NUM_CLASSES = 10;

/**
 * Loader of the `idx` dataset id. Normalisation defaults to MNIST's constants (override with
 * `options.normalization` for another dataset, e.g. Fashion-MNIST); no augmentation; class count
 * `options.numClasses`, default {@link IDX_DEFAULT_NUM_CLASSES} (a label outside it is `E_DATA_CORRUPT`,
 * never a silently wider output layer).
 */
export async function loadIdxDataset(options: LoadDatasetOptions): Promise<Dataset> {
  if (options.dataDir === undefined) {
    throw new SparseLearningError(
      'E_CONFIG_INVALID',
      `dataset '${IDX_DATASET_ID}' needs options.dataDir: a directory with ${Object.values(MNIST_FILE_NAMES).join(', ')} (raw or .gz)`,
      { dataset: IDX_DATASET_ID, field: 'dataDir' },
    );
  }
  const numClasses = options.numClasses ?? IDX_DEFAULT_NUM_CLASSES;
  if (!Number.isInteger(numClasses) || numClasses < 2 || numClasses > 256) {
    throw outOfRangeError('numClasses', numClasses, 'an integer 2 <= numClasses <= 256 (IDX labels are unsigned bytes)');
  }
  return loadIdxDirectory(options.dataDir, { id: IDX_DATASET_ID, normalization: MNIST_NORMALIZATION, numClasses }, options);
}
