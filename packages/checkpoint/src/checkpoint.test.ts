import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryLogger, createRng, isSparseLearningError, rngFromState } from '@sparse-learning/core';
import type { OptimizerState, TrainableModel } from '@sparse-learning/core';
import { nodeFsOps } from './atomic-write.js';
import { CHECKPOINT_FORMAT_VERSION, decodeCheckpoint, encodeCheckpoint } from './checkpoint-format.js';
import type { CheckpointData } from './checkpoint-format.js';
import { LATEST_POINTER, checkpointFileName, listCheckpoints, loadCheckpoint, saveCheckpoint } from './checkpoint-store.js';
import { assertCompatible, variableShapesOf } from './compatibility.js';
import { captureTensors, restoreVariables } from './tensors.js';
import { LIBRARY_VERSION } from './version.js';
import { bits, makeMlp, maskModel, tempDir } from './test-fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isSparseLearningError(error) ? error.code : `not a SparseLearningError: ${String(error)}`;
  }
  return undefined;
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string; details?: Record<string, unknown> }> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: Error) => e,
  );
}

/** Special float32 bit patterns: -0, a NaN with a payload, ±Infinity, the smallest denormal, max float. */
const SPECIAL_BITS = [0x80000000, 0x7fc00123, 0x7f800000, 0xff800000, 0x00000001, 0x7f7fffff];

function optimizerStateOf(model: TrainableModel, seed: number): OptimizerState {
  const rng = createRng(seed).fork('momentum');
  const slots: Record<string, Record<string, Float32Array>> = {};
  for (const { name, variable, trainable } of model.variables) {
    if (!trainable) continue;
    const buf = new Float32Array(variable.size);
    for (let i = 0; i < buf.length; i++) buf[i] = rng.normal() * 1e-3;
    slots[name] = { momentum_buffer: buf };
  }
  return { id: 'sgd', iterations: 1234, slots };
}

/** A whole run's state at epoch/step, with RNG streams that have already drawn some numbers. */
function runState(model: TrainableModel, masks: Record<string, Uint8Array>, epoch: number, step: number): CheckpointData {
  const root = createRng(7);
  const rngs = { 'mask-init': root.fork('mask-init'), 'data-order': root.fork('data-order'), growth: root.fork('growth'), noise: root.fork('noise') };
  for (const [i, r] of Object.values(rngs).entries()) for (let k = 0; k < 10 + i; k++) r.normal();
  if (rngs.noise.getState().spare === null) rngs.noise.normal(); // leave a Box–Muller spare in the state
  return {
    modelId: model.id,
    config: { model: model.id, dataset: 'mnist', density: 0.05, seed: 7, lr: 0.1 },
    epoch,
    step,
    trainerState: { step, epoch, pruneRate: 0.4321, controller: { history: [[1, 2], [3, 4]] } },
    rngStates: Object.fromEntries(Object.entries(rngs).map(([k, r]) => [k, r.getState()])),
    strategyStates: { momentum: { ema: [0.1, 0.2] }, magnitude: null },
    metricsHistory: [{ epoch: 1, trainLoss: 0.5, testAccuracy: 0.9 }],
    extra: { batchInEpoch: 17 },
    tensors: captureTensors(model.variables, masks, optimizerStateOf(model, step)),
  };
}

