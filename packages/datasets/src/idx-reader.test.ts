import { afterAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import type { IdxDtype } from './idx-reader.js';
import {
  IDX_IMAGES_U8_MAGIC,
  IDX_LABELS_U8_MAGIC,
  encodeIdx,
  formatMagic,
  parseIdx,
  readIdxFile,
} from './idx-reader.js';
import { catchCoded, tempDir, writeBytes } from './test-fixtures.js';

const tmp = tempDir('idx');
afterAll(() => tmp.cleanup());

describe('parseIdx', () => {
  it('decodes the header of an unsigned-byte image file and views its bytes without copying', () => {
    // Hand-written: magic 0x00000803, dims 2 x 2 x 3, then 12 bytes.
    const bytes = new Uint8Array([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3, ...Array.from({ length: 12 }, (_, i) => i * 20)]);
    const idx = parseIdx(bytes, 'mem', IDX_IMAGES_U8_MAGIC);
    expect(idx.magic).toBe(0x803);
    expect(idx.dtype).toBe('uint8');
    expect(idx.dims).toEqual([2, 2, 3]);
    expect(Array.from(idx.data)).toEqual([0, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 220]);
    expect(idx.data.buffer).toBe(bytes.buffer);
  });

  it.each<[IdxDtype, number[]]>([
    ['uint8', [0, 1, 255]],
    ['int8', [-128, 0, 127]],
    ['int16', [-32768, 258, 32767]],
    ['int32', [-2147483648, 16909060, 2147483647]],
    ['float32', [-1.5, 0.25, 3.0e9]],
    ['float64', [-1e-300, Math.PI, 1e300]],
  ])('round-trips the %s dtype (big-endian)', (dtype, values) => {
    const bytes = encodeIdx(dtype, [3], values);
    const idx = parseIdx(bytes, 'mem');
    expect(idx.dtype).toBe(dtype);
    expect(idx.dims).toEqual([3]);
    expect(Array.from(idx.data)).toEqual(values);
  });

  it('stores multi-byte values big-endian', () => {
    const bytes = encodeIdx('int16', [1], [0x0102]);
    expect(Array.from(bytes)).toEqual([0, 0, 0x0b, 1, 0, 0, 0, 1, 0x01, 0x02]);
  });

  it('rejects a wrong magic number, naming the file, the magic found and the one expected', async () => {
    const labels = encodeIdx('uint8', [4], [1, 2, 3, 4]);
    const err = await catchCoded(() => parseIdx(labels, 'labels-as-images', IDX_IMAGES_U8_MAGIC), 'E_DATA_CORRUPT');
    expect(err.message).toContain("'labels-as-images'");
    expect(err.message).toContain('0x00000801');
    expect(err.message).toContain('0x00000803');
    expect(err.details).toMatchObject({ foundMagic: '0x00000801', expectedMagic: '0x00000803' });
  });

  it('rejects bytes that are no IDX file at all when no magic is imposed', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0]);
    const err = await catchCoded(() => parseIdx(png, 'picture.png'), 'E_DATA_CORRUPT');
    expect(err.details).toMatchObject({ foundMagic: '0x89504e47' });
    const badDtype = new Uint8Array([0, 0, 0x07, 1, 0, 0, 0, 0]);
    await catchCoded(() => parseIdx(badDtype, 'x'), 'E_DATA_CORRUPT');
  });

  it('reports a truncated file with the expected and actual byte counts', async () => {
    const full = encodeIdx('uint8', [10, 4, 4], new Uint8Array(160));
    expect(full.length).toBe(16 + 160);
    const err = await catchCoded(() => parseIdx(full.subarray(0, 100), 'short', IDX_IMAGES_U8_MAGIC), 'E_DATA_CORRUPT');
    expect(err.details).toMatchObject({ expectedBytes: 176, actualBytes: 100 });
    expect(err.message).toMatch(/truncated.*176 bytes.*100/);
    const header = await catchCoded(() => parseIdx(full.subarray(0, 10), 'short-header'), 'E_DATA_CORRUPT');
    expect(header.details).toMatchObject({ expectedBytes: 16, actualBytes: 10 });
    const magic = await catchCoded(() => parseIdx(full.subarray(0, 2), 'tiny'), 'E_DATA_CORRUPT');
    expect(magic.details).toMatchObject({ expectedBytes: 4, actualBytes: 2 });
  });

  it('reports trailing bytes after the last value', async () => {
    const full = encodeIdx('uint8', [3], [1, 2, 3]);
    const longer = new Uint8Array(full.length + 2);
    longer.set(full);
    const err = await catchCoded(() => parseIdx(longer, 'long', IDX_LABELS_U8_MAGIC), 'E_DATA_CORRUPT');
    expect(err.details).toMatchObject({ expectedBytes: 11, actualBytes: 13 });
  });

  it('formats magic numbers as 8 hex digits', () => {
    expect(formatMagic(0x803)).toBe('0x00000803');
  });
});

describe('readIdxFile', () => {
  const values = Array.from({ length: 2 * 3 * 3 }, (_, i) => (i * 37) % 256);
  const bytes = encodeIdx('uint8', [2, 3, 3], values);

  it('reads a raw file and a gzip file to the same values', async () => {
    const raw = await readIdxFile(writeBytes(tmp.dir, 'raw-idx3-ubyte', bytes), IDX_IMAGES_U8_MAGIC);
    const gz = await readIdxFile(writeBytes(tmp.dir, 'gz-idx3-ubyte.gz', bytes, true), IDX_IMAGES_U8_MAGIC);
    expect(Array.from(raw.data)).toEqual(values);
    expect(Array.from(gz.data)).toEqual(values);
    expect(gz.dims).toEqual([2, 3, 3]);
  });

  it('reports a cut gzip stream as corrupt, naming the file', async () => {
    const gz = gzipSync(encodeIdx('uint8', [1000], new Uint8Array(1000).map((_, i) => (i * 7919) % 251)));
    const path = writeBytes(tmp.dir, 'cut.gz', gz.subarray(0, Math.floor(gz.length / 2)));
    const err = await catchCoded(() => readIdxFile(path), 'E_DATA_CORRUPT');
    expect(err.message).toContain(path);
  });

  it('reports a file that does not exist as missing', async () => {
    const path = join(tmp.dir, 'nope-idx1-ubyte');
    const err = await catchCoded(() => readIdxFile(path), 'E_DATA_MISSING');
    expect(err.details).toMatchObject({ path });
  });
});
