import * as tf from '@tensorflow/tfjs-core';
import type { Batch, Rng } from '@sparse-learning/core';
import { SparseLearningError, outOfRangeError } from '@sparse-learning/core';
import type { CropFlipAugmentation } from './augmentation.js';
import { checkAugmentation, drawCropFlip, writeCropFlip } from './augmentation.js';

/** Which part of a dataset a split is. */
export type SplitName = 'train' | 'validation' | 'test';

/**
 * One split of a dataset (train, validation or test), held as raw bytes. Batches are made on demand:
 * `epochOrder` gives a (seeded) permutation, the caller slices it into mini-batches (the last one may be
 * partial: PyTorch `DataLoader(drop_last=False)`, docs/algorithm.md#recipes) and calls `batch`.
 */
export interface DataSplit {
  readonly name: SplitName;
  /** Number of examples. */
  readonly size: number;
  /** True when `batch` applies random augmentation (and then needs an `Rng`). */
  readonly augment: boolean;
  /** Shape of one example, HWC (e.g. `[28, 28, 1]`). */
  readonly inputShape: readonly [number, number, number];
  /** The labels of the split, one byte per example (a view; do not modify). */
  readonly labels: Uint8Array;
  /** The raw image bytes, `size · H · W · C`, each example HWC, before normalisation (a view; do not modify). */
  readonly images: Uint8Array;
  /**
   * The visiting order of one epoch: a permutation of `0 .. size-1` shuffled by `rng` (Fisher–Yates), or the
   * identity when `shuffle` is false (validation and test loaders do not shuffle). Consumes `size - 1` draws
   * when shuffling, none otherwise.
   */
  epochOrder(rng: Rng, shuffle?: boolean): Int32Array;
  /** `ceil(size / batchSize)`: the last partial batch is kept. */
  batchCount(batchSize: number): number;
  /**
   * Builds one batch: `inputs` float32 `[b, H, W, C]` normalised (and augmented when `augment`, drawing three
   * numbers per example from `rng`), `labels` int32 `[b]`. The caller owns and disposes both tensors.
   */
  batch(indices: ArrayLike<number>, rng?: Rng): Batch;
  /**
   * Writes the same batch as {@link DataSplit.batch} (same values, same random draws) into caller-owned arrays
   * instead of tensors: `inputs[k·H·W·C + …]` row-major, `labels[k]`, for `k < indices.length`; elements past
   * the batch are left untouched. For consumers that never need tensors (the runner's sparse execution reuses
   * two arrays for every step: no tensor upload, no read-back, no allocation per step). Optional: a split
   * without it is read through `batch`.
   * @throws what `batch` throws, and `E_OUT_OF_RANGE` when an array is too short for the batch
   */
  batchInto?(indices: ArrayLike<number>, inputs: Float32Array, labels: Int32Array, rng?: Rng): void;
}

/** The slice of `order` that forms mini-batch `batchIndex` (a view, no copy); the last one may be shorter. */
export function batchIndices(order: Int32Array, batchIndex: number, batchSize: number): Int32Array {
  const count = Math.ceil(order.length / batchSize);
  if (!Number.isInteger(batchIndex) || batchIndex < 0 || batchIndex >= count) {
    throw outOfRangeError('batchIndex', batchIndex, `an integer in [0, ${count - 1}]`);
  }
  return order.subarray(batchIndex * batchSize, Math.min(order.length, (batchIndex + 1) * batchSize));
}

/** What {@link createImageSplit} needs: bytes in HWC order, one label byte per example. */
export interface ImageSplitSource {
  readonly name: SplitName;
  /** `size * H * W * C` bytes, example-major, each example HWC. */
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly inputShape: readonly [number, number, number];
  /** Normalisation lookup table `[C * 256]` (see `normalizationTable`). */
  readonly table: Float32Array;
  /** Random crop + flip, or null for none. */
  readonly augmentation: CropFlipAugmentation | null;
}

