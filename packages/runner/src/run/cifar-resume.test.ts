import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listCheckpoints, loadCheckpoint } from '@sparse-learning/checkpoint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCifarFiles } from '../test/cifar-files.js';
import { cli, expectSameRun, metricsWithoutTimings, removeTmpDirs, spawnCli, tmp, waitForFile } from '../test/run-helpers.js';
import { HOLD_MARKER } from './run-directory.js';

afterAll(() => removeTmpDirs());

// WRN-16-8 steps take seconds each on a loaded 2-core machine: generous limits (this is not a timing test).
const SLOW = 600_000;

// The default CIFAR-10 recipe (docs/algorithm.md#recipes) for WRN-16-8 — validation split 10 % drawn from the augmented
// training set, reflect-pad-4 crop + flip, dropout 0.3, batch norm — on 300 + 100 generated records in the
// official binary format, shrunk to what two shared CPU cores afford: batch 2, 2 steps per epoch, 2 epochs,
// evaluation on one batch of 2 per split. wasm for every run: single-threaded with fixed kernels, so bit-exact
// across processes (the native backend picks its GEMM per shape by timing).
const root = tmp('sl-cifar-');
const dataDir = join(root, 'data');
// The files sit in the tarball's own folder, as a user who extracted cifar-10-binary.tar.gz has them.
writeCifarFiles(join(dataDir, 'cifar-10-batches-bin'), 60, 100);
const RUN = [
  ...['--model', 'wrn-16-8', '--dataset', 'cifar10', '--data-dir', dataDir],
  ...['--epochs', '2', '--batch-size', '2', '--test-batch-size', '2', '--max-batches', '2', '--max-eval-batches', '1'],
  ...['--backend', 'wasm', '--seed', '5'],
];

describe('CIFAR-10 default recipe end to end: WRN-16-8 trains, validates, checkpoints and resumes exactly', () => {
  const reference = join(root, 'uninterrupted');
  const killed = join(root, 'killed');
  // Started at import time so its start-up overlaps with the in-process reference run. It holds after step 3
  // (epoch 2, batch 1 of 2), after the first epoch's checkpoint.
  const killRun = spawnCli(['train', ...RUN, '--out', killed], { SPARSE_LEARNING_HOLD_AT_STEP: '3' });

  afterAll(() => {
    if (killRun.child.exitCode === null && killRun.child.signalCode === null) killRun.child.kill('SIGKILL');
  });

  beforeAll(async () => {
    const r = await cli('train', ...RUN, '--out', reference);
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
  }, SLOW);

  it('the recipe applies, every epoch is validated, and checkpoints hold weights, masks and BN running statistics', async () => {
    const recorded = JSON.parse(readFileSync(join(reference, 'config.json'), 'utf8'));
    expect(recorded.config).toMatchObject({ lr: 0.1, decayFrequency: 30000, l2: 5e-4, density: 0.05, validSplit: 0.1, batchSize: 2 });
    for (const field of ['lr', 'decayFrequency', 'density', 'validSplit']) expect(recorded.origins[field]).toBe('dataset recipe cifar10');
    const rows = metricsWithoutTimings(reference);
    expect(rows.map((r) => r.step)).toEqual([2, 4]);
    for (const row of rows) {
      expect(Number.isFinite(row.validationLoss)).toBe(true);
      expect(row.validationAccuracy).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(row.testLoss)).toBe(true);
    }
    const ckpt = await loadCheckpoint(reference);
    expect([ckpt.epoch, ckpt.step]).toEqual([2, 4]);
    const names = Object.keys(ckpt.tensors.variables);
    const running = names.filter((n) => n.endsWith('.running_mean') || n.endsWith('.running_var'));
    // 2 BNs per block × 6 blocks + the head's bn1, two buffers each
    expect(running).toHaveLength(2 * 13);
    const variance = ckpt.tensors.variables['block1.layer.0.bn1.running_var'].values;
    const mean = ckpt.tensors.variables['block1.layer.0.bn1.running_mean'].values;
    // Four training steps moved them away from their initial 1 and 0 (momentum 0.1 per step).
    expect(Array.from(variance).some((v) => v !== 1)).toBe(true);
    expect(Array.from(mean).some((v) => v !== 0)).toBe(true);
    expect(Object.keys(ckpt.tensors.masks)).toContain('block3.layer.1.conv2.weight');
    expect(Object.keys(ckpt.tensors.masks)).toContain('fc.weight');
  }, SLOW);

  it('two runs with one seed are identical (dropout, augmentation, validation); SIGKILL mid-epoch + --resume equals the uninterrupted run bit for bit', async () => {
    await waitForFile(join(killed, HOLD_MARKER), killRun, SLOW);
    expect((await listCheckpoints(killed)).map((f) => f.file)).toEqual(['checkpoint-e1-s2.slckpt']);
    // Epoch 1 of the second process equals epoch 1 of the reference, metrics included.
    expect(metricsWithoutTimings(killed)).toEqual(metricsWithoutTimings(reference).slice(0, 1));
    killRun.child.kill('SIGKILL');
    expect((await killRun.exited).signal).toBe('SIGKILL');

    const resumed = await cli('train', '--resume', killed, '--backend', 'wasm');
    expect(resumed.stderr).not.toContain('error');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('resuming at epoch 2/2, batch 0/2 (step 2 of 4)');
    await expectSameRun(reference, killed);
  }, SLOW);
});
