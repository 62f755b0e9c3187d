import { join } from 'node:path';
import { silentLogger } from '@sparse-learning/core';
import { loadNativeAddon, sparseConvOpAddonOf } from '@sparse-learning/backend-native';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/resolve.js';
import { trainEpochSteps } from '../test/execution-steps.js';
import { writeCifarFiles } from '../test/cifar-files.js';
import { cli, expectSameRun, removeTmpDirs, tmp } from '../test/run-helpers.js';
import { graphStructure } from './graph-structure.js';
import type { ExperimentSession } from './session.js';
import { bindCompactGraph } from './sparse-compact-graph.js';
import { prepareRunSession } from './sparse-compact-session.js';
import { chooseExecution, createExecution } from './sparse-execution.js';

// Issue 9, graph form: a sparse WideResNet run (`--sparse-state auto`) releases the conv filters, their masks and
// momentum once its SparseGraphTrainer is bound; the model keeps only what the graph still runs on (BN, the
// classifier, dropout). It must be the `--sparse-state dense` run bit for bit (kill -9 and resume of this
// session in either execution, and export: sparse-graph-resume.test.ts, whose runs use the default form).
const addon = loadNativeAddon();
const built = sparseConvOpAddonOf(addon) !== null;
const VALUES = { model: 'wrn-28-2', dataset: 'mnist', execution: 'sparse', preset: 'sparse-momentum', density: 0.1, epochs: 3, maxBatches: 3, batchSize: 16, lr: 0.001, backend: 'native', seed: 5 };
const ARGS = [
  ...['--model', 'wrn-28-2', '--dataset', 'mnist', '--execution', 'sparse', '--density', '0.1', '--lr', '0.001', '--dense-grad-window', '2'],
  ...['--epochs', '2', '--max-batches', '3', '--batch-size', '16', '--test-batch-size', '16', '--max-eval-batches', '1', '--backend', 'native', '--seed', '5'],
];

/** Float32 bytes of the model's conv filters, of its masked parameters that are not conv filters, and of every other variable. */
function sizes(s: ExperimentSession): { conv: number; maskedParams: number; other: number; params: number } {
  const g = graphStructure(s.model);
  if ('reason' in g) throw new Error(g.reason);
  const convs = new Set(g.convs.map((c) => c.weightName));
  const masked = new Set(s.masking!.names);
  const bytes = (keep: (name: string) => boolean) => s.model.variables.filter((v) => keep(v.name)).reduce((t, v) => t + 4 * v.variable.size, 0);
  const paramNames = new Set(g.params);
  return {
    conv: bytes((n) => convs.has(n)),
    maskedParams: bytes((n) => masked.has(n) && !convs.has(n)),
    other: bytes((n) => !convs.has(n)),
    params: bytes((n) => paramNames.has(n)),
  };
}