class ImageSplit implements DataSplit {
  readonly name: SplitName;
  readonly size: number;
  readonly augment: boolean;
  readonly inputShape: readonly [number, number, number];
  readonly labels: Uint8Array;
  readonly images: Uint8Array;
  private readonly table: Float32Array;
  private readonly augmentation: CropFlipAugmentation | null;
  private readonly exampleBytes: number;

  constructor(source: ImageSplitSource) {
    const [h, w, c] = source.inputShape;
    this.exampleBytes = h * w * c;
    if (source.images.length !== source.labels.length * this.exampleBytes) {
      throw new SparseLearningError(
        'E_DATA_MISMATCH',
        `${source.name} split: ${source.labels.length} labels need ${source.labels.length * this.exampleBytes} ` +
          `image bytes (${h}x${w}x${c} each) but there are ${source.images.length}`,
        { split: source.name, labels: source.labels.length, imageBytes: source.images.length },
      );
    }
    if (source.augmentation) checkAugmentation(source.augmentation, h, w);
    this.name = source.name;
    this.size = source.labels.length;
    this.inputShape = source.inputShape;
    this.labels = source.labels;
    this.images = source.images;
    this.table = source.table;
    this.augmentation = source.augmentation;
    this.augment = source.augmentation !== null;
  }

  epochOrder(rng: Rng, shuffle = true): Int32Array {
    const order = new Int32Array(this.size);
    for (let i = 0; i < this.size; i++) order[i] = i;
    return shuffle ? rng.shuffle(order) : order;
  }

  batchCount(batchSize: number): number {
    if (!Number.isInteger(batchSize) || batchSize < 1) throw outOfRangeError('batchSize', batchSize, 'an integer >= 1');
    return Math.ceil(this.size / batchSize);
  }

  batch(indices: ArrayLike<number>, rng?: Rng): Batch {
    const b = indices.length;
    const [h, w, c] = this.inputShape;
    const inputs = new Float32Array(b * this.exampleBytes);
    const labels = new Int32Array(b);
    this.batchInto(indices, inputs, labels, rng);
    return { inputs: tf.tensor4d(inputs, [b, h, w, c], 'float32'), labels: tf.tensor1d(labels, 'int32') };
  }

  batchInto(indices: ArrayLike<number>, inputs: Float32Array, labels: Int32Array, rng?: Rng): void {
    const b = indices.length;
    if (b < 1) throw outOfRangeError(`${this.name} batch size (indices.length)`, b, '>= 1');
    if (this.augmentation && rng === undefined) {
      throw new SparseLearningError(
        'E_CONFIG_INVALID',
        `${this.name} split augments its examples (random crop/flip): batch(indices, rng) needs an Rng`,
        { split: this.name },
      );
    }
    const [h, w, c] = this.inputShape;
    const n = this.exampleBytes;
    if (inputs.length < b * n) throw outOfRangeError(`${this.name} batchInto inputs.length`, inputs.length, `>= ${b * n} (${b} examples of ${n})`);
    if (labels.length < b) throw outOfRangeError(`${this.name} batchInto labels.length`, labels.length, `>= ${b}`);
    const { images, table, augmentation } = this;
    for (let k = 0; k < b; k++) {
      const index = indices[k];
      if (!Number.isInteger(index) || index < 0 || index >= this.size) {
        throw outOfRangeError(`${this.name} example index`, index, `an integer in [0, ${this.size - 1}]`);
      }
      labels[k] = this.labels[index];
      const from = index * n;
      if (augmentation) {
        const params = drawCropFlip(augmentation, rng as Rng);
        writeCropFlip(images, from, h, w, c, augmentation.padding, params, table, inputs, k * n);
      } else if (c === 1) {
        const to = k * n;
        for (let i = 0; i < n; i++) inputs[to + i] = table[images[from + i]];
      } else {
        const to = k * n;
        for (let i = 0; i < n; i++) inputs[to + i] = table[(i % c) * 256 + images[from + i]];
      }
    }
  }
}

/** Wraps bytes and labels as a {@link DataSplit}. Checks that the byte count matches the label count. */
export function createImageSplit(source: ImageSplitSource): DataSplit {
  return new ImageSplit(source);
}
