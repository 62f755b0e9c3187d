import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@sparse-learning/core';
import { createRng } from '@sparse-learning/core';
import { CIFAR10_CLASS_NAMES, CIFAR10_TAR_FOLDER, CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES } from './cifar10.js';
import { loadDataset } from './load-dataset.js';
import { normalizationTable, CIFAR10_NORMALIZATION } from './normalization.js';
import { catchCoded, cifarRecord, concatBytes, tempDir, useCpuBackend, writeBytes } from './test-fixtures.js';

const tmp = tempDir('cifar');
afterAll(() => tmp.cleanup());
beforeAll(useCpuBackend);

/** Pixel of record r (numbered across all training files, test records from 100), channel c, row y, col x. */
const pixel = (r: number) => (c: number, y: number, x: number) => (11 * r + 70 * c + 5 * y + x) % 256;
const label = (r: number) => (3 * r + 1) % 10;
const table = normalizationTable(CIFAR10_NORMALIZATION, 3);
const norm = (c: number, byte: number) => table[c * 256 + byte];

/** Five training files of 2 records each (records 0..9) and a test file of 3 records (100..102). */
function writeCifar(dir: string): string {
  mkdirSync(dir, { recursive: true });
  CIFAR10_TRAIN_FILES.forEach((name, f) => {
    writeBytes(dir, name, concatBytes([2 * f, 2 * f + 1].map((r) => cifarRecord(label(r), pixel(r)))));
  });
  writeBytes(dir, CIFAR10_TEST_FILE, concatBytes([100, 101, 102].map((r) => cifarRecord(label(r), pixel(r)))));
  return dir;
}

/** An Rng that returns scripted integers and floats (to pin crop offsets and flips). */
function scriptedRng(ints: number[], floats: number[]): Rng {
  return {
    int: () => ints.shift() as number,
    next: () => floats.shift() as number,
  } as unknown as Rng;
}

/** Value of channel c at (y, x) of example b in an NHWC float array of 32x32x3 images. */
const at = (v: Float32Array, b: number, y: number, x: number, c: number) => v[b * 3072 + (y * 32 + x) * 3 + c];

