import type { Batch, Rng } from '@sparse-learning/core';
import { batchIndices, type DataSplit } from '@sparse-learning/datasets';

/**
 * Yields the mini-batches of one pass over `split` in `order`, at most `limit` of them, and disposes each
 * batch's tensors once the consumer asks for the next one (or stops early): the caller never holds more than
 * one batch.
 */
export function* splitBatches(
  split: DataSplit,
  order: Int32Array,
  batchSize: number,
  limit: number = Number.POSITIVE_INFINITY,
  rng?: Rng,
): Generator<Batch> {
  const count = Math.min(split.batchCount(batchSize), limit);
  for (let b = 0; b < count; b++) {
    const batch = split.batch(batchIndices(order, b, batchSize), rng);
    try {
      yield batch;
    } finally {
      batch.inputs.dispose();
      batch.labels.dispose();
    }
  }
}

/** The identity order `0 .. size-1` (evaluation does not shuffle). */
export function identityOrder(size: number): Int32Array {
  const order = new Int32Array(size);
  for (let i = 0; i < size; i++) order[i] = i;
  return order;
}
