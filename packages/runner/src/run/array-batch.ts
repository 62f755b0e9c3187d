/** Batches as the sparse trainers read them (issue 9): the batch tensors' data as plain typed arrays. */
import type { Batch } from '@sparse-learning/core';
import type { ArrayBatch } from '@sparse-learning/backend-native';

/** A batch's inputs (row-major, NHWC for images) and integer labels, read back from its tensors. */
export const toArrayBatch = (batch: Batch): ArrayBatch => ({
  x: batch.inputs.dataSync() as Float32Array,
  labels: batch.labels.dtype === 'int32' ? (batch.labels.dataSync() as Int32Array) : Int32Array.from(batch.labels.dataSync()),
});

/** `f` over `items`, lazily (evaluation batches are built one at a time). */
export function* mapIterable<A, B>(items: Iterable<A>, f: (a: A) => B): Generator<B> {
  for (const item of items) yield f(item);
}