describe("dataset 'cifar10' (binary files generated in the standard format)", () => {
  const dir = writeCifar(join(tmp.dir, 'ok'));

  it('reads labels, sizes and the 90/10 split; class names; no augmentation on test', async () => {
    const ds = await loadDataset('cifar10', { dataDir: dir });
    expect(ds.inputShape).toEqual([32, 32, 3]);
    expect(ds.numClasses).toBe(10);
    expect(ds.classNames).toEqual(CIFAR10_CLASS_NAMES);
    expect([ds.train.size, ds.validation?.size, ds.test.size]).toEqual([9, 1, 3]);
    expect(Array.from(ds.train.labels)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8].map(label));
    expect(Array.from(ds.validation!.labels)).toEqual([label(9)]);
    expect(Array.from(ds.test.labels)).toEqual([100, 101, 102].map(label));
    expect(ds.train.augment).toBe(true);
    expect(ds.validation!.augment).toBe(true); // the official code's validation subset uses the train transform
    expect(ds.test.augment).toBe(false);
  });

  it('converts the CHW planes R, G, B to HWC', async () => {
    const ds = await loadDataset('cifar10', { dataDir: dir });
    const img = ds.test.images; // test record 101 is example 1
    for (const [y, x] of [[0, 0], [0, 31], [17, 5], [31, 31]]) {
      for (let c = 0; c < 3; c++) expect(img[3072 + (y * 32 + x) * 3 + c]).toBe(pixel(101)(c, y, x));
    }
    expect(ds.train.images[4 * 3072 + (2 * 32 + 3) * 3 + 1]).toBe(pixel(4)(1, 2, 3)); // data_batch_3, record 0
  });

  it('normalises test images per channel with the official means and stds', async () => {
    const ds = await loadDataset('cifar10', { dataDir: dir });
    const { inputs, labels } = ds.test.batch([2, 0]);
    expect(inputs.shape).toEqual([2, 32, 32, 3]);
    const v = (await inputs.data()) as Float32Array;
    // example 0 of the batch is test record 102; pixel (3, 7) channel G = (11·102 + 70 + 15 + 7) mod 256 = 1214 − 1024 = 190
    expect(pixel(102)(1, 3, 7)).toBe(190);
    expect(at(v, 0, 3, 7, 1)).toBeCloseTo((190 / 255 - 0.4822) / 0.1994, 5);
    expect(at(v, 1, 0, 0, 0)).toBeCloseTo((pixel(100)(0, 0, 0) / 255 - 0.4914) / 0.2023, 5);
    expect(at(v, 1, 31, 31, 2)).toBeCloseTo((pixel(100)(2, 31, 31) / 255 - 0.4465) / 0.201, 5);
    tf.dispose([inputs, labels]);
  });

  it('reflect-pads 4, crops and flips (hand-worked offsets through a scripted Rng)', async () => {
    const ds = await loadDataset('cifar10', { dataDir: dir });
    const p = pixel(0); // training example 0
    // three crops of example 0: (top 0, left 0, no flip), (8, 8, no flip), (8, 1, flip)
    const rng = scriptedRng([0, 0, 8, 8, 8, 1], [0.9, 0.7, 0.2]);
    const { inputs, labels } = ds.train.batch([0, 0, 0], rng);
    const v = (await inputs.data()) as Float32Array;
    for (let c = 0; c < 3; c++) {
      // crop (0, 0): output (0, 0) = padded (0, 0) = source (reflect(-4), reflect(-4)) = (4, 4)
      expect(at(v, 0, 0, 0, c)).toBe(norm(c, p(c, 4, 4)));
      // output (4, 4) = padded (4, 4) = source (0, 0); output (10, 2) = padded (10, 2) = source (6, 2)
      expect(at(v, 0, 4, 4, c)).toBe(norm(c, p(c, 0, 0)));
      expect(at(v, 0, 10, 2, c)).toBe(norm(c, p(c, 6, 2)));
      // crop (8, 8): output (31, 31) = padded (39, 39) = source (2·31 − 35, 2·31 − 35) = (27, 27)
      expect(at(v, 1, 31, 31, c)).toBe(norm(c, p(c, 27, 27)));
      expect(at(v, 1, 0, 0, c)).toBe(norm(c, p(c, 4, 4)));
      // crop (8, 1) then flip: output (0, x) = padded (8, 1 + 31 − x)
      //   x = 0  -> padded col 32 -> source col 28;  x = 31 -> padded col 1 -> source col reflect(−3) = 3
      expect(at(v, 2, 0, 0, c)).toBe(norm(c, p(c, 4, 28)));
      expect(at(v, 2, 0, 31, c)).toBe(norm(c, p(c, 4, 3)));
      expect(at(v, 2, 5, 10, c)).toBe(norm(c, p(c, 9, 18)));
    }
    tf.dispose([inputs, labels]);
  });

  it('the centre crop without flip equals the test transform of the same image', async () => {
    const ds = await loadDataset('cifar10', { dataDir: dir, validSplit: 0 });
    const aug = ds.train.batch([3], scriptedRng([4, 4], [0.99]));
    const plain = (await loadDataset('cifar10', { dataDir: dir, validSplit: 0, augment: false })).train.batch([3]);
    expect(Array.from(await aug.inputs.data())).toEqual(Array.from(await plain.inputs.data()));
    tf.dispose([aug.inputs, aug.labels, plain.inputs, plain.labels]);
  });

  it('epoch order and augmentation are deterministic under the same seed', async () => {
    const ds = await loadDataset('cifar10', { dataDir: dir });
    const epoch = async (seed: string) => {
      const rng = createRng(seed);
      const order = ds.train.epochOrder(rng.fork('data-order'));
      const batch = ds.train.batch(order.subarray(0, 4), rng.fork('augment'));
      const out = { order: Array.from(order), values: Array.from(await batch.inputs.data()) };
      tf.dispose([batch.inputs, batch.labels]);
      return out;
    };
    const a = await epoch('s1');
    const b = await epoch('s1');
    const c = await epoch('s2');
    expect(a).toEqual(b);
    expect(a.values).not.toEqual(c.values);
    expect([...a.order].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('augmentation switches: augmentValidation false, augment false', async () => {
    const noValAug = await loadDataset('cifar10', { dataDir: dir, augmentValidation: false });
    expect([noValAug.train.augment, noValAug.validation!.augment]).toEqual([true, false]);
    const none = await loadDataset('cifar10', { dataDir: dir, augment: false });
    expect([none.train.augment, none.validation!.augment]).toEqual([false, false]);
  });

  it('makes batches without leaking tensors', async () => {
    const ds = await loadDataset('cifar10', { dataDir: dir });
    const before = tf.memory().numTensors;
    const rng = createRng(9);
    const order = ds.train.epochOrder(rng);
    for (let b = 0; b < ds.train.batchCount(4); b++) {
      const batch = ds.train.batch(order.subarray(b * 4, b * 4 + 4), rng);
      tf.dispose([batch.inputs, batch.labels]);
    }
    expect(ds.train.batchCount(4)).toBe(3);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('reads gzip-compressed files under the standard names to the same bytes', async () => {
    const gzDir = join(tmp.dir, 'gz');
    mkdirSync(gzDir);
    CIFAR10_TRAIN_FILES.forEach((name, f) => {
      writeBytes(gzDir, name, concatBytes([2 * f, 2 * f + 1].map((r) => cifarRecord(label(r), pixel(r)))), f % 2 === 0);
    });
    writeBytes(gzDir, CIFAR10_TEST_FILE, concatBytes([100, 101, 102].map((r) => cifarRecord(label(r), pixel(r)))), true);
    const [gz, raw] = await Promise.all([loadDataset('cifar10', { dataDir: gzDir }), loadDataset('cifar10', { dataDir: dir })]);
    expect(Array.from(gz.train.labels)).toEqual(Array.from(raw.train.labels));
    expect(Buffer.from(gz.train.images).equals(Buffer.from(raw.train.images))).toBe(true);
    expect(Buffer.from(gz.test.images).equals(Buffer.from(raw.test.images))).toBe(true);
  });

  it('finds the files inside the cifar-10-batches-bin folder of the tarball', async () => {
    const root = join(tmp.dir, 'tar');
    writeCifar(join(root, CIFAR10_TAR_FOLDER));
    const ds = await loadDataset('cifar10', { dataDir: root });
    expect(ds.source).toBe(join(root, CIFAR10_TAR_FOLDER));
    expect(ds.test.size).toBe(3);
  });
});

describe('CIFAR-10 coded errors', () => {
  it('E_DATA_MISSING lists the missing files and every name looked for', async () => {
    const dir = writeCifar(join(tmp.dir, 'missing'));
    unlinkSync(join(dir, 'data_batch_3.bin'));
    const err = await catchCoded(() => loadDataset('cifar10', { dataDir: dir }), 'E_DATA_MISSING');
    expect(err.details).toMatchObject({ path: dir, missing: ['data_batch_3.bin'] });
    expect(err.details.lookedFor).toEqual([...CIFAR10_TRAIN_FILES, CIFAR10_TEST_FILE]);
    expect(err.message).toContain(dir);
  });

  it('E_DATA_CORRUPT for a size that is not a multiple of 3073', async () => {
    const dir = writeCifar(join(tmp.dir, 'truncated'));
    const good = concatBytes([cifarRecord(1, pixel(0)), cifarRecord(2, pixel(1))]);
    writeBytes(dir, CIFAR10_TEST_FILE, good.subarray(0, 2 * 3073 - 5));
    const err = await catchCoded(() => loadDataset('cifar10', { dataDir: dir }), 'E_DATA_CORRUPT');
    expect(err.details).toMatchObject({ path: join(dir, CIFAR10_TEST_FILE), actualBytes: 6141, recordBytes: 3073 });
    expect(err.message).toContain('expected 6146 bytes');
    writeBytes(dir, CIFAR10_TEST_FILE, new Uint8Array(0));
    await catchCoded(() => loadDataset('cifar10', { dataDir: dir }), 'E_DATA_CORRUPT');
  });

  it('E_DATA_CORRUPT for a label above 9, naming the file and record', async () => {
    const dir = writeCifar(join(tmp.dir, 'label'));
    writeBytes(dir, 'data_batch_2.bin', concatBytes([cifarRecord(3, pixel(0)), cifarRecord(10, pixel(1))]));
    const err = await catchCoded(() => loadDataset('cifar10', { dataDir: dir }), 'E_DATA_CORRUPT');
    expect(err.details).toMatchObject({ path: join(dir, 'data_batch_2.bin'), record: 1, label: 10 });
  });

  it('E_CONFIG_INVALID without dataDir', async () => {
    const err = await catchCoded(() => loadDataset('cifar10'), 'E_CONFIG_INVALID');
    expect(err.message).toContain('data_batch_1.bin');
  });
});
