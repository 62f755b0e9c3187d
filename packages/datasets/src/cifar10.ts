import { join } from 'node:path';
import { stat } from 'node:fs/promises';
import { SparseLearningError } from '@sparse-learning/core';
import { CIFAR10_AUGMENTATION } from './augmentation.js';
import { readMaybeGzip } from './data-files.js';
import type { Dataset, LoadDatasetOptions } from './dataset.js';
import { assembleDataset } from './dataset.js';
import { CIFAR10_NORMALIZATION } from './normalization.js';

/** Dataset id of CIFAR-10 (docs/algorithm.md#recipes). */
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

/** Decoded records: labels and HWC image bytes. */
interface CifarRecords {
  readonly labels: Uint8Array;
  readonly images: Uint8Array;
}

/** Number of records in a binary CIFAR-10 file of `bytes.length` bytes; `E_DATA_CORRUPT` if not whole. */
function recordCount(bytes: Uint8Array, source: string): number {
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
  return bytes.length / CIFAR10_RECORD_BYTES;
}

/**
 * Decodes the records of one file into `out` starting at example `offset`: checks every label (0..9) and
 * converts each record's CHW planes (R, G, B) to HWC, the layout tfjs convolutions use.
 */
function decodeInto(bytes: Uint8Array, source: string, out: CifarRecords, offset: number): number {
  const count = recordCount(bytes, source);
  const { labels, images } = out;
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
    labels[offset + r] = label;
    const r0 = at + 1;
    const g0 = r0 + plane;
    const b0 = g0 + plane;
    let o = (offset + r) * CIFAR10_PIXEL_BYTES;
    for (let p = 0; p < plane; p++) {
      images[o++] = bytes[r0 + p];
      images[o++] = bytes[g0 + p];
      images[o++] = bytes[b0 + p];
    }
  }
  return count;
}

/**
 * Decodes one binary CIFAR-10 file: checks the size (a positive multiple of 3073 bytes) and every label
 * (0..9), and converts each record's CHW planes (R, G, B) to HWC. Errors are `E_DATA_CORRUPT` naming the file.
 */
export function decodeCifar10Batch(bytes: Uint8Array, source: string): CifarRecords {
  const count = recordCount(bytes, source);
  const out = { labels: new Uint8Array(count), images: new Uint8Array(count * CIFAR10_PIXEL_BYTES) };
  decodeInto(bytes, source, out, 0);
  return out;
}

async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

/**
 * Reads and decodes files in order into one pair of arrays. Files are read one at a time and decoded straight
 * into the final arrays when their sizes (from `stat`) are whole records — the usual raw case — so the peak
 * memory is the decoded set plus one file; otherwise (gzip, or a corrupt size that decoding will report) each
 * file is decoded on its own and the parts are joined.
 */
async function readRecords(paths: readonly string[]): Promise<CifarRecords> {
  const sizes = await Promise.all(paths.map(fileSize));
  if (sizes.every((n) => n > 0 && n % CIFAR10_RECORD_BYTES === 0)) {
    const total = sizes.reduce((a, n) => a + n / CIFAR10_RECORD_BYTES, 0);
    const out = { labels: new Uint8Array(total), images: new Uint8Array(total * CIFAR10_PIXEL_BYTES) };
    let offset = 0;
    let exact = true;
    for (let f = 0; f < paths.length && exact; f++) {
      const bytes = await readMaybeGzip(paths[f]);
      // A gzip file whose compressed size happens to be whole records inflates to a different size.
      if (bytes.length !== sizes[f]) exact = false;
      else offset += decodeInto(bytes, paths[f], out, offset);
    }
    if (exact) return out;
  }
  const parts: CifarRecords[] = [];
  for (const path of paths) parts.push(decodeCifar10Batch(await readMaybeGzip(path), path));
  return concat(parts);
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
 * Loads CIFAR-10 from the binary files in `options.dataDir` (docs/algorithm.md#recipes): training = `data_batch_1..5.bin`
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
  const train = await readRecords(CIFAR10_TRAIN_FILES.map((name) => join(dir, name)));
  const test = await readRecords([join(dir, CIFAR10_TEST_FILE)]);
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
