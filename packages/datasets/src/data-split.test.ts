import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '@sparse-learning/core';
import { batchIndices, createImageSplit } from './data-split.js';
import { MNIST_NORMALIZATION, normalizationTable } from './normalization.js';
import { catchCoded, useCpuBackend } from './test-fixtures.js';

beforeAll(useCpuBackend);

/** 7 one-channel 2x2 examples; example i has pixels 4i .. 4i+3 and label i % 3. */
function tinySplit(augment = false) {
  return createImageSplit({
    name: 'train',
    images: Uint8Array.from({ length: 28 }, (_, i) => i),
    labels: Uint8Array.from({ length: 7 }, (_, i) => i % 3),
    inputShape: [2, 2, 1],
    table: normalizationTable({ mean: [0], std: [1 / 255] }, 1), // byte k -> k (up to float32 rounding)
    augmentation: augment ? { padding: 1, flip: true } : null,
  });
}

describe('DataSplit', () => {
  it('epochOrder is a permutation, the same for the same seed, identity without shuffle', () => {
    const split = tinySplit();
    const a = split.epochOrder(createRng(5));
    const b = split.epochOrder(createRng(5));
    const c = split.epochOrder(createRng(6));
    expect(Array.from(a).sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    expect(Array.from(split.epochOrder(createRng(5), false))).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('keeps the last partial batch (drop_last = false)', () => {
    const split = tinySplit();
    expect(split.batchCount(3)).toBe(3);
    expect(split.batchCount(7)).toBe(1);
    expect(split.batchCount(100)).toBe(1);
    const order = split.epochOrder(createRng(1), false);
    expect(Array.from(batchIndices(order, 2, 3))).toEqual([6]);
    expect(() => batchIndices(order, 3, 3)).toThrow(/E_OUT_OF_RANGE/);
    expect(() => split.batchCount(0)).toThrow(/E_OUT_OF_RANGE/);
  });

  it('batches NHWC float32 inputs and int32 labels in the order of the indices', async () => {
    const split = tinySplit();
    const { inputs, labels } = split.batch([5, 0]);
    expect(inputs.shape).toEqual([2, 2, 2, 1]);
    expect(inputs.dtype).toBe('float32');
    expect(labels.dtype).toBe('int32');
    expect(Array.from(await labels.data())).toEqual([2, 0]);
    const values = Array.from(await inputs.data());
    expect(values.map((v) => Math.round(v))).toEqual([20, 21, 22, 23, 0, 1, 2, 3]);
    inputs.dispose();
    labels.dispose();
  });

  it('creates exactly two tensors per batch and nothing else', () => {
    const split = tinySplit(true);
    const before = tf.memory().numTensors;
    const rng = createRng('leak');
    const order = split.epochOrder(rng);
    for (let b = 0; b < split.batchCount(3); b++) {
      const batch = split.batch(batchIndices(order, b, 3), rng);
      expect(tf.memory().numTensors).toBe(before + 2);
      batch.inputs.dispose();
      batch.labels.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('augmentation is deterministic under the same seed and needs an Rng', async () => {
    const split = tinySplit(true);
    const run = async (seed: number) => {
      const batch = split.batch([0, 1, 2, 3, 4, 5, 6], createRng(seed));
      const data = Array.from(await batch.inputs.data());
      tf.dispose([batch.inputs, batch.labels]);
      return data;
    };
    expect(await run(3)).toEqual(await run(3));
    expect(await run(3)).not.toEqual(await run(4));
    const err = await catchCoded(() => split.batch([0]), 'E_CONFIG_INVALID');
    expect(err.message).toContain('needs an Rng');
  });

  it('batchInto writes what batch makes (same values and draws) into reused arrays, no tensors', async () => {
    const split = tinySplit(true);
    const inputs = new Float32Array(4 * 4).fill(-1);
    const labels = new Int32Array(4).fill(-1);
    const before = tf.memory().numTensors;
    split.batchInto!([5, 0, 3], inputs, labels, createRng(9));
    expect(tf.memory().numTensors).toBe(before);
    const batch = split.batch([5, 0, 3], createRng(9));
    expect(Array.from(inputs.subarray(0, 12))).toEqual(Array.from(await batch.inputs.data()));
    expect(Array.from(labels.subarray(0, 3))).toEqual([2, 0, 0]);
    tf.dispose([batch.inputs, batch.labels]);
    // Past the batch nothing is written.
    expect(Array.from(inputs.subarray(12))).toEqual([-1, -1, -1, -1]);
    expect(labels[3]).toBe(-1);
    // Without augmentation: the hand-worked pixels of example 5 then 0.
    tinySplit().batchInto!([5, 0], inputs, labels);
    expect(Array.from(inputs.subarray(0, 8)).map((v) => Math.round(v))).toEqual([20, 21, 22, 23, 0, 1, 2, 3]);
  });

  it('batchInto names the array that is too short', async () => {
    const split = tinySplit();
    const short = await catchCoded(() => split.batchInto!([0, 1], new Float32Array(7), new Int32Array(2)), 'E_OUT_OF_RANGE');
    expect(short.message).toContain('inputs.length');
    const labels = await catchCoded(() => split.batchInto!([0, 1], new Float32Array(8), new Int32Array(1)), 'E_OUT_OF_RANGE');
    expect(labels.message).toContain('labels.length');
  });

  it('rejects bad indices and empty batches without leaking', async () => {
    const split = tinySplit();
    const before = tf.memory().numTensors;
    await catchCoded(() => split.batch([0, 7]), 'E_OUT_OF_RANGE');
    await catchCoded(() => split.batch([1.5]), 'E_OUT_OF_RANGE');
    await catchCoded(() => split.batch([]), 'E_OUT_OF_RANGE');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses image bytes that do not match the label count', async () => {
    await catchCoded(
      () =>
        createImageSplit({
          name: 'test',
          images: new Uint8Array(10),
          labels: new Uint8Array(3),
          inputShape: [2, 2, 1],
          table: normalizationTable(MNIST_NORMALIZATION, 1),
          augmentation: null,
        }),
      'E_DATA_MISMATCH',
    );
  });
});
