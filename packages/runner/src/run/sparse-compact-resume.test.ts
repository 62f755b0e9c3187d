import { cpSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint, loadSparseModel } from '@sparse-learning/checkpoint';
import { loadNativeAddon, sparseAddonOf } from '@sparse-learning/backend-native';
import { loadDataset } from '@sparse-learning/datasets';
import { createModel } from '@sparse-learning/models';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOLD_MARKER } from './run-directory.js';
import { cli, expectSameRun, metricsWithoutTimings, spawnCli, tmp, waitForFile, removeTmpDirs } from '../test/run-helpers.js';

// Issue 9: a compact sparse session (no dense model, masks or slots) writes compact checkpoints; er-mlp-300's
// dense form fits, so its initial state is the masked run's and it trains as the dense-form run does. A run killed
// with SIGKILL in the middle of epoch 2 resumes from its epoch-1 checkpoint bit for bit; export works from
// the compact state and the exported model predicts what the run evaluated; a dense-form checkpoint of a
// sparse run resumes in compact form, and a compact one in masked execution (converted to its dense form).
const addon = loadNativeAddon();
const built = sparseAddonOf(addon) !== null;
const RUN = ['--model', 'er-mlp-300', '--preset', 'set', '--execution', 'sparse', '--sparse-state', 'compact', '--epochs', '3', '--max-batches', '8', '--batch-size', '32', '--max-eval-batches', '2', '--backend', 'native', '--seed', '23'];
const ENV = { SPARSE_LEARNING_NATIVE_THREADS: '1', SPARSE_LEARNING_HOLD_AT_STEP: '12' };

