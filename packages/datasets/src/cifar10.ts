import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { SparseLearningError } from '@sparse-learning/core';
import { CIFAR10_AUGMENTATION } from './augmentation.js';
import { readMaybeGzip } from './data-files.js';
import type { Dataset, LoadDatasetOptions } from './dataset.js';
import { assembleDataset } from './dataset.js';
import { CIFAR10_NORMALIZATION } from './normalization.js';

/** Dataset id of CIFAR-10 (spec §4.1). */
export const CIFAR10_DATASET_ID = 'cifar10';

/** Side of a CIFAR-10 image. */
export const CIFAR10_SIZE = 32;
/** Pixel bytes of one record: three 32x32 planes R, G, B (CHW). */
export const CIFAR10_PIXEL_BYTES = 3 * CIFAR10_SIZE * CIFAR10_SIZE;
/** Bytes of one record of the binary version: 1 label byte + 3072 pixel bytes. */
export const CIFAR10_RECORD_BYTES = 1 + CIFAR10_PIXEL_BYTES;

/** The training files of the binary version, in the order torchvision concatenates them. */
export const CIFAR10_TRAIN_FILES = Object.freeze([
  'data_batch_1.bin',
  'data_batch_2.bin',
  'data_batch_3.bin',
  'data_batch_4.bin',
  'data_batch_5.bin',
]);
/** The test file of the binary version. */
export const CIFAR10_TEST_FILE = 'test_batch.bin';
/** The folder the official tarball (`cifar-10-binary.tar.gz`) extracts to; looked into when present. */
export const CIFAR10_TAR_FOLDER = 'cifar-10-batches-bin';

/** Class names by label (`batches.meta.txt`). */
export const CIFAR10_CLASS_NAMES = Object.freeze([
  'airplane',
  'automobile',
  'bird',
  'cat',
  'deer',
  'dog',
  'frog',
  'horse',
  'ship',
  'truck',
]);

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** `dataDir` itself when it holds the files, else its `cifar-10-batches-bin` subfolder when that does. */
async function resolveCifarDir(dataDir: string): Promise<string> {
  const names = [...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE];
  for (const dir of [dataDir, join(dataDir, CIFAR10_TAR_FOLDER)]) {
    const present = await Promise.all(names.map((name) => exists(join(dir, name))));
    if (present.every(Boolean)) return dir;
  }
  const present = await Promise.all(names.map((name) => exists(join(dataDir, name))));
  const missing = names.filter((_, i) => !present[i]);
  throw new SparseLearningError(
    'E_DATA_MISSING',
    `CIFAR-10 binary files missing in '${dataDir}' (also looked in '${join(dataDir, CIFAR10_TAR_FOLDER)}'): ` +
      `missing [${missing.join(', ')}]; expected [${names.join(', ')}] ` +
      `(the binary version, https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz)`,
    { path: dataDir, lookedFor: names, missing },
  );
}

/** Decoded records of one file: labels and HWC image bytes. */
interface CifarRecords {
  readonly labels: Uint8Array;
  readonly images: Uint8Array;
}

/**
 * Decodes one binary CIFAR-10 file: checks the size (a positive multiple of 3073 bytes) and every label
 * (0..9), and converts each record's CHW planes (R, G, B) to HWC, the layout tfjs convolutions use.
 */
export function decodeCifar10Batch(bytes: Uint8Array, source: string): CifarRecords {
  if (bytes.length === 0 || bytes.length % CIFAR10_RECORD_BYTES !== 0) {
    const whole = Math.floor(bytes.length / CIFAR10_RECORD_BYTES);
    throw new SparseLearningError(
      'E_DATA_CORRUPT',
      `CIFAR-10 file '${source}' has ${bytes.length} bytes, not a positive multiple of ${CIFAR10_RECORD_BYTES} ` +
        `(1 label byte + ${CIFAR10_PIXEL_BYTES} pixel bytes per record): truncated or not the binary version; ` +
        `expected ${(whole + 1) * CIFAR10_RECORD_BYTES} bytes for ${whole + 1} records`,
      { path: source, actualBytes: bytes.length, recordBytes: CIFAR10_RECORD_BYTES },
    );
  }
  const count = bytes.length / CIFAR10_RECORD_BYTES;
  const labels = new Uint8Array(count);
  const images = new Uint8Array(count * CIFAR10_PIXEL_BYTES);
  const plane = CIFAR10_SIZE * CIFAR10_SIZE;
  for (let r = 0; r < count; r++) {
    const at = r * CIFAR10_RECORD_BYTES;
    const label = bytes[at];
    if (label > 9) {
      throw new SparseLearningError(
        'E_DATA_CORRUPT',
        `CIFAR-10 file '${source}': record ${r} has label ${label}; expected 0..9`,
        { path: source, record: r, label },
      );
    }
    labels[r] = label;
    const src = at + 1;
    const dst = r * CIFAR10_PIXEL_BYTES;
    for (let p = 0; p < plane; p++) {
      const o = dst + 3 * p;
      images[o] = bytes[src + p];
      images[o + 1] = bytes[src + plane + p];
      images[o + 2] = bytes[src + 2 * plane + p];
    }
  }
  return { labels, images };
}

function concat(parts: readonly CifarRecords[]): CifarRecords {
  if (parts.length === 1) return parts[0];
  const labels = new Uint8Array(parts.reduce((n, p) => n + p.labels.length, 0));
  const images = new Uint8Array(labels.length * CIFAR10_PIXEL_BYTES);
  let at = 0;
  for (const part of parts) {
    labels.set(part.labels, at);
    images.set(part.images, at * CIFAR10_PIXEL_BYTES);
    at += part.labels.length;
  }
  return { labels, images };
}

/**
 * Loads CIFAR-10 from the binary files in `options.dataDir` (spec §4.1): training = `data_batch_1..5.bin`
 * concatenated in order (first 45,000 train / last 5,000 validation with the default `validSplit`), test =
 * `test_batch.bin`. Train (and, faithfully, validation) batches are reflect-pad-4 → random 32x32 crop →
 * random horizontal flip → normalise; test batches are normalised only. Files may also be gzip-compressed
 * under the same names. Images are kept HWC as one `Uint8Array` per file set (150 MB for the training set).
 */
export async function loadCifar10(options: LoadDatasetOptions): Promise<Dataset> {
  if (options.dataDir === undefined) {
    throw new SparseLearningError(
      'E_CONFIG_INVALID',
      `dataset '${CIFAR10_DATASET_ID}' needs options.dataDir: a directory with ` +
        `${[...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE].join(', ')} (it cannot be downloaded at run time)`,
      { dataset: CIFAR10_DATASET_ID, field: 'dataDir' },
    );
  }
  const dir = await resolveCifarDir(options.dataDir);
  const read = async (name: string) => {
    const path = join(dir, name);
    return decodeCifar10Batch(await readMaybeGzip(path), path);
  };
  const [train, test] = await Promise.all([
    Promise.all(CIFAR10_TRAIN_FILES.map(read)).then(concat),
    read(CIFAR10_TEST_FILE),
  ]);
  return assembleDataset(
    {
      id: CIFAR10_DATASET_ID,
      numClasses: 10,
      classNames: CIFAR10_CLASS_NAMES,
      inputShape: [CIFAR10_SIZE, CIFAR10_SIZE, 3],
      normalization: CIFAR10_NORMALIZATION,
      source: dir,
      trainImages: train.images,
      trainLabels: train.labels,
      testImages: test.images,
      testLabels: test.labels,
      augmentation: CIFAR10_AUGMENTATION,
    },
    options,
  );
}