describe('checkpoint format', () => {
  let model: TrainableModel;
  let masks: Record<string, Uint8Array>;
  let dir: string;
  let cleanup: () => void;

  beforeEach(() => {
    ({ dir, cleanup } = tempDir('ckpt'));
    model = makeMlp([20, 12, 6, 3], 1, { batchNorm: true });
    masks = maskModel(model, 0.3, 1);
    // Put special bit patterns into the first kernel so "bit-exact" means something.
    const w = model.variables[0].variable;
    const values = new Float32Array(w.dataSync());
    const u = new Uint32Array(values.buffer);
    SPECIAL_BITS.forEach((b, i) => (u[i] = b));
    const t = tf.tensor(values, w.shape);
    w.assign(t);
    t.dispose();
  });
  afterEach(() => {
    model.dispose();
    cleanup();
  });

  it('LIBRARY_VERSION equals package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(LIBRARY_VERSION).toBe(pkg.version);
  });

  it('round trip is bit-exact: weights (incl. -0, NaN payload, ±Inf, denormal), BN stats, masks, slots, RNG, states', async () => {
    const state = runState(model, masks, 3, 300);
    const before = tf.memory().numTensors;
    const saved = await saveCheckpoint(dir, state);
    expect(saved.path).toBe(join(dir, 'checkpoint-e3-s300.slckpt'));
    const pointer = JSON.parse(readFileSync(join(dir, LATEST_POINTER), 'utf8'));
    expect(pointer).toMatchObject({ file: 'checkpoint-e3-s300.slckpt', epoch: 3, step: 300, sha256: saved.sha256, bytes: saved.bytes, formatVersion: 1 });
    expect(readFileSync(saved.path).byteLength).toBe(saved.bytes);

    const loaded = await loadCheckpoint(dir);
    expect(loaded.fellBack).toBe(false);
    expect(loaded.path).toBe(saved.path);
    expect(loaded.libraryVersion).toBe(LIBRARY_VERSION);
    expect(loaded.formatVersion).toBe(CHECKPOINT_FORMAT_VERSION);
    expect(loaded.config).toEqual(state.config);
    expect(loaded.trainerState).toEqual(state.trainerState);
    expect(loaded.strategyStates).toEqual(state.strategyStates);
    expect(loaded.metricsHistory).toEqual(state.metricsHistory);
    expect(loaded.extra).toEqual({ batchInEpoch: 17 });
    expect([loaded.epoch, loaded.step, loaded.modelId]).toEqual([3, 300, 'hand-mlp']);

    // Variables: 10 tensors (3 kernels, 3 biases, 4 batch-norm), every bit equal.
    expect(Object.keys(loaded.tensors.variables)).toEqual(model.variables.map((v) => v.name));
    for (const [name, v] of Object.entries(state.tensors.variables)) {
      expect(loaded.tensors.variables[name].shape).toEqual(v.shape);
      expect(bits(loaded.tensors.variables[name].values)).toEqual(bits(v.values));
    }
    expect([...bits(loaded.tensors.variables['fc1.weight'].values).slice(0, 6)]).toEqual(SPECIAL_BITS);
    for (const [name, m] of Object.entries(masks)) expect(loaded.tensors.masks[name]).toEqual(m);
    expect(loaded.tensors.optimizer?.id).toBe('sgd');
    expect(loaded.tensors.optimizer?.iterations).toBe(1234);
    for (const [name, slots] of Object.entries(state.tensors.optimizer!.slots)) {
      expect(bits(loaded.tensors.optimizer!.slots[name].momentum_buffer)).toEqual(bits(slots.momentum_buffer));
    }

    // RNG: a restored generator continues with the same numbers as the original (spare included).
    for (const [label, s] of Object.entries(state.rngStates)) {
      const original = rngFromState(s);
      const restored = rngFromState(loaded.rngStates[label]);
      const a = [original.normal(), original.normal(), original.nextUint32(), original.next()];
      const b = [restored.normal(), restored.normal(), restored.nextUint32(), restored.next()];
      expect(b).toEqual(a);
    }
    expect(state.rngStates.noise.spare).not.toBeNull();
    expect(loaded.rngStates.noise).toEqual(state.rngStates.noise);

    // Restore into a fresh model (different init): every variable bit-equal to the saved one, no leaks.
    const fresh = makeMlp([20, 12, 6, 3], 99, { batchNorm: true });
    const mid = tf.memory().numTensors;
    restoreVariables(fresh.variables, loaded.tensors);
    expect(tf.memory().numTensors).toBe(mid);
    for (const { name, variable } of fresh.variables) {
      expect(bits(variable.dataSync() as Float32Array)).toEqual(bits(state.tensors.variables[name].values));
    }
    fresh.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('encode/decode in memory; the captured snapshot does not alias the live masks', () => {
    const state = runState(model, masks, 1, 10);
    masks['fc1.weight'][0] ^= 1;
    const decoded = decodeCheckpoint(encodeCheckpoint(state));
    expect(decoded.tensors.masks['fc1.weight'][0]).toBe(masks['fc1.weight'][0] ^ 1);
  });

  it('a corrupted byte anywhere → E_CHECKPOINT_INVALID (checksum); bad magic → E_CHECKPOINT_INVALID (magic)', async () => {
    const { path } = await saveCheckpoint(dir, runState(model, masks, 1, 10));
    const good = readFileSync(path);
    for (const offset of [7, 30, Math.floor(good.length / 2), good.length - 40, good.length - 1]) {
      const bad = Buffer.from(good);
      bad[offset] ^= 0x10;
      writeFileSync(path, bad);
      const error = await rejection(loadCheckpoint(path));
      expect(error.code, `offset ${offset}`).toBe('E_CHECKPOINT_INVALID');
      expect(error.details?.reason).toBe('checksum');
      expect(error.message).toContain(path);
    }
    const bad = Buffer.from(good);
    bad.write('PKZIP!', 0, 'latin1');
    writeFileSync(path, bad);
    const error = await rejection(loadCheckpoint(path));
    expect(error.code).toBe('E_CHECKPOINT_INVALID');
    expect(error.message).toMatch(/bad magic "PKZIP!"/);
  });

  it('a truncated file → E_CHECKPOINT_INVALID (truncated)', async () => {
    const { path, bytes } = await saveCheckpoint(dir, runState(model, masks, 1, 10));
    for (const length of [bytes - 1, Math.floor(bytes / 2), 40, 3, 0]) {
      await saveCheckpoint(dir, runState(model, masks, 1, 10));
      truncateSync(path, length);
      const error = await rejection(loadCheckpoint(path));
      expect(error.code, `length ${length}`).toBe('E_CHECKPOINT_INVALID');
      expect(error.details?.reason, `length ${length}`).toBe('truncated');
    }
  });

  it('a newer format version (valid checksum) → E_CHECKPOINT_INCOMPATIBLE', () => {
    const bytes = Buffer.from(encodeCheckpoint(runState(model, masks, 1, 10)));
    bytes.writeUInt16LE(CHECKPOINT_FORMAT_VERSION + 1, 6);
    createHash('sha256').update(bytes.subarray(0, bytes.length - 32)).digest().copy(bytes, bytes.length - 32);
    expect(() => decodeCheckpoint(bytes, 'future.slckpt')).toThrow(/E_CHECKPOINT_INCOMPATIBLE.*format version 2/);
  });

  it('falls back to the previous good checkpoint when the latest is corrupt, with a warning', async () => {
    await saveCheckpoint(dir, runState(model, masks, 1, 10));
    const { path: latest } = await saveCheckpoint(dir, runState(model, masks, 2, 20));
    const bytes = readFileSync(latest);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(latest, bytes);

    const logger = createMemoryLogger();
    const loaded = await loadCheckpoint(dir, { logger });
    expect([loaded.epoch, loaded.step, loaded.fellBack]).toEqual([1, 10, true]);
    expect(loaded.path).toBe(join(dir, checkpointFileName(1, 10)));
    expect(logger.records).toHaveLength(1);
    expect(logger.records[0].level).toBe('warn');
    expect(logger.records[0].message).toMatch(/checkpoint-e2-s20\.slckpt.*SHA-256 mismatch.*checkpoint-e1-s10\.slckpt/);

    // latest.json missing: the newest file that verifies is used.
    unlinkSync(join(dir, LATEST_POINTER));
    expect((await loadCheckpoint(dir)).step).toBe(10);

    // Everything corrupt: one error listing each file's problem.
    truncateSync(join(dir, checkpointFileName(1, 10)), 100);
    const error = await rejection(loadCheckpoint(dir));
    expect(error.code).toBe('E_CHECKPOINT_INVALID');
    expect(error.message).toMatch(/SHA-256 mismatch.*truncated/);
    expect(error.details?.problems).toHaveLength(3);
  });

  it('an empty or missing directory → E_CHECKPOINT_INVALID (missing)', async () => {
    for (const target of [dir, join(dir, 'nope')]) {
      const error = await rejection(loadCheckpoint(target));
      expect(error.code).toBe('E_CHECKPOINT_INVALID');
      expect(error.details?.reason).toBe('missing');
    }
  });

  it('keeps the newest `keep` checkpoints, removes superseded newer ones, rejects keep < 1', async () => {
    for (let e = 1; e <= 4; e++) await saveCheckpoint(dir, runState(model, masks, e, e * 10));
    expect((await listCheckpoints(dir)).map((c) => c.file)).toEqual(['checkpoint-e4-s40.slckpt', 'checkpoint-e3-s30.slckpt']);
    // Resumed from an older point: the newer files belong to an abandoned timeline.
    const saved = await saveCheckpoint(dir, runState(model, masks, 2, 20), { keep: 3 });
    expect(saved.removed.map((p) => p.slice(dir.length + 1)).sort()).toEqual(['checkpoint-e3-s30.slckpt', 'checkpoint-e4-s40.slckpt']);
    expect(readdirSync(dir).sort()).toEqual(['checkpoint-e2-s20.slckpt', 'latest.json']);
    expect((await loadCheckpoint(dir)).step).toBe(20);
    await expect(saveCheckpoint(dir, runState(model, masks, 9, 90), { keep: 0 })).rejects.toThrow(/E_OUT_OF_RANGE.*keep/);
  });

  it('a failed checkpoint write (full disk) leaves the previous checkpoint and latest.json intact', async () => {
    const first = await saveCheckpoint(dir, runState(model, masks, 1, 10));
    const pointerBefore = readFileSync(join(dir, LATEST_POINTER), 'utf8');
    const error = await rejection(
      saveCheckpoint(dir, runState(model, masks, 2, 20), {
        fs: {
          write: async (fd, data) => {
            await nodeFsOps.write(fd, data.subarray(0, data.length >> 1));
            throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
          },
        },
      }),
    );
    expect(error.code).toBe('E_WRITE_FAILED');
    expect(error.message).toContain(join(dir, 'checkpoint-e2-s20.slckpt'));
    expect(readFileSync(join(dir, LATEST_POINTER), 'utf8')).toBe(pointerBefore);
    expect(existsSync(join(dir, 'checkpoint-e2-s20.slckpt'))).toBe(false);
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
    const loaded = await loadCheckpoint(dir);
    expect([loaded.step, loaded.sha256]).toEqual([10, first.sha256]);
  });
});

describe('compatibility', () => {
  it('assertCompatible names every difference; passes on a match', () => {
    const model = makeMlp([8, 4, 2], 3);
    const masks = maskModel(model, 0.5, 3);
    const state = runState(model, masks, 1, 5);
    const shapes = variableShapesOf(model.variables);
    expect(() => assertCompatible(state, { modelId: 'hand-mlp', variableShapes: shapes, maskNames: Object.keys(masks), optimizerId: 'sgd', config: { dataset: 'mnist', density: 0.05 } })).not.toThrow();

    const other = makeMlp([8, 5, 2], 3);
    let error: unknown;
    try {
      assertCompatible(state, { modelId: 'lenet5', variableShapes: variableShapesOf(other.variables), optimizerId: 'adam', config: { density: 0.1, dataset: 'mnist' } });
    } catch (e) {
      error = e;
    }
    expect(isSparseLearningError(error, 'E_CHECKPOINT_INCOMPATIBLE')).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain("model is 'hand-mlp' in the checkpoint, 'lenet5' in this run");
    expect(message).toContain("variable 'fc1.weight' has shape [8, 4] in the checkpoint, [8, 5] in the model");
    expect(message).toContain("variable 'fc2.weight' has shape [4, 2] in the checkpoint, [5, 2] in the model");
    expect(message).toContain("optimizer is 'sgd' in the checkpoint, 'adam' in this run");
    expect(message).toContain("config 'density' is 0.05 in the checkpoint, 0.1 in this run");
    expect((error as { details: { differences: string[] } }).details.differences).toHaveLength(6);

    // restoreVariables refuses a mismatched model and leaves it untouched.
    const before = other.variables.map((v) => bits(v.variable.dataSync() as Float32Array));
    expect(codeOf(() => restoreVariables(other.variables, state.tensors))).toBe('E_CHECKPOINT_INCOMPATIBLE');
    other.variables.forEach((v, i) => expect(bits(v.variable.dataSync() as Float32Array)).toEqual(before[i]));
    expect(codeOf(() => captureTensors(model.variables, { 'fc1.weight': new Uint8Array(3) }, null))).toBe('E_SHAPE_MISMATCH');
    model.dispose();
    other.dispose();
  });
});