describe.skipIf(!built)('compact sparse session: checkpoints, kill -9 and resume, export', () => {
  const root = tmp('sl-compact-');
  const reference = join(root, 'uninterrupted');
  const killed = join(root, 'killed');
  const referenceDense = join(root, 'uninterrupted-dense-form');
  const killedDense = join(root, 'killed-dense-form');
  const DENSE_FORM = RUN.map((a) => (a === 'compact' ? 'dense' : a));
  const runs = built ? [spawnCli(['train', ...RUN, '--out', killed], ENV), spawnCli(['train', ...DENSE_FORM, '--out', killedDense], ENV)] : [];
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
    expect(r.stdout).toContain('execution: sparse — requested (compact state: --sparse-state compact; no dense tensors)');
    expect(r.code).toBe(0);
    expect((await cli('train', ...DENSE_FORM, '--out', referenceDense)).code).toBe(0);
  }, 300_000);

  it('writes the compact-mlp format: CSC arrays and per-nonzero momentum, no masks, no dense weight', async () => {
    const c = await loadCheckpoint(reference);
    const extra = c.extra as { sparseState?: { format: string; version: number; layers: { weightName: string; in: number; out: number }[] } };
    expect(extra.sparseState).toMatchObject({ format: 'compact-mlp', version: 1 });
    expect(extra.sparseState!.layers.map((l) => [l.weightName, l.in, l.out])).toEqual([
      ['fc1.weight', 784, 300],
      ['fc2.weight', 300, 300],
      ['fc3.weight', 300, 10],
    ]);
    expect(c.tensors.masks).toEqual({});
    expect(Object.keys(c.tensors.variables)).not.toContain('fc1.weight');
    const metrics = readFileSync(join(reference, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { layers: { name: string; active: number }[] });
    for (const layer of metrics.at(-1)!.layers) {
      const nnz = c.tensors.variables[`${layer.name}#rowidx`].values.length;
      expect(nnz).toBe(layer.active);
      expect(c.tensors.variables[`${layer.name}#values`].values.length).toBe(nnz);
      expect(c.tensors.optimizer!.slots[layer.name].momentum_buffer.length).toBe(nnz);
    }
    // SET keeps the layers' counts through its updates (in-place regrowth). Erdős–Rényi at 5 %: ε = 0.05 ·
    // 328 200 / (1 084 + 600 + 310) = 8.2297, so fc3 gets round(3 000 · 8.2297 · 310 / 3 000) = 2 551.
    expect(metrics.at(-1)!.layers.map((l) => l.active)).toEqual(metrics[0].layers.map((l) => l.active));
    expect(metrics[0].layers.find((l) => l.name === 'fc3.weight')!.active).toBe(2551);
  });

  it('drawn as the masked run draws it (the dense form fits), the compact run ends bit for bit where the dense-form run ends', async () => {
    const a = await loadCheckpoint(reference);
    const b = await loadCheckpoint(referenceDense);
    expect([a.epoch, a.step]).toEqual([b.epoch, b.step]);
    for (const name of ['fc1.weight', 'fc2.weight', 'fc3.weight']) {
      const [inF, outF] = b.tensors.variables[name].shape;
      const colptr = a.tensors.variables[`${name}#colptr`].values as Int32Array;
      const rowidx = a.tensors.variables[`${name}#rowidx`].values as Int32Array;
      const values = a.tensors.variables[`${name}#values`].values as Float32Array;
      const rebuilt = new Float32Array(inF * outF);
      const mask = new Uint8Array(inF * outF);
      for (let o = 0; o < outF; o++) for (let k = colptr[o]; k < colptr[o + 1]; k++) [rebuilt[rowidx[k] * outF + o], mask[rowidx[k] * outF + o]] = [values[k], 1];
      expect(Buffer.from(mask).equals(Buffer.from(b.tensors.masks[name])), `mask ${name}`).toBe(true);
      const dense = b.tensors.variables[name].values as Float32Array;
      for (let p = 0; p < dense.length; p++) if (!mask[p]) rebuilt[p] = dense[p];
      expect(Buffer.from(rebuilt.buffer).equals(Buffer.from(dense.buffer)), `weights ${name}`).toBe(true);
    }
    expect(a.trainerState).toEqual(b.trainerState);
    expect(metricsWithoutTimings(reference)).toEqual(metricsWithoutTimings(referenceDense));
  });

  it('killed mid-run: resumes masked from a copy, and compact bit for bit (weights, indices, momentum, books, metrics)', async () => {
    await waitForFile(join(killed, HOLD_MARKER), runs[0]);
    runs[0].child.kill('SIGKILL');
    expect((await runs[0].exited).signal).toBe('SIGKILL');
    // Never silently into a dense session: a coded error that says how to resume.
    const masked = await cli('train', '--resume', killed, '--execution', 'masked');
    expect(masked.code).toBe(2);
    expect(masked.stderr).toContain('[E_CONFIG_INVALID] --sparse-state compact needs sparse execution; use --execution sparse');
    // A copy resumes in masked execution (`--sparse-state auto` lets the session be dense): the compact
    // checkpoint is read in the dense form it stands for, and the run finishes with dense-form checkpoints.
    const copy = join(root, 'killed-resumed-masked');
    cpSync(killed, copy, { recursive: true });
    rmSync(join(copy, HOLD_MARKER), { force: true });
    const dense = await cli('train', '--resume', copy, '--execution', 'masked', '--sparse-state', 'auto');
    expect(dense.stderr).not.toContain('error');
    expect(dense.code).toBe(0);
    expect(dense.stdout).toContain('resuming at epoch 2/3, batch 0/8 (step 8 of 24)');
    const finished = await loadCheckpoint(copy);
    expect([finished.epoch, finished.step]).toEqual([3, 24]);
    expect(Object.keys(finished.tensors.masks)).toEqual(['fc1.weight', 'fc2.weight', 'fc3.weight']);
    const resumed = await cli('train', '--resume', killed);
    expect(resumed.stderr).not.toContain('error');
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('resuming at epoch 2/3, batch 0/8 (step 8 of 24)');
    await expectSameRun(reference, killed);
  }, 300_000);

  it('exports from the compact state; the exported model predicts what the run evaluated', async () => {
    const out = join(root, 'model.slsparse');
    const r = await cli('export', reference, '--out', out);
    expect(r.code).toBe(0);
    const results = JSON.parse(readFileSync(join(reference, 'results.json'), 'utf8')) as { testAccuracy: number; totalActive: number };
    await tf.setBackend('cpu');
    const loaded = await loadSparseModel(out, (id, options) => createModel(id, options as never));
    try {
      const active = Object.values(loaded.masks).reduce((a, m) => a + m.reduce((x, y) => x + y, 0), 0);
      expect(active).toBe(results.totalActive);
      // The run evaluated the first 2 test batches of 100 (--max-eval-batches 2, test batch 100).
      const data = await loadDataset('mnist', { validSplit: 0.1 });
      const batch = data.test.batch(Int32Array.from({ length: 200 }, (_, i) => i));
      const predicted = tf.tidy(() => tf.argMax(loaded.model.predict(batch.inputs), -1).dataSync());
      const labels = batch.labels.dataSync();
      let correct = 0;
      for (let i = 0; i < 200; i++) correct += predicted[i] === labels[i] ? 1 : 0;
      batch.inputs.dispose();
      batch.labels.dispose();
      expect(correct / 200).toBeCloseTo(results.testAccuracy, 6);
    } finally {
      loaded.model.dispose();
    }
  }, 120_000);

  it('a dense-form checkpoint of a sparse run (killed mid-run) resumes in compact form and ends where the dense-form run ends', async () => {
    await waitForFile(join(killedDense, HOLD_MARKER), runs[1]);
    runs[1].child.kill('SIGKILL');
    await runs[1].exited;
    expect(Object.keys((await loadCheckpoint(killedDense)).tensors.masks)).toEqual(['fc1.weight', 'fc2.weight', 'fc3.weight']);
    const r = await cli('train', '--resume', killedDense, '--sparse-state', 'compact');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/--sparse-state: "compact" \(recorded: "dense"\)/);
    expect(r.stdout).toContain('compact state');
    const a = await loadCheckpoint(referenceDense);
    const b = await loadCheckpoint(killedDense);
    expect((b.extra as { sparseState?: unknown }).sparseState).toBeDefined();
    expect([b.epoch, b.step]).toEqual([a.epoch, a.step]);
    for (const name of ['fc1.weight', 'fc2.weight', 'fc3.weight']) {
      const dense = a.tensors.variables[name].values as Float32Array;
      const [inF, outF] = a.tensors.variables[name].shape;
      const colptr = b.tensors.variables[`${name}#colptr`].values as Int32Array;
      const rowidx = b.tensors.variables[`${name}#rowidx`].values as Int32Array;
      const values = b.tensors.variables[`${name}#values`].values as Float32Array;
      const rebuilt = new Float32Array(inF * outF);
      for (let o = 0; o < outF; o++) for (let k = colptr[o]; k < colptr[o + 1]; k++) rebuilt[rowidx[k] * outF + o] = values[k];
      const mask = a.tensors.masks[name];
      expect(rowidx.length).toBe(mask.reduce((x, y) => x + y, 0));
      for (let p = 0; p < dense.length; p++) if (!mask[p]) rebuilt[p] = dense[p]; // off-mask values of the dense form are 0 there too
      expect(Buffer.from(rebuilt.buffer).equals(Buffer.from(dense.buffer)), `weights ${name}`).toBe(true);
    }
    expect(b.trainerState).toEqual(a.trainerState);
    expect(metricsWithoutTimings(killedDense)).toEqual(metricsWithoutTimings(referenceDense));
  }, 300_000);
});
