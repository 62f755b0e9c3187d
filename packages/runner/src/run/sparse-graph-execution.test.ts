import * as tf from '@tensorflow/tfjs-core';
import { loadNativeAddon, sparseConvOpAddonOf } from '@sparse-learning/backend-native';
import { silentLogger } from '@sparse-learning/core';
import { createModel } from '@sparse-learning/models';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainEpochSteps } from '../test/execution-steps.js';
import { writeCifarFiles } from '../test/cifar-files.js';
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
function train(s: ExperimentSession, execution: Execution, beforeFirstUpdate?: () => void): { losses: number[]; updates: number[][]; tensors: number[] } {
  const losses: number[] = [];
  const tensors: number[] = [];
  const updates: number[][] = [];
  for (let epoch = 1; epoch <= s.config.epochs; epoch++) {
    losses.push(...trainEpochSteps(s, execution, epoch, () => tensors.push(tf.memory().numTensors)));
    if (epoch === 1) beforeFirstUpdate?.();
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
  // The dense GEMMs (masked convs, fc) by the addon's own kernels, not the per-shape timed choice against
  // OpenBLAS: that choice follows the machine's load when it was recorded, and these comparisons are sensitive to
  // the last bits (see below), so without pinning them the result would depend on when the record was written.
  const addon = loadNativeAddon();
  beforeAll(() => addon?.setGemmPolicy?.('own'));
  afterAll(() => addon?.setGemmPolicy?.('measure'));

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
  // 3 epochs × 2 steps (2 mask updates), dropout 0.3 on, batch 16, lr 0.001, seed 5. What can be asserted: the
  // two executions sum each convolution in a different order, and a pre-activation ResNet with batch norm turns
  // that 1e-7 into ReLU decisions flipped at values within rounding of 0 (measured, issue 9: from the same state
  // the model's own dense gradient and the sparse trainer's agree to 1e-6 at one step and differ by 0.2 % in the
  // first blocks at another; two masked runs perturbed by 1e-6 show the same kind of jumps). One flipped element
  // moves a batch-norm bias gradient by ~1e-4, and Sparse Momentum's redistribution may then round a layer's
  // regrowth count differently at a mask update. Whether that happens in this short run depends on the last bits
  // of the dense GEMMs (the addon's own kernels vs OpenBLAS, chosen per shape by timing; checked 2026-12-07: with
  // one choice the runs stayed equal through both updates, with another a count moved at the second). So the
  // test asserts equality up to the first mask update, and after the updates what holds under any such choice:
  // the same total, per-layer counts within a rounding step, finite losses close to the masked run's.
  for (const [label, preset] of [
    ['sparse-momentum', {}],
    ['sparse-momentum, random growth', { growth: 'random' }],
  ] as const) {
    it(`${label}: 3 epochs × 2 steps, 2 mask updates, full window, dropout on → equal to the masked run up to the first update, counts within a rounding step after`, async () => {
      const values = { preset: 'sparse-momentum', ...(preset as object), density: 0.1 };
      const masked = await session(values);
      const sparse = await session(values);
      try {
        /** Every variable (conv filters, BN γ/β and running statistics, fc) and its momentum, now. */
        const snapshot = (x: ExperimentSession) =>
          x.model.variables.map((v) => {
            const t = x.optimizer.momentumOf(v.name);
            const momentum = t ? Float32Array.from(t.dataSync()) : null;
            t?.dispose();
            return { name: v.name, value: Float32Array.from(v.variable.dataSync()), momentum };
          });
        let maskedBefore: ReturnType<typeof snapshot> = [];
        let sparseBefore: ReturnType<typeof snapshot> = [];
        const initial = masked.masking!.readMasks();
        const sparseExecution = createExecution(sparse, chooseExecution(sparse, 'sparse'), silentLogger, 1_000_000);
        const m = train(masked, createExecution(masked, chooseExecution(masked, 'masked'), silentLogger, 64), () => (maskedBefore = snapshot(masked)));
        const s = train(sparse, sparseExecution, () => {
          sparseExecution.sync();
          sparseBefore = snapshot(sparse);
        });
        // No tensor leaks: from step 3 on (after the first step created the optimizer's buffers and the sync
        // before the first update wrote the conv momentum into the session's optimizer) the count stays constant,
        // both mask updates included.
        expect(new Set(s.tensors.slice(2)).size).toBe(1);
        // Up to the first mask update (2 steps): losses, every variable and its momentum within float32 tolerance.
        s.losses.slice(0, 2).forEach((loss, i) => expect(Math.abs(loss - m.losses[i])).toBeLessThan(1e-5));
        expect(sparseBefore).toHaveLength(maskedBefore.length);
        sparseBefore.forEach((v, i) => {
          expect(maxDiff(v.value, maskedBefore[i].value), v.name).toBeLessThan(2e-5);
          if (v.momentum && maskedBefore[i].momentum) expect(maxDiff(v.momentum, maskedBefore[i].momentum!), `momentum ${v.name}`).toBeLessThan(2e-4);
        });
        // After the updates: totals and each layer's count within a rounding step of the masked run's (the total
        // moves too where the 0.99 cap's overflow is spread and rounded: measured 5 of 146 874 with one GEMM choice).
        expect(s.updates).toHaveLength(2);
        s.updates.forEach((counts, u) => {
          expect(Math.abs(counts.reduce((a, b) => a + b, 0) - m.updates[u].reduce((a, b) => a + b, 0))).toBeLessThanOrEqual(16);
          counts.forEach((c, i) => expect(Math.abs(c - m.updates[u][i]), `update ${u + 1}, ${sparse.masking!.names[i]}`).toBeLessThanOrEqual(8));
        });
        // The updates moved weights (the comparison is not between unchanged masks).
        const b = sparse.masking!.readMasks();
        const moved = b.reduce((n, mask, i) => n + mask.reduce((c, v, k) => c + (v !== initial[i][k] ? 1 : 0), 0), 0);
        expect(moved).toBeGreaterThan(1000);
        // Training goes on alike: every loss finite and close to the masked run's.
        s.losses.forEach((loss, i) => {
          expect(Number.isFinite(loss)).toBe(true);
          expect(Math.abs(loss - m.losses[i])).toBeLessThan(1e-2);
        });
        expect(sparse.trainer.position()).toEqual(masked.trainer.position());
        // The prune-rate controller's books: one adjustment per update, the first (before any count moved) equal.
        const [sc, mc] = [sparse, masked].map((x) => x.trainer.getState().controller as { readonly adjustments?: readonly number[] } | undefined);
        expect(sc?.adjustments?.length).toBe(mc?.adjustments?.length);
        expect(sc?.adjustments?.[0]).toBe(mc?.adjustments?.[0]);
      } finally {
        masked.dispose();
        sparse.dispose();
      }
    }, 300_000);
  }
});

