import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { listCheckpoints, loadCheckpoint, loadSparseModel, restoreVariables } from '@sparse-learning/checkpoint';
import { createModel, type ModelOptions } from '@sparse-learning/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOLD_MARKER } from './run-directory.js';
import { resumeExtraOf } from './checkpointing.js';
import { cli, expectSameRun, metricsWithoutTimings, spawnCli, tmp, waitForFile, removeTmpDirs } from '../test/run-helpers.js';

afterAll(() => removeTmpDirs());

// LeNet-300-100 on MNIST, Sparse Momentum at 5 %, 3 epochs × 20 batches, seed 17, wasm for every run.
const RUN = ['--epochs', '3', '--max-batches', '20', '--backend', 'wasm', '--seed', '17'];
const STEPS_PER_EPOCH = 20;

describe('checkpoint, kill and exact resume (real processes)', () => {
  const root = tmp('sl-resume-');
  const reference = join(root, 'uninterrupted');
  const killed = join(root, 'killed');
  const interrupted = join(root, 'interrupted');
  // Started at import time so the two processes' start-up overlaps with the in-process reference run.
  // SPARSE_LEARNING_HOLD_AT_STEP makes the run pause after that step (writing `.hold`) until a signal
  // arrives, so the kill lands at a known batch in the middle of an epoch.
  const killRun = spawnCli(['train', ...RUN, '--out', killed], { SPARSE_LEARNING_HOLD_AT_STEP: '30' });
  const intRun = spawnCli(['train', ...RUN, '--out', interrupted], { SPARSE_LEARNING_HOLD_AT_STEP: '25' });

  afterAll(() => {
    // Held processes wait forever: never leave one behind when a test failed before killing it.
    for (const run of [killRun, intRun]) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
  });

  beforeAll(async () => {
    const r = await cli('train', ...RUN, '--out', reference);
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
  });

  it('writes a checkpoint at every epoch end and a final one (weights, masks, optimizer, trainer, RNG, metrics, config)', async () => {
    const files = await listCheckpoints(reference);
    // keep = 2: the last two epoch-end checkpoints
    expect(files.map((f) => [f.epoch, f.step])).toEqual([
      [3, 60],
      [2, 40],
    ]);
    const ckpt = await loadCheckpoint(reference);
    expect(ckpt.fellBack).toBe(false);
    expect(ckpt.modelId).toBe('lenet300-100');
    expect(ckpt.config).toMatchObject({ preset: 'sparse-momentum', density: 0.05, epochs: 3, maxBatches: 20, seed: 17 });
    expect(Object.keys(ckpt.tensors.variables)).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'fc3.weight', 'fc3.bias']);
    expect(Object.keys(ckpt.tensors.masks)).toEqual(['fc1.weight', 'fc2.weight', 'fc3.weight']);
    // optimizer slots are dense: the momentum of zero (masked) weights is kept
    const mask = ckpt.tensors.masks['fc1.weight'];
    const momentum = ckpt.tensors.optimizer!.slots['fc1.weight'].momentum_buffer;
    expect(momentum.length).toBe(784 * 300);
    let nonzeroMomentumAtZeroWeight = 0;
    for (let i = 0; i < mask.length; i++) if (mask[i] === 0 && momentum[i] !== 0) nonzeroMomentumAtZeroWeight++;
    expect(nonzeroMomentumAtZeroWeight).toBeGreaterThan(1000);
    const trainer = ckpt.trainerState as { step: number; epoch: number; controller: { adjustments: number[] }; rng: object };
    expect([trainer.step, trainer.epoch]).toEqual([60, 3]);
    expect(trainer.controller.adjustments).toHaveLength(2); // two mask updates (after epochs 1 and 2)
    expect(Object.keys(ckpt.rngStates).sort()).toEqual(['augment', 'data-order', 'mask-init', 'mask-update', 'noise', 'preset-init']);
    // the mask-init stream drew the initial masks; data order and augmentation are pure functions of the position
    expect(ckpt.rngStates['mask-init'].seed).toBe('17/mask-init');
    expect(ckpt.rngStates['data-order'].seed).toBe('17/data-order/4');
    expect(ckpt.metricsHistory).toHaveLength(3);
    const extra = resumeExtraOf(ckpt);
    expect(extra.complete).toBe(true);
    expect(extra.backend.name).toBe('wasm');
    expect(extra.progress.batch).toBe(0);
  });

  it('SIGKILL in the middle of epoch 2, then --resume: final weights, masks and metrics equal the uninterrupted run bit for bit', async () => {
    await waitForFile(join(killed, HOLD_MARKER), killRun);
    // The first checkpoint exists; the process is at step 30 = epoch 2, batch 10 of 20.
    expect((await listCheckpoints(killed)).map((f) => f.file)).toEqual(['checkpoint-e1-s20.slckpt']);
    killRun.child.kill('SIGKILL');
    expect((await killRun.exited).signal).toBe('SIGKILL');
    expect(metricsWithoutTimings(killed)).toHaveLength(1);

    const resumed = await cli('train', '--resume', killed, '--backend', 'wasm');
    expect(resumed.stderr).not.toContain('error');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`resuming at epoch 2/3, batch 0/${STEPS_PER_EPOCH} (step 20 of 60)`);
    await expectSameRun(reference, killed);
    const config = JSON.parse(readFileSync(join(killed, 'config.json'), 'utf8'));
    expect(config.resumes).toHaveLength(1);
    expect(config.resumes[0]).toMatchObject({ fromCheckpoint: 'checkpoint-e1-s20.slckpt', epoch: 1, step: 20, batchInEpoch: 0 });
  });

  it('SIGINT finishes the step, saves a mid-epoch checkpoint and exits 130; --resume skips the done batches and ends identical', async () => {
    await waitForFile(join(interrupted, HOLD_MARKER), intRun);
    intRun.child.kill('SIGINT');
    const exit = await intRun.exited;
    const { stdout, stderr } = intRun.output();
    expect(stderr).toContain('SIGINT received: finishing the current step and saving a checkpoint');
    expect(stdout).toContain('stopped by SIGINT at epoch 2/3, batch 5, step 25');
    expect(stdout).toContain(`resume with: npx sparse-learning train --resume ${interrupted}`);
    expect(exit.code).toBe(130);
    expect(existsSync(join(interrupted, HOLD_MARKER))).toBe(false);
    const ckpt = await loadCheckpoint(interrupted);
    expect([ckpt.epoch, ckpt.step]).toEqual([1, 25]);
    const extra = resumeExtraOf(ckpt);
    expect(extra.reason).toBe('signal');
    expect(extra.progress.batch).toBe(5);
    expect(extra.progress.steps).toBe(5);

    const resumed = await cli('train', '--resume', interrupted);
    expect(resumed.stderr).not.toContain('error');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain(`resuming at epoch 2/3, batch 5/${STEPS_PER_EPOCH} (step 25 of 60)`);
    await expectSameRun(reference, interrupted);
    // a finished run has nothing left to resume
    const again = await cli('train', '--resume', interrupted);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('already finished all 3 epochs');
  });

  it('export: values + indices + dense parts, size against the dense model, and a round trip with the same predictions', async () => {
    const out = join(root, 'lenet.slsparse');
    const r = await cli('export', reference, '--out', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const match = /sparse ([\d,]+) bytes vs dense ([\d,]+) bytes: ratio (0\.\d{4})/.exec(r.stdout);
    expect(match, r.stdout).not.toBeNull();
    const [sparse, dense, ratio] = [Number(match![1].replace(/,/g, '')), Number(match![2].replace(/,/g, '')), Number(match![3])];
    expect(dense).toBe(4 * 266_610); // every LeNet-300-100 parameter as float32
    expect(sparse / dense).toBeCloseTo(ratio, 4);
    expect(ratio).toBeLessThan(0.08); // ~5 % of the weights as value + index

    // Rebuild from the export and from the final checkpoint; predictions on a batch must be identical.
    const numTensors = tf.memory().numTensors;
    const loaded = await loadSparseModel(out, (id, options) => createModel(id, options as ModelOptions));
    const ckpt = await loadCheckpoint(reference);
    const original = createModel('lenet300-100', { seed: 1 });
    restoreVariables(original.variables, ckpt.tensors);
    const inputs = tf.tidy(() => tf.randomUniform([32, 28, 28, 1], 0, 1, 'float32', 5));
    const a = original.predict(inputs);
    const b = loaded.model.predict(inputs);
    const bytes = (x: ArrayBufferView) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
    expect(bytes(await b.data()).equals(bytes(await a.data()))).toBe(true);
    // Same values (a masked weight may be -0 in the checkpoint and +0 in the export: only active values are stored).
    for (const { name, variable } of loaded.model.variables) {
      const got = variable.dataSync();
      const want = ckpt.tensors.variables[name].values;
      let differing = 0;
      for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) differing++;
      expect(differing, name).toBe(0);
    }
    tf.dispose([inputs, a, b]);
    original.dispose();
    loaded.model.dispose();
    expect(tf.memory().numTensors).toBe(numTensors);
    expect(readdirSync(root)).toContain('lenet.slsparse');
  });
});