describe.skipIf(!built)('compact graph session (a WideResNet whose conv state follows the active weights)', () => {
  afterAll(() => removeTmpDirs());

  it('after binding no TF.js bytes of a conv filter remain; training keeps them flat (no leak, step or mask update); dispose frees everything', async () => {
    const { config } = resolveConfig({ name: 'test', values: VALUES });
    // A dense-state session first (activates the backend and the dataset), disposed: the counts to come back to.
    (await prepareRunSession({ config: { ...config, sparseState: 'dense' } })).dispose();
    const baseTensors = tf.memory().numTensors;
    const baseBytes = tf.memory().numBytes;
    const session = await prepareRunSession({ config });
    expect('kind' in session && session.kind).toBe('compact-graph');
    if (!('kind' in session) || session.kind !== 'compact-graph') return;
    const execution = bindCompactGraph(session, session.choice, silentLogger);
    try {
      const { conv, maskedParams, other, params } = sizes(session.dense);
      // WRN-28-2 on MNIST, 28 conv filters: conv1 3·3·1·16 = 144; per group (widths 32, 64, 128 from 16, 32, 64)
      // the first block's two 3×3 convs and 1×1 shortcut, then 3 blocks of two 3×3 convs: 69 632 + 278 528 +
      // 1 114 112; 1 462 416 floats in all (5.8 MB). The classifier 128·10 = 1 280.
      expect(conv).toBe(4 * 1_462_416);
      expect(maskedParams).toBe(4 * 1280);
      // What is left in TF.js: the variables other than the conv filters, the classifier's float32 mask (the
      // trainer's) and the trainer's 4-byte anchor — exactly; a dense-state session holds the conv filters and
      // every masked tensor's float32 mask on top (5.8 + 5.8 MB here).
      expect(tf.memory().numBytes - baseBytes).toBe(other + maskedParams + 4);
      const metrics = session.layerMetrics();
      expect(metrics).toHaveLength(29);
      expect(metrics.reduce((t, m) => t + m.size, 0)).toBe(1_462_416 + 1280);
      // Training: three epochs of three steps, the window (64 steps) open throughout, a mask update after the
      // first two (none after the last epoch). After the first step the optimizer holds the momentum of every non-conv parameter and nothing
      // more: bytes and tensor count stay constant through the steps and both updates.
      const bytes: number[] = [];
      const counts: number[] = [];
      const events: number[][] = [];
      for (let epoch = 1; epoch <= 3; epoch++) {
        trainEpochSteps(session.dense, execution, epoch, () => {
          bytes.push(tf.memory().numBytes - baseBytes);
          counts.push(tf.memory().numTensors);
        });
        const event = execution.trainer.endEpoch({});
        if (event) events.push(event.layers.map((l) => l.activeAfter));
        bytes.push(tf.memory().numBytes - baseBytes);
        counts.push(tf.memory().numTensors);
      }
      expect(events).toHaveLength(2);
      expect(new Set(bytes)).toEqual(new Set([other + maskedParams + 4 + params]));
      expect(new Set(counts).size).toBe(1);
      // Metrics follow the trainer's compact layers (the last update's counts).
      expect(session.layerMetrics().map((m) => m.active)).toEqual(events[1]);
    } finally {
      execution.dispose?.();
      session.dispose();
    }
    expect(tf.memory().numTensors).toBe(baseTensors);
    expect(tf.memory().numBytes).toBe(baseBytes);
  }, 300_000);

  it('the dense-state graph session keeps the conv filters and masks beside the trainer (what the compact session releases)', async () => {
    const { config } = resolveConfig({ name: 'test', values: { ...VALUES, sparseState: 'dense' } });
    const baseBytes = tf.memory().numBytes;
    const session = await prepareRunSession({ config });
    expect('kind' in session).toBe(false);
    if ('kind' in session) return;
    const execution = createExecution(session, chooseExecution(session, 'sparse'), silentLogger, 64);
    try {
      const { conv, maskedParams, other } = sizes(session);
      expect(tf.memory().numBytes - baseBytes).toBe(other + conv + (conv + maskedParams) + maskedParams + 4);
    } finally {
      execution.dispose?.();
      session.dispose();
    }
  }, 300_000);

  // wrn-28-2 with a window of 2 of its 3 steps per epoch (opened and closed); VGG: every conv has a bias (a dense
  // parameter added after the sparse op), 2×2 max pools, no dropout, the default window (covering the run).
  const VGG = ['--model', 'vgg-like', '--dataset', 'cifar10', '--execution', 'sparse', '--density', '0.1', '--lr', '0.01', '--epochs', '2', '--max-batches', '2', '--batch-size', '16', '--test-batch-size', '16', '--max-eval-batches', '1', '--backend', 'native', '--seed', '5'];
  for (const [label, args] of [
    ['wrn-28-2', ARGS],
    ['vgg-like', VGG],
  ] as const) {
    it(`${label}: ends bit for bit where --sparse-state dense ends (2 epochs, a mask update): weights, masks, momentum, books, metrics, results`, async () => {
      const threads = addon!.info().threads;
      addon!.setThreads(1);
      try {
        const root = tmp('sl-compact-graph-');
        const data: string[] = [];
        if (label === 'vgg-like') {
          writeCifarFiles(join(root, 'cifar', 'cifar-10-batches-bin'), 40, 20);
          data.push('--data-dir', join(root, 'cifar'));
        }
        const compact = await cli('train', ...args, ...data, '--out', join(root, 'compact'));
        expect(compact.stderr).not.toContain('error');
        expect(compact.code).toBe(0);
        expect(compact.stdout).toContain('compact state: the conv filters, their masks and momentum are released');
        const dense = await cli('train', ...args, ...data, '--sparse-state', 'dense', '--out', join(root, 'dense'));
        expect(dense.code).toBe(0);
        expect(dense.stdout).not.toContain('compact state');
        await expectSameRun(join(root, 'dense'), join(root, 'compact'));
      } finally {
        addon!.setThreads(threads);
      }
    }, 600_000);
  }
});
