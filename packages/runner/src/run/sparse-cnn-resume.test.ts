import { join } from 'node:path';
import { loadCheckpoint } from '@sparse-learning/checkpoint';
import { loadNativeAddon, sparseCnnAddonOf } from '@sparse-learning/backend-native';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOLD_MARKER } from './run-directory.js';
import { cli, expectSameRun, spawnCli, tmp, waitForFile, removeTmpDirs } from '../test/run-helpers.js';

// Issue 9: a LeNet-5-Caffe run in sparse execution (the compact CNN session: no dense model while it trains,
// dense-form checkpoints) killed with SIGKILL in the middle of epoch 2 resumes from
// its epoch-1 checkpoint — in sparse execution bit for bit equal to the uninterrupted run, in masked
// execution equal within float32 tolerance (the window of 64 steps covers these 24, so both executions
// compute the same run). One native thread everywhere: the dense filter gradient adds per-thread partials in
// thread order, so the thread count is part of the arithmetic.
const addon = loadNativeAddon();
const built = sparseCnnAddonOf(addon) !== null;
const RUN = ['--model', 'lenet5', '--execution', 'sparse', '--epochs', '3', '--max-batches', '8', '--batch-size', '32', '--max-eval-batches', '2', '--backend', 'native', '--seed', '17'];
const ENV = { SPARSE_LEARNING_NATIVE_THREADS: '1', SPARSE_LEARNING_HOLD_AT_STEP: '12' };

describe.skipIf(!built)('sparse LeNet-5 run: kill -9 mid-run, resume in either execution', () => {
  const root = tmp('sl-cnn-resume-');
  const reference = join(root, 'uninterrupted');
  const sparseResume = join(root, 'killed-sparse');
  const maskedResume = join(root, 'killed-masked');
  const runs = built ? [spawnCli(['train', ...RUN, '--out', sparseResume], ENV), spawnCli(['train', ...RUN, '--out', maskedResume], ENV)] : [];
  const threads = addon?.info().threads ?? 1;

  afterAll(() => {
    for (const run of runs) if (run.child.exitCode === null && run.child.signalCode === null) run.child.kill('SIGKILL');
    addon?.setThreads(threads);
    removeTmpDirs();
  });

  beforeAll(async () => {
    addon!.setThreads(1);
    const r = await cli('train', ...RUN, '--out', reference);
    expect(r.stderr).not.toContain('error');
    expect(r.stdout).toContain('execution: sparse');
    // The default form: the compact CNN session (./sparse-compact-cnn.ts), no dense model while it trains.
    expect(r.stdout).toContain('compact state: the dense model is released once the trainer is built');
    expect(r.code).toBe(0);
  }, 300_000);

  it('resumed in sparse execution: final weights, masks, momentum and metrics equal the uninterrupted run bit for bit', async () => {
    await waitForFile(join(sparseResume, HOLD_MARKER), runs[0]);
    runs[0].child.kill('SIGKILL');
    expect((await runs[0].exited).signal).toBe('SIGKILL');
    const resumed = await cli('train', '--resume', sparseResume);
    expect(resumed.stderr).not.toContain('error');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('resuming at epoch 2/3, batch 0/8 (step 8 of 24)');
    await expectSameRun(reference, sparseResume);
  }, 300_000);

  it('resumed in masked execution: same masks, weights within float32 tolerance', async () => {
    await waitForFile(join(maskedResume, HOLD_MARKER), runs[1]);
    runs[1].child.kill('SIGKILL');
    await runs[1].exited;
    const resumed = await cli('train', '--resume', maskedResume, '--execution', 'masked');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('execution: masked');
    expect(resumed.stderr).toMatch(/resume: --execution.*"masked" \(recorded: "sparse"\)/);
    const a = await loadCheckpoint(reference);
    const b = await loadCheckpoint(maskedResume);
    expect([b.epoch, b.step]).toEqual([a.epoch, a.step]);
    for (const name of Object.keys(a.tensors.masks)) expect(Buffer.from(b.tensors.masks[name]).equals(Buffer.from(a.tensors.masks[name])), `mask ${name}`).toBe(true);
    for (const name of Object.keys(a.tensors.variables)) {
      const x = a.tensors.variables[name].values as Float32Array;
      const y = b.tensors.variables[name].values as Float32Array;
      let max = 0;
      for (let k = 0; k < x.length; k++) max = Math.max(max, Math.abs(x[k] - y[k]));
      expect(max, `weights ${name}`).toBeLessThan(2e-4);
    }
    expect(b.trainerState).toMatchObject({ step: 24, epoch: 3 });
  }, 300_000);
});
