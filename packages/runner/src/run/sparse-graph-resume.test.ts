import { join } from 'node:path';
import { loadCheckpoint } from '@sparse-learning/checkpoint';
import { loadNativeAddon, sparseConvOpAddonOf } from '@sparse-learning/backend-native';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOLD_MARKER } from './run-directory.js';
import { cli, expectSameRun, spawnCli, tmp, waitForFile, removeTmpDirs } from '../test/run-helpers.js';

// Issue 9, WideResNets from the CLI: a WRN-28-2 run in sparse execution (SparseGraphTrainer; the default compact
// state, ./sparse-compact-graph.ts: conv filters, masks and momentum released once the trainer is bound, dense
// views materialised at each checkpoint) records its choice in
// config.json, and killed with SIGKILL in epoch 2 it resumes from its epoch-1 checkpoint — in sparse execution
// bit for bit equal to the uninterrupted run, in masked execution with the same masks and weights within
// float32 tolerance; the sparse run's model exports. One native thread everywhere (the dense filter gradient
// adds per-thread partials in thread order); lr 0.001 keeps ReLU decisions at rounding level rare over these
// few steps (see sparse-graph-execution.test.ts).
const addon = loadNativeAddon();
const built = sparseConvOpAddonOf(addon) !== null;
const RUN = [
  ...['--model', 'wrn-28-2', '--dataset', 'mnist', '--execution', 'sparse', '--density', '0.1', '--lr', '0.001'],
  ...['--epochs', '2', '--max-batches', '3', '--batch-size', '16', '--test-batch-size', '16', '--max-eval-batches', '1', '--backend', 'native', '--seed', '5'],
];
const ENV = { SPARSE_LEARNING_NATIVE_THREADS: '1', SPARSE_LEARNING_HOLD_AT_STEP: '4' };

describe.skipIf(!built)('sparse WRN run: config.json, kill -9 mid-run, resume in either execution, export', () => {
  const root = tmp('sl-wrn-resume-');
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
    expect(r.code).toBe(0);
  }, 600_000);

  it('config.json records the execution and why', () => {
    const recorded = JSON.parse(readFileSync(join(reference, 'config.json'), 'utf8'));
    expect(recorded.execution).toMatchObject({ requested: 'sparse', execution: 'sparse' });
  });

  it('resumed in sparse execution: final weights, masks, momentum and metrics equal the uninterrupted run bit for bit', async () => {
    await waitForFile(join(sparseResume, HOLD_MARKER), runs[0]);
    runs[0].child.kill('SIGKILL');
    expect((await runs[0].exited).signal).toBe('SIGKILL');
    const resumed = await cli('train', '--resume', sparseResume);
    expect(resumed.stderr).not.toContain('error');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('resuming at epoch 2/2, batch 0/3 (step 3 of 6)');
    // The default `--sparse-state auto`: rebuilt from the dense-form checkpoint, the conv state released again.
    expect(resumed.stdout).toContain('compact state: the conv filters, their masks and momentum are released');
    await expectSameRun(reference, sparseResume);
  }, 600_000);

  it('resumed in masked execution: same masks, weights and BN statistics within float32 tolerance', async () => {
    await waitForFile(join(maskedResume, HOLD_MARKER), runs[1]);
    runs[1].child.kill('SIGKILL');
    await runs[1].exited;
    const resumed = await cli('train', '--resume', maskedResume, '--execution', 'masked');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('execution: masked');
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
  }, 600_000);

  it('the sparse run exports', async () => {
    const out = join(root, 'model.slsparse');
    const r = await cli('export', reference, '--out', out);
    expect(r.stderr).not.toContain('error');
    expect(r.code).toBe(0);
  }, 300_000);
});
