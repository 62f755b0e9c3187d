import type { Batch, Rng } from '@sparse-learning/core';
import type { DataSplit } from '@sparse-learning/datasets';
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

/**
 * Batches as plain arrays for the sparse execution (issue 9): the native step reads a row-major float array
 * and int32 labels, so making tensors only to read them back (upload into the backend, `dataSync` copy out,
 * two allocations per step) is pure overhead — it was ≈ 15 % of a set-mlp 1 % sparse epoch (BENCHMARKS.md,
 * "Truly sparse training"). One pair of arrays, sized for the largest batch, is reused for every batch; the
 * values and random draws are the split's own (`DataSplit.batchInto`, the same as `batch`). A split without
 * `batchInto` is read through its tensors, as before.
 */
export class ArrayBatcher {
  private inputs = new Float32Array(0);
  private labels = new Int32Array(0);

  /**
   * The batch of `indices` of `split` (augmented from `rng` when the split augments). The arrays are views
   * of the reused buffers: valid until the next call.
   */
  fill(split: DataSplit, indices: ArrayLike<number>, rng?: Rng): ArrayBatch {
    const b = indices.length;
    if (!split.batchInto) {
      const batch = split.batch(indices, rng);
      try {
        return toArrayBatch(batch);
      } finally {
        batch.inputs.dispose();
        batch.labels.dispose();
      }
    }
    const features = split.inputShape[0] * split.inputShape[1] * split.inputShape[2];
    if (this.inputs.length < b * features) this.inputs = new Float32Array(b * features);
    if (this.labels.length < b) this.labels = new Int32Array(b);
    split.batchInto(indices, this.inputs, this.labels, rng);
    return { x: this.inputs.subarray(0, b * features), labels: this.labels.subarray(0, b) };
  }

  /**
   * The batches of one evaluation pass over `split` in index order (at most `limit` batches of `batchSize`,
   * the last one partial), as the runner's `splitBatches` with the identity order yields them; `rng` is
   * consumed across the batches in order (validation augmentation).
   */
  *pass(split: DataSplit, batchSize: number, limit: number, rng?: Rng): Generator<ArrayBatch> {
    const count = Math.min(split.batchCount(batchSize), limit);
    const indices = new Int32Array(batchSize);
    for (let b = 0; b < count; b++) {
      const start = b * batchSize;
      const n = Math.min(batchSize, split.size - start);
      for (let k = 0; k < n; k++) indices[k] = start + k;
      yield this.fill(split, indices.subarray(0, n), rng);
    }
  }
}
