import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint, readSparseTensors, type LoadedCheckpoint } from '@sparse-learning/checkpoint';
import { loadNativeAddon, nnzOf, scatterDense, sparseAddonOf } from '@sparse-learning/backend-native';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/resolve.js';
import { cli, metricsWithoutTimings, removeTmpDirs, tmp } from '../test/run-helpers.js';
import { prepareExperiment } from './experiment.js';
import { denseFormOfCheckpoint } from './sparse-compact-checkpoint.js';
import { prepareRunSession } from './sparse-compact-session.js';

// Issue 9: memory follows the active weights in every sparse MLP run. When the dense form fits, the compact
// session draws its initial state exactly as the masked run does (the dense session's model init, masks and
// streams), compacts it and releases every dense tensor before the first step — so a default sparse run
// (`--sparse-state auto`) is the `--sparse-state dense` run of before, bit for bit, without the dense model.
const addon = loadNativeAddon();
const built = sparseAddonOf(addon) !== null;
const SM = { model: 'lenet300-100', preset: 'sparse-momentum', density: 0.05, epochs: 2, maxBatches: 12, backend: 'native', seed: 29 };

/** The dense `[in, out]` weight and 0/1 mask a compact checkpoint's layer `name` stands for. */
function denseOfCompact(c: LoadedCheckpoint, name: string, inF: number, outF: number): { weight: Float32Array; mask: Uint8Array } {
  const colptr = c.tensors.variables[`${name}#colptr`].values as Int32Array;
  const rowidx = c.tensors.variables[`${name}#rowidx`].values as Int32Array;
  const values = c.tensors.variables[`${name}#values`].values as Float32Array;
  const weight = new Float32Array(inF * outF);
  const mask = new Uint8Array(inF * outF);
  for (let o = 0; o < outF; o++) {
    for (let k = colptr[o]; k < colptr[o + 1]; k++) {
      weight[rowidx[k] * outF + o] = values[k];
      mask[rowidx[k] * outF + o] = 1;
    }
  }
  return { weight, mask };
}

