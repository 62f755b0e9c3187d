import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint } from '@sparse-learning/checkpoint';
import { silentLogger } from '@sparse-learning/core';
import { loadNativeAddon, sparseCnnAddonOf } from '@sparse-learning/backend-native';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/resolve.js';
import { cli, metricsWithoutTimings, removeTmpDirs, tmp } from '../test/run-helpers.js';
import { bindCompactCnn } from './sparse-compact-cnn.js';
import { prepareRunSession } from './sparse-compact-session.js';

// Issue 9: a sparse LeNet-5 run trains without the dense TF.js model (`--sparse-state auto`): the trainer is
// built from the dense session's state, which is then released; checkpoints are the dense views of the compact
// layers. It must be the `--sparse-state dense` run bit for bit. (Kill -9 and resume of this session, in either
// execution: sparse-cnn-resume.test.ts, whose runs use the default form.)
const addon = loadNativeAddon();
const built = sparseCnnAddonOf(addon) !== null;
const ARGS = ['--model', 'lenet5', '--execution', 'sparse', '--density', '0.05', '--epochs', '2', '--max-batches', '6', '--batch-size', '32', '--max-eval-batches', '2', '--backend', 'native', '--seed', '31'];

const bytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe.skipIf(!built)('compact CNN session (LeNet-5 without the dense model)', () => {
  afterAll(() => removeTmpDirs());

  it('releases every dense tensor once the trainer is bound, and reports the active counts of the masked run', async () => {
    const { config } = resolveConfig({ name: 'test', values: { model: 'lenet5', execution: 'sparse', density: 0.05, epochs: 1, maxBatches: 1, backend: 'native', seed: 31 } });
    // A dense session first (activates the backend), disposed: the tensor count to come back to.
    (await prepareRunSession({ config: { ...config, sparseState: 'dense' } })).dispose();
    const before = tf.memory().numTensors;
    const session = await prepareRunSession({ config });
    try {
      expect('kind' in session && session.kind).toBe('compact-cnn');
      if (!('kind' in session) || session.kind !== 'compact-cnn') return;
      const metrics = session.layerMetrics();
      expect(tf.memory().numTensors).toBeGreaterThan(before);
      bindCompactCnn(session, session.choice, silentLogger);
      expect(session.dense).toBeNull();
      expect(tf.memory().numTensors).toBe(before);
      expect(session.layerMetrics()).toEqual(metrics);
      expect(metrics.map((m) => m.name)).toEqual(['conv1.weight', 'conv2.weight', 'fc3.weight', 'fc4.weight']);
    } finally {
      session.dispose();
    }
  }, 120_000);

  it('ends bit for bit where --sparse-state dense ends: weights, masks, momentum, books, metrics', async () => {
    addon!.setThreads(1);
    const root = tmp('sl-compact-cnn-');
    const compact = await cli('train', ...ARGS, '--out', join(root, 'compact'));
    expect(compact.stderr).not.toContain('error');
    expect(compact.code).toBe(0);
    expect(compact.stdout).toContain('compact state: the dense model is released once the trainer is built');
    expect((await cli('train', ...ARGS, '--sparse-state', 'dense', '--out', join(root, 'dense'))).code).toBe(0);
    const a = await loadCheckpoint(join(root, 'compact'));
    const b = await loadCheckpoint(join(root, 'dense'));
    expect([a.epoch, a.step]).toEqual([b.epoch, b.step]);
    expect(Object.keys(a.tensors.variables)).toEqual(Object.keys(b.tensors.variables));
    for (const [name, v] of Object.entries(b.tensors.variables)) {
      expect(a.tensors.variables[name].shape, name).toEqual(v.shape);
      expect(bytes(a.tensors.variables[name].values).equals(bytes(v.values)), `variable ${name}`).toBe(true);
    }
    expect(Object.keys(a.tensors.masks)).toEqual(Object.keys(b.tensors.masks));
    for (const [name, m] of Object.entries(b.tensors.masks)) expect(bytes(a.tensors.masks[name]).equals(bytes(m)), `mask ${name}`).toBe(true);
    expect(a.tensors.optimizer).toMatchObject({ id: b.tensors.optimizer!.id, iterations: b.tensors.optimizer!.iterations });
    expect(Object.keys(a.tensors.optimizer!.slots).sort()).toEqual(Object.keys(b.tensors.optimizer!.slots).sort());
    for (const [name, slot] of Object.entries(b.tensors.optimizer!.slots)) {
      expect(bytes(a.tensors.optimizer!.slots[name].momentum_buffer).equals(bytes(slot.momentum_buffer)), `momentum ${name}`).toBe(true);
    }
    expect(a.trainerState).toEqual(b.trainerState);
    expect(a.strategyStates).toEqual(b.strategyStates);
    expect(a.rngStates).toEqual(b.rngStates);
    expect(metricsWithoutTimings(join(root, 'compact'))).toEqual(metricsWithoutTimings(join(root, 'dense')));
    const results = (dir: string) => {
      const r = JSON.parse(readFileSync(join(root, dir, 'results.json'), 'utf8')) as Record<string, unknown>;
      for (const k of Object.keys(r)) if (/seconds|time|At$/i.test(k)) delete r[k];
      return r;
    };
    expect(results('compact')).toEqual(results('dense'));
  }, 300_000);
});
