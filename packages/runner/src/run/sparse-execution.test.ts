import { loadNativeAddon, sparseAddonOf } from '@sparse-learning/backend-native';
import { silentLogger } from '@sparse-learning/core';
import { describe, expect, it } from 'vitest';
import { trainEpochSteps } from '../test/execution-steps.js';
import { resolveConfig } from '../config/resolve.js';
import { prepareExperiment, type ExperimentSession } from './experiment.js';
import { cnnStructure } from './cnn-structure.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCifarFiles } from '../test/cifar-files.js';
import { chooseExecution, createExecution, graphAutoLimit, mlpStructure, sparseStructure, type Execution } from './sparse-execution.js';
import { createModel } from '@sparse-learning/models';

// Issue 9: the sparse execution of a session must be the masked one, computed differently. With a dense-gradient
// window covering every step, masks must be equal and weights equal within float32 tolerance after many steps
// and several mask updates (Sparse Momentum: momentum redistribution and growth read the dense momentum; SET:
// random growth from the same stream). The tolerance allows for the masked side's GEMM, whose kernel (own or
// OpenBLAS, one or two threads) the native backend picks at run time: seen 1e-6 .. 5e-5 after 75 steps.
const sparseBuilt = sparseAddonOf(loadNativeAddon()) !== null;

async function session(values: Record<string, unknown>): Promise<ExperimentSession> {
  const { config } = resolveConfig({ name: 'test', values: { epochs: 3, maxBatches: 25, backend: 'native', seed: 5, ...values } });
  return prepareExperiment({ config });
}

/** Trains `epochs` epochs of a session through `execution` (masked: the session's own trainer). */
function train(s: ExperimentSession, execution: Execution): number[] {
  const losses: number[] = [];
  for (let epoch = 1; epoch <= s.config.epochs; epoch++) {
    losses.push(...trainEpochSteps(s, execution, epoch));
    execution.trainer.endEpoch({});
  }
  execution.sync();
  return losses;
}

function compare(masked: ExperimentSession, sparse: ExperimentSession): { maskDiffs: number; maxWeightDiff: number; maxMomentumDiff: number } {
  let maskDiffs = 0;
  const a = masked.masking!.readMasks();
  const b = sparse.masking!.readMasks();
  a.forEach((m, i) => m.forEach((v, k) => void (v !== b[i][k] && maskDiffs++)));
  let maxWeightDiff = 0;
  let maxMomentumDiff = 0;
  masked.model.variables.forEach((v, i) => {
    const x = v.variable.dataSync();
    const y = sparse.model.variables[i].variable.dataSync();
    for (let k = 0; k < x.length; k++) maxWeightDiff = Math.max(maxWeightDiff, Math.abs(x[k] - y[k]));
    const ma = masked.optimizer.momentumOf(v.name);
    const mb = sparse.optimizer.momentumOf(v.name);
    if (ma && mb) {
      const p = ma.dataSync();
      const q = mb.dataSync();
      for (let k = 0; k < p.length; k++) maxMomentumDiff = Math.max(maxMomentumDiff, Math.abs(p[k] - q[k]));
    }
    ma?.dispose();
    mb?.dispose();
  });
  return { maskDiffs, maxWeightDiff, maxMomentumDiff };
}

