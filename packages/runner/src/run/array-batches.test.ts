import * as tf from '@tensorflow/tfjs-core';
import { loadNativeAddon, sparseAddonOf } from '@sparse-learning/backend-native';
import { batchIndices, type DataSplit } from '@sparse-learning/datasets';
import { createRng, silentLogger } from '@sparse-learning/core';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/resolve.js';
import { ArrayBatcher } from './array-batches.js';
import { identityOrder, splitBatches } from './batches.js';
import { prepareExperiment, type ExperimentSession } from './experiment.js';
import { chooseExecution, createExecution, type Execution } from './sparse-execution.js';

// Issue 9: the sparse execution assembles its batches as plain arrays (`stepOn`, `evaluateSplit`) instead of
// making tensors and reading them back. Same examples, same values, same random draws: the run must be
// bit-for-bit the one fed through batch tensors.
const sparseBuilt = sparseAddonOf(loadNativeAddon()) !== null;

async function session(): Promise<ExperimentSession> {
  const values = { preset: 'set', density: 0.05, epochs: 2, maxBatches: 12, backend: 'native', seed: 7 };
  const { config } = resolveConfig({ name: 'test', values });
  return prepareExperiment({ config });
}

/** Trains through batch tensors (`step`) or through indices (`stepOn`); returns the losses. */
function train(s: ExperimentSession, execution: Execution, viaIndices: boolean): number[] {
  const losses: number[] = [];
  for (let epoch = 1; epoch <= s.config.epochs; epoch++) {
    const order = s.dataset.train.epochOrder(s.dataOrderRng(epoch), true);
    for (let b = 0; b < s.stepsPerEpoch; b++) {
      const indices = batchIndices(order, b, s.config.batchSize);
      if (viaIndices) {
        losses.push(execution.trainer.stepOn!(s.dataset.train, indices, s.augmentRng(epoch, b)).loss);
        continue;
      }
      const batch = s.dataset.train.batch(indices, s.augmentRng(epoch, b));
      try {
        losses.push(execution.trainer.step(batch).loss);
      } finally {
        tf.dispose([batch.inputs, batch.labels]);
      }
    }
    execution.trainer.endEpoch({});
  }
  execution.sync();
  return losses;
}

describe('ArrayBatcher', () => {
  it('reads a split without batchInto through its tensors and leaves none behind', async () => {
    const s = await session();
    try {
      const split = s.dataset.test;
      // The same split without batchInto (a user's DataSplit may not have one).
      const plain: DataSplit = {
        name: split.name,
        size: split.size,
        augment: split.augment,
        inputShape: split.inputShape,
        labels: split.labels,
        images: split.images,
        epochOrder: (rng, shuffle) => split.epochOrder(rng, shuffle),
        batchCount: (n) => split.batchCount(n),
        batch: (indices, rng) => split.batch(indices, rng),
      };
      expect(plain.batchInto).toBeUndefined();
      const before = tf.memory().numTensors;
      const viaTensors = new ArrayBatcher().fill(plain, [3, 1, 4]);
      expect(tf.memory().numTensors).toBe(before);
      const viaArrays = new ArrayBatcher().fill(split, [3, 1, 4]);
      expect(viaArrays.x).toHaveLength(3 * 784);
      expect(Array.from(viaArrays.x)).toEqual(Array.from(viaTensors.x));
      expect(Array.from(viaArrays.labels)).toEqual(Array.from(viaTensors.labels));
      expect(Array.from(viaArrays.labels)).toEqual([split.labels[3], split.labels[1], split.labels[4]]);
    } finally {
      s.dispose();
    }
  }, 60_000);

  it('pass yields the batches splitBatches yields (identity order, limit, last batch partial, rng in order)', async () => {
    const s = await session();
    try {
      const split = s.dataset.validation!;
      const batcher = new ArrayBatcher();
      // Views of reused buffers: copy each batch before asking for the next.
      const ours: { x: number[]; labels: number[]; n: number }[] = [];
      for (const b of batcher.pass(split, 1000, 3, createRng('v'))) ours.push({ x: Array.from(b.x.subarray(0, 784 * 2)), labels: Array.from(b.labels), n: b.labels.length });
      const theirs: { x: number[]; labels: number[]; n: number }[] = [];
      for (const b of splitBatches(split, identityOrder(split.size), 1000, 3, createRng('v'))) {
        theirs.push({ x: Array.from(b.inputs.dataSync().subarray(0, 784 * 2)), labels: Array.from(b.labels.dataSync()), n: b.labels.shape[0] });
      }
      expect(ours).toEqual(theirs);
      expect(ours.map((b) => b.n)).toEqual([1000, 1000, 1000]);
      const all = [...batcher.pass(split, 4000, Number.POSITIVE_INFINITY)].map((b) => b.labels.length);
      expect(all).toEqual([4000, split.size - 4000]);
    } finally {
      s.dispose();
    }
  }, 60_000);
});

describe.skipIf(!sparseBuilt)('sparse execution fed by plain arrays', () => {
  it('stepOn / evaluateSplit give bit-for-bit the run fed through batch tensors (SET 5 %, 24 steps, 1 mask update)', async () => {
    const a = await session();
    const b = await session();
    try {
      const ea = createExecution(a, chooseExecution(a, 'sparse'), silentLogger, 64);
      const eb = createExecution(b, chooseExecution(b, 'sparse'), silentLogger, 64);
      expect(eb.trainer.stepOn).toBeTypeOf('function');
      const viaTensors = train(a, ea, false);
      const viaArrays = train(b, eb, true);
      expect(viaArrays).toHaveLength(24);
      expect(viaArrays).toEqual(viaTensors);
      a.model.variables.forEach((v, i) => expect(Array.from(b.model.variables[i].variable.dataSync())).toEqual(Array.from(v.variable.dataSync())));
      expect(b.masking!.readMasks()).toEqual(a.masking!.readMasks());
      // Evaluation: validation (augmentation stream consumed in order) and test, with a batch limit.
      const split = a.dataset.test;
      const evalA = ea.trainer.evaluate(splitBatches(split, identityOrder(split.size), 100, 7));
      const evalB = eb.trainer.evaluateSplit!(split, 100, 7);
      expect(evalB).toEqual(evalA);
      const val = a.dataset.validation!;
      expect(eb.trainer.evaluateSplit!(val, 500, 3, a.validationRng(1))).toEqual(
        ea.trainer.evaluate(splitBatches(val, identityOrder(val.size), 500, 3, a.validationRng(1))),
      );
    } finally {
      a.dispose();
      b.dispose();
    }
  }, 120_000);
});