// VGG in the graph form (issue 9): conv(bias, 'same') → BN → ReLU, 2×2 max pools, no dropout. Measured
// (vgg-like, generated CIFAR-10 files, batch 16, seed 5, lr 0.1): from the same state one sparse step lands
// within 2.3e-5 of the masked step (first conv, update 3.5), the same masked step after nudging the first conv's
// weights by 1 ulp 1.1e-3 away. But VGG's mask update is sensitive to the last bit (Sparse Momentum's
// redistribution rounding and the rankings it feeds): after an update both the sparse run and the perturbed
// masked run differ from the masked run in a few hundred mask positions, and training amplifies that as a
// 1-ulp perturbation does. This test checks what holds: before the update, losses and every weight equal
// within float32 tolerance; after it, counts within a rounding step and the mask differences a small fraction
// of the active weights, no larger than the perturbed masked run's (runner README, "VGG under --execution sparse").
describe.skipIf(!built)('sparse execution of VGG: equal to the masked run up to float-order sensitivity', () => {
  const cifarDir = mkdtempSync(join(tmpdir(), 'sl-vgg-graph-'));
  writeCifarFiles(join(cifarDir, 'cifar-10-batches-bin'), 40, 20);
  afterAll(() => rmSync(cifarDir, { recursive: true, force: true }));
  // The GEMMs pinned to the addon's own kernels, as for the WideResNet above: which side of the redistribution's
  // rounding each run lands on follows the last bits, and the per-shape timed GEMM choice (recorded per build)
  // changed it in a fresh clone (the sparse run 10 544 mask positions from its 1-ulp twin instead of 36).
  const gemm = loadNativeAddon();
  beforeAll(() => gemm?.setGemmPolicy?.('own'));
  afterAll(() => gemm?.setGemmPolicy?.('measure'));

  async function vggSession(): Promise<ExperimentSession> {
    const values = { model: 'vgg-like', dataset: 'cifar10', dataDir: cifarDir, epochs: 2, maxBatches: 2, batchSize: 16, lr: 0.001, backend: 'native', seed: 5 };
    const { config } = resolveConfig({ name: 'test', values: { ...values, preset: 'sparse-momentum', density: 0.1 } });
    return prepareExperiment({ config });
  }

  /** Adds 1 ulp to the magnitude of every nonzero of `name` (the perturbed masked twin). */
  function nudge(s: ExperimentSession, name: string): void {
    const v = s.model.variables.find((x) => x.name === name)!.variable;
    const values = Float32Array.from(v.dataSync());
    const bits = new Uint32Array(values.buffer);
    for (let k = 0; k < bits.length; k++) if (values[k] !== 0) bits[k] += 1;
    tf.tidy(() => v.assign(tf.tensor(values, v.shape)));
  }

  /** Two epochs of two steps; `beforeUpdate` runs after the first epoch's steps, before its mask update. */
  function run(s: ExperimentSession, execution: Execution, beforeUpdate: () => void): { losses: number[]; counts: number[] } {
    const losses: number[] = [];
    let counts: number[] = [];
    for (let epoch = 1; epoch <= s.config.epochs; epoch++) {
      losses.push(...trainEpochSteps(s, execution, epoch));
      if (epoch === 1) beforeUpdate();
      const event = execution.trainer.endEpoch({});
      if (event) counts = event.layers.map((l) => l.activeAfter);
    }
    execution.sync();
    return { losses, counts };
  }

  it('vgg-like, full window: 2 steps equal within float32 tolerance; after the mask update counts within a rounding step and masks no further from the masked run than its 1-ulp-perturbed twin', async () => {
    const [masked, sparse, nudged] = [await vggSession(), await vggSession(), await vggSession()];
    try {
      const structure = graphStructure(sparse.model);
      if ('reason' in structure) throw new Error(structure.reason);
      expect(structure.convs).toHaveLength(13);
      expect(structure.convs.every((c) => c.biasName !== null)).toBe(true);
      nudge(nudged, 'features.0.weight');
      const sparseExecution = createExecution(sparse, chooseExecution(sparse, 'sparse'), silentLogger, 1_000_000);
      /** Every weight (conv filters, BN γ, classifier) of `x` now. */
      const weights = (x: ExperimentSession) => x.model.variables.filter((v) => v.name.endsWith('.weight')).map((v) => [v.name, Float32Array.from(v.variable.dataSync())] as const);
      let maskedBefore: (readonly [string, Float32Array])[] = [];
      let sparseBefore: (readonly [string, Float32Array])[] = [];
      const m = run(masked, createExecution(masked, chooseExecution(masked, 'masked'), silentLogger, 64), () => (maskedBefore = weights(masked)));
      const n = run(nudged, createExecution(nudged, chooseExecution(nudged, 'masked'), silentLogger, 64), () => undefined);
      const s = run(sparse, sparseExecution, () => {
        sparseExecution.sync();
        sparseBefore = weights(sparse);
      });
      // Before the update (2 steps): every weight within float32 tolerance (measured ≤ 1.6e-5 on updates of
      // ~1e-1; the 1-ulp-perturbed masked run: 1.3e-4).
      expect(sparseBefore).toHaveLength(maskedBefore.length);
      sparseBefore.forEach(([name, w], i) => expect(maxDiff(w, maskedBefore[i][1]), name).toBeLessThan(5e-5));
      expect(n.losses).toHaveLength(4);
      // Before the update (steps 1–2): the losses agree to float32 rounding.
      s.losses.slice(0, 2).forEach((loss, i) => expect(Math.abs(loss - m.losses[i])).toBeLessThan(1e-5));
      // After the update. Measured (this setup): the masked run sits on one side of Sparse Momentum's
      // redistribution rounding and both the sparse run and the 1-ulp-perturbed masked run land on the other
      // (the same counts: up to ±5 per layer and +8 in total from the masked run's; 772 mask positions differ
      // from the masked run for both, 36 between the two of them). So: counts move by a rounding step, and the
      // sparse execution moves the masks no further than a 1-ulp perturbation of the masked run does.
      const total = (counts: number[]) => counts.reduce((t, c) => t + c, 0);
      expect(s.counts).toHaveLength(m.counts.length);
      expect(Math.abs(total(s.counts) - total(m.counts))).toBeLessThanOrEqual(16);
      s.counts.forEach((c, i) => expect(Math.abs(c - m.counts[i]), sparse.masking!.names[i]).toBeLessThanOrEqual(8));
      const [a, b, c] = [masked, sparse, nudged].map((x) => x.masking!.readMasks());
      const diffs = (x: Uint8Array[], y: Uint8Array[]) => x.reduce((t, mask, i) => t + mask.reduce((d, v, k) => d + (v !== y[i][k] ? 1 : 0), 0), 0);
      const active = a.reduce((t, mask) => t + mask.reduce((d, v) => d + v, 0), 0);
      const sparseDiffs = diffs(a, b);
      expect(sparseDiffs).toBeGreaterThan(0); // the sensitivity this test documents (fails if it ever goes away: tighten it then)
      expect(sparseDiffs).toBeLessThan(active * 1e-3);
      expect(sparseDiffs).toBeLessThanOrEqual(diffs(a, c) * 1.5);
      expect(diffs(b, c)).toBeLessThan(sparseDiffs);
    } finally {
      masked.dispose();
      sparse.dispose();
      nudged.dispose();
    }
  }, 300_000);
});
