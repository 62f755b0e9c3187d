import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createRng, isSparseLearningError } from '@sparse-learning/core';
import type { TrainableModel } from '@sparse-learning/core';
import { encodeSparseModel, exportSizes, exportSparseModel } from './sparse-export.js';
import { decodeSparseModel, loadSparseModel } from './sparse-import.js';
import { bits, firstDifference, makeMlp, maskModel, tempDir } from './test-fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function randomInputs(batch: number, features: number, seed: number): tf.Tensor {
  const rng = createRng(seed);
  const values = new Float32Array(batch * features);
  for (let i = 0; i < values.length; i++) values[i] = rng.next();
  return tf.tensor(values, [batch, features]);
}

function predictBits(model: TrainableModel, inputs: tf.Tensor): Uint32Array {
  const out = model.predict(inputs);
  const result = bits(out.dataSync() as Float32Array);
  out.dispose();
  return result;
}

describe('sparse export', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir('sparse')));
  afterEach(() => cleanup());

  it('hand-worked tensor: values of the active positions, gap-encoded indices, dense bias', () => {
    const model = makeMlp([3, 2], 1);
    const w = model.variables[0].variable; // [3, 2]
    const t = tf.tensor([1.5, 2, -3, 4, 5, 0.25], [3, 2]);
    w.assign(t);
    t.dispose();
    const mask = Uint8Array.from([0, 1, 0, 0, 1, 0]);
    const { bytes, header, sizes } = encodeSparseModel(model, { 'fc1.weight': mask }, { modelId: 'tiny', density: 1 / 3 });
    // 6 positions: a 1-byte bitmap (0b010010) beats 2 varint gaps (1, 2).
    expect(header.tensors[0]).toMatchObject({ name: 'fc1.weight', encoding: 'sparse', nnz: 2, indexEncoding: 'bitmap', masked: true });
    expect(header.tensors[0].indices?.length).toBe(1);
    const dataLength = Number(Buffer.from(bytes).readBigUInt64LE(16)); // values 8 B, bitmap 1 B, pad, bias 8 B
    expect(dataLength).toBe(24);
    const data = bytes.subarray(bytes.byteLength - 32 - dataLength, bytes.byteLength - 32);
    expect(data[header.tensors[0].indices!.offset]).toBe(0b010010);
    expect(header.tensors[1]).toMatchObject({ name: 'fc1.bias', encoding: 'dense', masked: false });
    expect(header.measuredDensity).toBeCloseTo(1 / 3, 12);
    expect(sizes.denseBytes).toBe(4 * 8);
    expect(sizes.sparseBytes).toBe(bytes.byteLength);
    const decoded = decodeSparseModel(bytes);
    expect([...decoded.tensors['fc1.weight'].values]).toEqual([0, 2, 0, 0, 5, 0]);
    expect(decoded.masks['fc1.weight']).toEqual(mask);
    expect(bits(decoded.tensors['fc1.bias'].values)).toEqual(bits(model.variables[1].variable.dataSync() as Float32Array));
    model.dispose();
  });

  it('LeNet-300-100 (+ batch norm) at 5 % density: identical predictions after the round trip; size ratio', async () => {
    const sizes = [784, 300, 100, 10];
    const model = makeMlp(sizes, 5, { batchNorm: true, id: 'lenet300-100' });
    const masks = maskModel(model, 0.05, 5);
    const inputs = randomInputs(16, 784, 6);
    const expected = predictBits(model, inputs);
    const before = tf.memory().numTensors;

    const path = join(dir, 'model.slsparse');
    const result = await exportSparseModel(path, model, masks, { modelId: 'lenet300-100', modelOptions: { batchNorm: true }, density: 0.05 });
    expect(statSync(path).size).toBe(result.sparseBytes);
    expect(readdirSync(dir)).toEqual(['model.slsparse']);
    expect(result.header.tensors.filter((e) => e.encoding === 'sparse').map((e) => [e.name, e.indexEncoding])).toEqual([
      ['fc1.weight', 'varint'],
      ['fc2.weight', 'varint'],
      ['fc3.weight', 'varint'],
    ]);
    expect(exportSizes(model, masks)).toMatchObject({ denseBytes: result.denseBytes });

    const factoryCalls: unknown[] = [];
    const loaded = await loadSparseModel(path, (id, options) => {
      factoryCalls.push([id, options]);
      return makeMlp(sizes, 123, { batchNorm: true, id }); // different init: every value must come from the file
    });
    expect(factoryCalls).toEqual([['lenet300-100', { batchNorm: true }]]);
    expect(firstDifference(predictBits(loaded.model, inputs), expected)).toBe(-1);
    for (const { name, variable } of model.variables) {
      const restored = loaded.model.variables.find((v) => v.name === name)!.variable;
      // Bit-equal except that pruned positions come back as +0 (w ⊙ m left -0 where w < 0): `x + 0` maps -0 to +0.
      const original = Float32Array.from(variable.dataSync() as Float32Array, (x) => x + 0);
      expect(firstDifference(restored.dataSync(), original), name).toBe(-1);
    }
    for (const [name, m] of Object.entries(masks)) expect(firstDifference(loaded.masks[name], m), name).toBe(-1);
    loaded.model.dispose();
    expect(tf.memory().numTensors).toBe(before);

    // Weights: 784·300 + 300·100 + 100·10 = 266 200; plus 410 biases and 4·300 batch-norm values.
    const params = 266_200 + 410 + 1_200;
    expect(result.denseBytes).toBe(4 * params);
    const nnz = Math.round(0.05 * 235_200) + Math.round(0.05 * 30_000) + Math.round(0.05 * 1_000);
    // values 4·nnz + ~1 byte per index (varint) + dense parts; the header is a few hundred bytes.
    expect(result.sparseBytes).toBeGreaterThan(5 * nnz + 4 * (410 + 1_200));
    expect(result.sparseBytes).toBeLessThan(5.1 * nnz + 4 * (410 + 1_200) + 3_000);
    console.info(
      `[measured] LeNet-300-100 + BN at 5 % density: sparse ${result.sparseBytes} B, dense ${result.denseBytes} B, ` +
        `ratio ${result.ratio.toFixed(4)} (${result.compression.toFixed(2)}× smaller)`,
    );
    inputs.dispose();
    model.dispose();
  });

  it('plain LeNet-300-100 at 5 % density: measured size ratio', () => {
    const model = makeMlp([784, 300, 100, 10], 8, { id: 'lenet300-100' });
    const masks = maskModel(model, 0.05, 8);
    const s = exportSizes(model, masks, { modelId: 'lenet300-100', density: 0.05 });
    expect(s.denseBytes).toBe(4 * 266_610);
    expect(s.ratio).toBeGreaterThan(0.06);
    expect(s.ratio).toBeLessThan(0.07);
    console.info(`[measured] LeNet-300-100 at 5 % density: sparse ${s.sparseBytes} B, dense ${s.denseBytes} B, ratio ${s.ratio.toFixed(4)} (${s.compression.toFixed(2)}× smaller)`);
    model.dispose();
  });

  it('a dense-enough mask is stored as w ⊙ mask densely', () => {
    const model = makeMlp([10, 10], 2);
    // 99 of 100 active: 4·99 values + a 13-byte bitmap = 409 > 400 dense bytes.
    const masks = maskModel(model, 0.99, 2);
    const { header, bytes } = encodeSparseModel(model, masks, { modelId: 'm', density: 0.99 });
    expect(header.tensors[0]).toMatchObject({ encoding: 'dense', masked: true });
    const decoded = decodeSparseModel(bytes);
    const w = model.variables[0].variable.dataSync();
    expect([...decoded.tensors['fc1.weight'].values]).toEqual([...w].map((x, i) => (masks['fc1.weight'][i] ? x : 0)));
    model.dispose();
  });

  it('corrupted or truncated file → E_CHECKPOINT_INVALID; a mismatched model → E_CHECKPOINT_INCOMPATIBLE and is disposed', async () => {
    const model = makeMlp([6, 4, 2], 3);
    const masks = maskModel(model, 0.5, 3);
    const path = join(dir, 'm.slsparse');
    await exportSparseModel(path, model, masks, { modelId: 'small', density: 0.5 });
    const good = readFileSync(path);

    const tensorsBefore = tf.memory().numTensors;
    let built: TrainableModel | undefined;
    const error = await loadSparseModel(path, () => (built = makeMlp([6, 5, 2], 1))).catch((e: unknown) => e);
    expect(isSparseLearningError(error, 'E_CHECKPOINT_INCOMPATIBLE')).toBe(true);
    expect((error as Error).message).toContain("variable 'fc1.weight' is [6, 4] in the file, [6, 5] in the model");
    expect(built).toBeDefined();
    expect(tf.memory().numTensors).toBe(tensorsBefore);

    const flipped = Buffer.from(good);
    flipped[flipped.length - 50] ^= 1;
    writeFileSync(path, flipped);
    await expect(loadSparseModel(path, () => makeMlp([6, 4, 2], 1))).rejects.toThrow(/E_CHECKPOINT_INVALID.*SHA-256 mismatch/);
    writeFileSync(path, good.subarray(0, good.length - 10));
    await expect(loadSparseModel(path, () => makeMlp([6, 4, 2], 1))).rejects.toThrow(/E_CHECKPOINT_INVALID.*truncated/);
    expect(() => encodeSparseModel(model, { nope: new Uint8Array(1) }, { modelId: 'x', density: 1 })).toThrow(/E_SHAPE_MISMATCH.*'nope'/);
    model.dispose();
  });
});