describe.skipIf(!sparseBuilt)('sparse execution reproduces the masked run', () => {
  for (const preset of ['sparse-momentum', 'set'] as const) {
    it(`${preset}: 75 steps, 2 mask updates, full dense-gradient window → same masks, weights and momentum within 2e-4`, async () => {
      const values = { preset, density: 0.05 };
      const masked = await session(values);
      const sparse = await session(values);
      try {
        const maskedLosses = train(masked, createExecution(masked, chooseExecution(masked, 'masked'), silentLogger, 64));
        const execution = createExecution(sparse, chooseExecution(sparse, 'sparse'), silentLogger, 1_000_000);
        const sparseLosses = train(sparse, execution);
        expect(sparseLosses).toHaveLength(75);
        sparseLosses.forEach((loss, i) => expect(loss).toBeCloseTo(maskedLosses[i], 4));
        const diff = compare(masked, sparse);
        expect(diff.maskDiffs).toBe(0);
        expect(diff.maxWeightDiff).toBeLessThan(2e-4);
        expect(diff.maxMomentumDiff).toBeLessThan(2e-4);
        // The synced session reports the sparse run's counters and active counts.
        expect(sparse.trainer.position()).toEqual(masked.trainer.position());
        expect(sparse.layerMetrics()).toEqual(masked.layerMetrics());
        expect(sparse.trainer.getState().controller).toEqual(masked.trainer.getState().controller);
      } finally {
        masked.dispose();
        sparse.dispose();
      }
    }, 120_000);
  }

  it('auto picks sparse for a ReLU MLP and for LeNet-5 at 5 % and says why; masked above the crossovers and for other forms', async () => {
    const mlp = await session({ epochs: 1, maxBatches: 1 });
    const dense = await session({ epochs: 1, maxBatches: 1, density: 0.5 });
    // At 0.35 the sparse MLP step costs what the masked one does in one measured run (BENCHMARKS.md): masked.
    const nearCrossover = await session({ epochs: 1, maxBatches: 1, density: 0.35 });
    try {
      expect(chooseExecution(nearCrossover, 'auto')).toMatchObject({ execution: 'masked', reason: expect.stringMatching(/density 0\.350 > 0\.3 for a ReLU MLP/) });
      expect(chooseExecution(mlp, 'auto')).toMatchObject({ execution: 'sparse', reason: expect.stringMatching(/ReLU MLP at density 0\.05/) });
      expect(chooseExecution(dense, 'auto')).toMatchObject({ execution: 'masked', reason: expect.stringMatching(/above the measured crossover/) });
      expect(chooseExecution(mlp, 'masked').execution).toBe('masked');
      const structure = mlpStructure(mlp.model);
      expect('layers' in structure && structure.layers.map((l) => [l.weightName, l.inFeatures, l.outFeatures, l.relu])).toEqual([
        ['fc1.weight', 784, 300, true],
        ['fc2.weight', 300, 100, true],
        ['fc3.weight', 100, 10, false],
      ]);
    } finally {
      mlp.dispose();
      dense.dispose();
      nearCrossover.dispose();
    }
    // LeNet-5-Caffe is a CNN of conv + ReLU + pool stages and Dense layers: sparse at 5 %, masked above the
    // CNN crossover; a model of another form (batch norm, dropout) stays masked and `sparse` names why.
    const conv = await session({ epochs: 1, maxBatches: 1, model: 'lenet5' });
    const convDense = await session({ epochs: 1, maxBatches: 1, model: 'lenet5', density: 0.3 });
    try {
      expect(chooseExecution(conv, 'auto')).toMatchObject({ execution: 'sparse', reason: expect.stringMatching(/'lenet5' is a CNN of conv \+ ReLU \[\+ pool\] stages and Dense layers at density 0\.050 <= 0\.2/) });
      expect(chooseExecution(convDense, 'auto')).toMatchObject({ execution: 'masked', reason: expect.stringMatching(/density 0\.\d+ > 0\.2 for a CNN/) });
      expect(sparseStructure(conv.model)).toEqual({ kind: 'cnn', weights: ['conv1.weight', 'conv2.weight', 'fc3.weight', 'fc4.weight'] });
      // VGG (batch norm) is not a conv-stage CNN; it runs in the graph form (issue 9, sparse-resnet): its `auto`
      // limit is the one measured for VGG (the test below; sparse-graph-execution.test.ts checks a WRN's `auto`).
      const vggModel = createModel('vgg-like', { seed: 1 });
      expect(cnnStructure(vggModel)).toEqual({ reason: expect.stringMatching(/^model 'vgg-like' has a \w+ layer/) });
      expect(sparseStructure(vggModel)).toMatchObject({ kind: 'graph' });
      vggModel.dispose();
    } finally {
      conv.dispose();
      convDense.dispose();
    }
  }, 120_000);

  it('auto takes a graph-form model sparse up to the crossover measured for its family, masked above it and for unmeasured families', async () => {
    expect(graphAutoLimit('wrn-28-2')).toMatchObject({ limit: 0.1 });
    expect(graphAutoLimit('vgg-c')).toMatchObject({ limit: 0.05 });
    expect(graphAutoLimit('vgg-like')).toMatchObject({ limit: 0.05 });
    expect(graphAutoLimit('alexnet-s')).toMatchObject({ limit: 0.05 });
    expect(graphAutoLimit('resnet-50')).toBeNull();
    const root = mkdtempSync(join(tmpdir(), 'sl-auto-graph-'));
    const dataDir = writeCifarFiles(join(root, 'cifar-10-batches-bin'), 20, 10);
    const vgg = (density: number) => session({ model: 'vgg-like', dataset: 'cifar10', dataDir, epochs: 1, maxBatches: 1, batchSize: 8, density });
    const at5 = await vgg(0.05);
    const at10 = await vgg(0.1);
    try {
      expect(sparseStructure(at5.model)).toMatchObject({ kind: 'graph' });
      expect(chooseExecution(at5, 'auto')).toMatchObject({ execution: 'sparse', reason: expect.stringMatching(/'vgg-like' is a CNN with batch norm .* at density 0\.0\d+ <= 0\.05 \(measured crossover\)/) });
      expect(chooseExecution(at10, 'auto')).toMatchObject({ execution: 'masked', reason: expect.stringMatching(/density 0\.\d+ > 0\.05 for a CNN with batch norm/) });
      // The configured density decides, not the drawn one: a draw a little above the limit (0.0503 at --density
      // 0.05, as some seeds give) keeps the measured choice.
      const masking = Object.create(at5.masking!) as NonNullable<ExperimentSession['masking']>;
      Object.defineProperty(masking, 'totalDensity', { value: 0.0503 });
      const drawnAbove = Object.create(at5) as ExperimentSession;
      Object.defineProperty(drawnAbove, 'masking', { value: masking });
      expect(drawnAbove.masking!.totalDensity).toBe(0.0503);
      expect(chooseExecution(drawnAbove, 'auto')).toMatchObject({ execution: 'sparse', reason: expect.stringMatching(/at density 0\.050 <= 0\.05/) });
      // A graph-form model of a family the bench never measured stays masked, and the reason names the measured ones.
      const unmeasured = Object.assign(Object.create(at5) as ExperimentSession, { config: { ...at5.config, model: 'my-net' } });
      expect(chooseExecution(unmeasured, 'auto')).toMatchObject({
        execution: 'masked',
        reason: expect.stringMatching(/not measured for 'my-net' \(measured: wrn-\*, vgg-\*, alexnet-\*; use --execution sparse/),
      });
      expect(chooseExecution(unmeasured, 'sparse').execution).toBe('sparse');
    } finally {
      at5.dispose();
      at10.dispose();
      rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);
});