describe.skipIf(!built)('compact sparse session drawn as the masked run draws it', () => {
  afterAll(() => removeTmpDirs());

  it('holds the masked session\'s initial weights and masks exactly, and no tensor once prepared', async () => {
    const { config } = resolveConfig({ name: 'test', values: { ...SM, execution: 'sparse' } });
    const masked = await prepareExperiment({ config: { ...config, execution: 'masked' } });
    const before = tf.memory().numTensors;
    const session = await prepareRunSession({ config });
    try {
      expect('kind' in session && session.kind).toBe('compact');
      if (!('kind' in session) || session.kind !== 'compact') return;
      // Every dense tensor the draw made (model, masks, optimizer, trainer) is released.
      expect(tf.memory().numTensors).toBe(before);
      expect(session.initialState).toEqual(masked.trainer.getState());
      expect(Object.keys(session.initRngStates())).toEqual(['mask-init', 'preset-init']);
      expect(session.baselineNonzero).toBe(masked.masking!.baselineNonzero);
      expect(session.layerMetrics()).toEqual(masked.layerMetrics());
      const masks = masked.masking!.readMasks();
      session.layers.forEach((s, i) => {
        const expected = masked.model.variables.find((v) => v.name === s.weightName)!.variable.dataSync() as Float32Array;
        const weight = scatterDense(s.layer, s.layer.vals);
        let differ = 0;
        for (let p = 0; p < expected.length; p++) if (masks[i][p] ? !Object.is(weight[p], expected[p]) : weight[p] !== 0) differ++;
        expect(differ, s.weightName).toBe(0);
        expect(nnzOf(s.layer)).toBe(masks[i].reduce((a, b) => a + b, 0));
        const bias = masked.model.variables.find((v) => v.name === s.biasName)!.variable.dataSync() as Float32Array;
        expect(Buffer.from(s.layer.bias!.buffer).equals(Buffer.from(bias.buffer.slice(bias.byteOffset, bias.byteOffset + bias.byteLength)))).toBe(true);
      });
    } finally {
      session.dispose();
      masked.dispose();
    }
    // --sparse-state dense, masked execution and auto above the crossover keep the dense session.
    for (const values of [{ execution: 'sparse', sparseState: 'dense' }, { execution: 'masked' }, { execution: 'auto', density: 0.5 }]) {
      const s = await prepareRunSession({ config: resolveConfig({ name: 'test', values: { ...SM, ...values } }).config });
      expect('kind' in s, JSON.stringify(values)).toBe(false);
      s.dispose();
    }
  }, 120_000);

  it('a sparse CNN run that cannot run is E_CONFIG_INVALID naming why when its session is chosen, leaving no tensor', async () => {
    const { config } = resolveConfig({ name: 'test', values: { ...SM, model: 'lenet5', execution: 'sparse' } });
    (await prepareRunSession({ config: { ...config, sparseState: 'dense' } })).dispose();
    const before = tf.memory().numTensors;
    const error = await prepareRunSession({ config: { ...config, optimizer: 'adam' } }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/E_CONFIG_INVALID.*--execution sparse is not possible here: optimizer 'adam' \(sparse execution implements SGD\)/);
    expect(tf.memory().numTensors).toBe(before);
  }, 120_000);

  it('a default sparse run (compact) ends bit for bit where --sparse-state dense ends: weights, masks, books, metrics, export, dense form of its checkpoint', async () => {
    addon!.setThreads(1);
    const root = tmp('sl-dense-init-');
    const args = ['--model', 'lenet300-100', '--preset', 'sparse-momentum', '--density', '0.05', '--execution', 'sparse', '--epochs', '2', '--max-batches', '12', '--max-eval-batches', '2', '--backend', 'native', '--seed', '29'];
    const compact = await cli('train', ...args, '--out', join(root, 'compact'));
    expect(compact.stderr).not.toContain('error');
    expect(compact.code).toBe(0);
    expect(compact.stdout).toContain('execution: sparse — requested (compact state: dense form 0.0 GiB, drawn as the masked run draws it, then compacted; no dense tensors)');
    expect((await cli('train', ...args, '--sparse-state', 'dense', '--out', join(root, 'dense'))).code).toBe(0);
    const a = await loadCheckpoint(join(root, 'compact'));
    const b = await loadCheckpoint(join(root, 'dense'));
    expect((a.extra as { sparseState?: { format: string } }).sparseState?.format).toBe('compact-mlp');
    expect([a.epoch, a.step]).toEqual([b.epoch, b.step]);
    for (const [name, inF, outF] of [['fc1.weight', 784, 300], ['fc2.weight', 300, 100], ['fc3.weight', 100, 10]] as const) {
      const { weight, mask } = denseOfCompact(a, name, inF, outF);
      const denseMask = b.tensors.masks[name];
      expect(Buffer.from(mask.buffer).equals(Buffer.from(denseMask.buffer, denseMask.byteOffset, denseMask.byteLength)), `mask ${name}`).toBe(true);
      const dense = b.tensors.variables[name].values as Float32Array;
      let differ = 0;
      for (let p = 0; p < dense.length; p++) if (mask[p] && !Object.is(weight[p], dense[p])) differ++;
      expect(differ, `weights ${name}`).toBe(0);
    }
    expect(a.trainerState).toEqual(b.trainerState);
    expect(a.strategyStates).toEqual(b.strategyStates);
    expect(metricsWithoutTimings(join(root, 'compact'))).toEqual(metricsWithoutTimings(join(root, 'dense')));
    // Both export the same model.
    for (const form of ['compact', 'dense']) expect((await cli('export', join(root, form), '--out', join(root, `${form}.slsparse`))).code).toBe(0);
    const [ea, eb] = [await readSparseTensors(join(root, 'compact.slsparse')), await readSparseTensors(join(root, 'dense.slsparse'))];
    expect(ea.header.tensors.map((t) => [t.name, t.encoding, t.nnz])).toEqual(eb.header.tensors.map((t) => [t.name, t.encoding, t.nnz]));
    ea.tensors.forEach((t, i) => {
      const u = eb.tensors[i];
      const arrays = (x: typeof t) => ('dense' in x ? [x.dense] : [x.indices, x.values]);
      arrays(t).forEach((arr, j) => expect(Buffer.from(arr.buffer).equals(Buffer.from(arrays(u)[j].buffer)), `${t.name} array ${j}`).toBe(true));
    });
    // The compact checkpoint read in dense form (what a masked resume restores) is the dense-form run's, bit for bit.
    const converted = denseFormOfCheckpoint(a, true);
    expect((converted.extra as { sparseState?: unknown }).sparseState).toBeUndefined();
    expect(Object.keys(converted.tensors.variables).sort()).toEqual(Object.keys(b.tensors.variables).sort());
    for (const [name, v] of Object.entries(b.tensors.variables)) {
      expect(converted.tensors.variables[name].shape, name).toEqual(v.shape);
      expect(Buffer.from(converted.tensors.variables[name].values.buffer).equals(Buffer.from(v.values.buffer, v.values.byteOffset, v.values.byteLength)), `variable ${name}`).toBe(true);
    }
    for (const [name, m] of Object.entries(b.tensors.masks)) expect(Buffer.from(converted.tensors.masks[name]).equals(Buffer.from(m)), `mask ${name}`).toBe(true);
    const slots = b.tensors.optimizer!.slots;
    expect(converted.tensors.optimizer).toMatchObject({ id: b.tensors.optimizer!.id, iterations: b.tensors.optimizer!.iterations });
    expect(Object.keys(converted.tensors.optimizer!.slots).sort()).toEqual(Object.keys(slots).sort());
    for (const [name, slot] of Object.entries(slots)) {
      const m = slot.momentum_buffer;
      expect(Buffer.from(converted.tensors.optimizer!.slots[name].momentum_buffer.buffer).equals(Buffer.from(m.buffer, m.byteOffset, m.byteLength)), `momentum ${name}`).toBe(true);
    }
    const record = JSON.parse(readFileSync(join(root, 'compact', 'config.json'), 'utf8')) as { config: { sparseState: string } };
    expect(record.config.sparseState).toBe('auto');
  }, 300_000);
});
