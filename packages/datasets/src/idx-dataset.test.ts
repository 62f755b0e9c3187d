import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { encodeIdx } from './idx-reader.js';
import { MNIST_FILE_NAMES } from './idx-dataset.js';
import { loadDataset } from './load-dataset.js';
import { catchCoded, tempDir, useCpuBackend, writeBytes } from './test-fixtures.js';

const tmp = tempDir('idxds');
afterAll(() => tmp.cleanup());
beforeAll(useCpuBackend);

/** n images of h x w with pixel (i, y, x) = (i + 3y + x) mod 256, labels i mod classes. */
function images(n: number, h: number, w: number): Uint8Array {
  const out = new Uint8Array(n * h * w);
  for (let i = 0; i < n; i++) for (let p = 0; p < h * w; p++) out[i * h * w + p] = (i + 3 * Math.floor(p / w) + (p % w)) % 256;
  return out;
}
const labels = (n: number, classes: number) => Uint8Array.from({ length: n }, (_, i) => i % classes);

interface Layout {
  train?: number;
  trainLabels?: number;
  test?: number;
  gzip?: Partial<Record<keyof typeof MNIST_FILE_NAMES, boolean>>;
  skip?: keyof typeof MNIST_FILE_NAMES;
}

/** Writes an MNIST-format directory of 5x4 images (20 training / 6 test by default, 7 classes). */
function writeDir(name: string, layout: Layout = {}): string {
  const dir = join(tmp.dir, name);
  mkdirSync(dir);
  const train = layout.train ?? 20;
  const test = layout.test ?? 6;
  const files: Record<keyof typeof MNIST_FILE_NAMES, Uint8Array> = {
    trainImages: encodeIdx('uint8', [train, 5, 4], images(train, 5, 4)),
    trainLabels: encodeIdx('uint8', [layout.trainLabels ?? train], labels(layout.trainLabels ?? train, 7)),
    testImages: encodeIdx('uint8', [test, 5, 4], images(test, 5, 4)),
    testLabels: encodeIdx('uint8', [test], labels(test, 7)),
  };
  for (const key of Object.keys(files) as (keyof typeof MNIST_FILE_NAMES)[]) {
    if (layout.skip === key) continue;
    const gz = layout.gzip?.[key] ?? false;
    writeBytes(dir, MNIST_FILE_NAMES[key] + (gz ? '.gz' : ''), files[key], gz);
  }
  return dir;
}

describe("dataset 'idx' (any MNIST-format directory)", () => {
  it('reads raw and gzip files alike, with the 90/10 split and the declared class count', async () => {
    const raw = await loadDataset('idx', { dataDir: writeDir('raw'), numClasses: 7 });
    const gz = await loadDataset('idx', {
      dataDir: writeDir('gz', { gzip: { trainImages: true, trainLabels: true, testImages: true, testLabels: true } }),
      numClasses: 7,
    });
    for (const ds of [raw, gz]) {
      expect(ds.id).toBe('idx');
      expect(ds.inputShape).toEqual([5, 4, 1]);
      expect(ds.numClasses).toBe(7);
      expect([ds.train.size, ds.validation?.size, ds.test.size]).toEqual([18, 2, 6]);
      expect(Array.from(ds.validation!.labels)).toEqual([18 % 7, 19 % 7]);
    }
    expect(Array.from(gz.train.images)).toEqual(Array.from(raw.train.images));
    // validation example 0 is training-file example 18: pixel (y=1, x=2) = 18 + 3 + 2
    expect(raw.validation!.images[1 * 4 + 2]).toBe(23);
    const { inputs, labels: l } = raw.validation!.batch([0]);
    expect((await inputs.data())[6]).toBeCloseTo((23 / 255 - 0.1307) / 0.3081, 6);
    tf.dispose([inputs, l]);
  });

  it('mixes raw and gzip files in one directory', async () => {
    const ds = await loadDataset('idx', { dataDir: writeDir('mixed', { gzip: { testImages: true } }), validSplit: 0 });
    expect(ds.train.size).toBe(20);
    expect(ds.validation).toBeNull();
  });

  it('reads rank-4 (HWC colour) IDX images', async () => {
    const dir = join(tmp.dir, 'rgb');
    mkdirSync(dir);
    const px = (n: number) => Uint8Array.from({ length: n * 2 * 2 * 3 }, (_, i) => i % 256);
    writeBytes(dir, MNIST_FILE_NAMES.trainImages, encodeIdx('uint8', [10, 2, 2, 3], px(10)));
    writeBytes(dir, MNIST_FILE_NAMES.trainLabels, encodeIdx('uint8', [10], labels(10, 2)));
    writeBytes(dir, MNIST_FILE_NAMES.testImages, encodeIdx('uint8', [2, 2, 2, 3], px(2)));
    writeBytes(dir, MNIST_FILE_NAMES.testLabels, encodeIdx('uint8', [2], labels(2, 2)));
    const ds = await loadDataset('idx', { dataDir: dir, normalization: { mean: [0, 0, 0], std: [1, 1, 1] } });
    expect(ds.inputShape).toEqual([2, 2, 3]);
    expect(ds.numClasses).toBe(10); // labels 0..1, nothing declared: MNIST's 10
  });

  it('E_DATA_MISSING names the directory and the file names looked for', async () => {
    const dir = writeDir('missing', { skip: 'testLabels' });
    const err = await catchCoded(() => loadDataset('idx', { dataDir: dir }), 'E_DATA_MISSING');
    expect(err.message).toContain(dir);
    expect(err.message).toContain('t10k-labels-idx1-ubyte, t10k-labels-idx1-ubyte.gz');
    expect(err.details).toMatchObject({ path: dir, lookedFor: ['t10k-labels-idx1-ubyte', 't10k-labels-idx1-ubyte.gz'] });
    await catchCoded(() => loadDataset('mnist', { dataDir: join(tmp.dir, 'does-not-exist') }), 'E_DATA_MISSING');
  });

  it('E_DATA_MISMATCH when image and label counts differ', async () => {
    const dir = writeDir('mismatch', { trainLabels: 19 });
    const err = await catchCoded(() => loadDataset('idx', { dataDir: dir }), 'E_DATA_MISMATCH');
    expect(err.details).toMatchObject({ imageCount: 20, labelCount: 19 });
    expect(err.message).toContain(MNIST_FILE_NAMES.trainImages);
    expect(err.message).toContain(MNIST_FILE_NAMES.trainLabels);
  });

  it('E_DATA_CORRUPT for swapped files (wrong magic) and for a truncated file', async () => {
    const dir = writeDir('swapped', { skip: 'trainImages' });
    writeBytes(dir, MNIST_FILE_NAMES.trainImages, encodeIdx('uint8', [20], labels(20, 7)));
    const magic = await catchCoded(() => loadDataset('idx', { dataDir: dir }), 'E_DATA_CORRUPT');
    expect(magic.details).toMatchObject({ foundMagic: '0x00000801', expectedMagic: '0x00000803' });
    expect(magic.message).toContain(join(dir, MNIST_FILE_NAMES.trainImages));

    const cut = writeDir('cut', { skip: 'testImages' });
    const full = encodeIdx('uint8', [6, 5, 4], images(6, 5, 4));
    writeBytes(cut, `${MNIST_FILE_NAMES.testImages}.gz`, full.subarray(0, full.length - 7), true);
    const truncated = await catchCoded(() => loadDataset('idx', { dataDir: cut }), 'E_DATA_CORRUPT');
    expect(truncated.details).toMatchObject({ expectedBytes: 16 + 120, actualBytes: 16 + 113 });
  });

  it("'mnist' insists on labels 0..9 when read from a directory", async () => {
    const dir = writeDir('mnist-labels', { skip: 'testLabels' });
    writeBytes(dir, MNIST_FILE_NAMES.testLabels, encodeIdx('uint8', [6], [0, 1, 2, 10, 4, 5]));
    const err = await catchCoded(() => loadDataset('mnist', { dataDir: dir }), 'E_DATA_CORRUPT');
    expect(err.details).toMatchObject({ index: 3, label: 10, numClasses: 10 });
    // Declaring another class count for MNIST is a contradiction, not silently ignored.
    const declared = await catchCoded(() => loadDataset('mnist', { dataDir: dir, numClasses: 11 }), 'E_CONFIG_INVALID');
    expect(declared.message).toContain("numClasses = 11 contradicts dataset 'mnist' (10 classes)");
  });

  it("'idx' has 10 classes unless declared: label 10 is E_DATA_CORRUPT naming the file and the index", async () => {
    const dir = writeDir('idx-labels', { skip: 'trainLabels' });
    writeBytes(dir, MNIST_FILE_NAMES.trainLabels, encodeIdx('uint8', [20], Uint8Array.from({ length: 20 }, (_, i) => (i === 13 ? 10 : i % 7))));
    const err = await catchCoded(() => loadDataset('idx', { dataDir: dir }), 'E_DATA_CORRUPT');
    expect(err.message).toBe(
      `[E_DATA_CORRUPT] '${join(dir, MNIST_FILE_NAMES.trainLabels)}': label 10 at index 13 is out of range; expected 0 <= label < 10`,
    );
    // Declared wider, the same files load with 11 classes.
    expect((await loadDataset('idx', { dataDir: dir, numClasses: 11 })).numClasses).toBe(11);
    await catchCoded(() => loadDataset('idx', { dataDir: dir, numClasses: 1 }), 'E_OUT_OF_RANGE');
  });

  it('gzip inflation stops at what the IDX header declares (a tiny file that would inflate to 64 MB)', async () => {
    const dir = writeDir('bomb', { skip: 'testLabels' });
    // Header: 6 labels (14 bytes), then 64 MB of zeros: about 64 KB compressed.
    const header = encodeIdx('uint8', [6], [0, 1, 2, 3, 4, 5]);
    const bomb = new Uint8Array(header.length + 64 * 1024 * 1024);
    bomb.set(header);
    writeBytes(dir, `${MNIST_FILE_NAMES.testLabels}.gz`, bomb, true);
    const err = await catchCoded(() => loadDataset('idx', { dataDir: dir }), 'E_DATA_CORRUPT');
    expect(err.message).toContain(`gzip file '${join(dir, MNIST_FILE_NAMES.testLabels)}.gz' inflates to more than the 14 bytes its IDX header declares`);
    expect(err.details).toMatchObject({ declaredBytes: 14 });
  });

  it("'idx' needs a dataDir", async () => {
    const err = await catchCoded(() => loadDataset('idx'), 'E_CONFIG_INVALID');
    expect(err.message).toContain('dataDir');
  });
});
