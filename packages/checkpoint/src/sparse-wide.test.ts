import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isSparseLearningError } from '@sparse-learning/core';
import { DataSection, concatChunks, encodeContainer } from './container.js';
import { SPARSE_MODEL_MAGIC, type SparseExportTensor } from './sparse-format.js';
import { exportSparseTensors } from './sparse-export.js';
import { decodeSparseModel, decodeSparseTensors, loadSparseModel, readSparseTensors } from './sparse-import.js';
import { bits, firstDifference, tempDir } from './test-fixtures.js';
import { chooseWideEncoding, decodeWidePositions, encodeWidePositions, wideEncodingSizes } from './wide-index-encoding.js';

// The fixture was written by the exporter before 64-bit positions existed (library 0.1.0, this clock).
vi.mock('./version.js', () => ({ LIBRARY_VERSION: '0.1.0' }));
const FIXTURE_TIME = '2026-12-07T00:00:00.000Z';

/** The tensors of fixtures/v1-before-wide.slsparse (a 31-bit LCG, so the file can be regenerated anywhere). */
function fixtureTensors(wideInput: boolean): SparseExportTensor[] {
  let s = 12345;
  const next = () => ((s = (s * 1103515245 + 12345) % 2 ** 31), s / 2 ** 31);
  const idx: number[] = [];
  for (let i = 0; i < 300 * 200; i++) if (next() < 0.03) idx.push(i);
  const vals = Float32Array.from(idx, () => next() * 2 - 1);
  const positions = (list: number[]) => (wideInput ? Float64Array.from(list) : Uint32Array.from(list));
  return [
    { name: 'fc1.weight', shape: [300, 200], masked: true, indices: positions(idx), values: vals },
    { name: 'fc1.bias', shape: [200], dtype: 'float32', masked: false, dense: Float32Array.from({ length: 200 }, () => next()) },
    { name: 'fc2.weight', shape: [4, 4], masked: true, indices: positions(Array.from({ length: 15 }, (_, i) => i)), values: Float32Array.from({ length: 15 }, () => next()) },
    { name: 'step', shape: [2], dtype: 'int32', masked: false, dense: Int32Array.from([7, -3]) },
  ];
}

/**
 * A 100 000 × 100 000 layer (10¹⁰ positions, 40 GB dense) with `count` active positions spread over the whole
 * range, built straight in compact form: `floor(k · 10¹⁰ / count) + k mod 7`.
 */
function wideLayer(count: number): Extract<SparseExportTensor, { indices: unknown }> & { indices: Float64Array } {
  const size = 1e10;
  const indices = Float64Array.from({ length: count }, (_, k) => Math.floor((k * size) / count) + (k % 7));
  const values = Float32Array.from({ length: count }, (_, k) => Math.fround(Math.sin(k) * 0.1));
  return { name: 'fc2.weight', shape: [100_000, 100_000], masked: true, indices, values };
}

describe('sparse export: 64-bit positions (issue 9)', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => {
    ({ dir, cleanup } = tempDir('wide'));
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(FIXTURE_TIME));
  });
  afterEach(() => {
    vi.useRealTimers();
    cleanup();
  });

  it('a version-1 file of before reads unchanged; the same tensors (32- or 64-bit input) write the same bytes', async () => {
    const fixture = readFileSync(new URL('./fixtures/v1-before-wide.slsparse', import.meta.url));
    const stored = decodeSparseTensors(fixture, 'fixture');
    expect(stored.header.schemaVersion).toBe(1);
    const expected = fixtureTensors(false);
    expect(stored.tensors.map((t) => t.name)).toEqual(expected.map((t) => t.name));
    const w = stored.tensors[0] as Extract<SparseExportTensor, { indices: unknown }>;
    expect(w.indices).toBeInstanceOf(Uint32Array);
    expect([...w.indices]).toEqual([...(expected[0] as typeof w).indices]);
    expect(bits(w.values)).toEqual(bits((expected[0] as typeof w).values));
    const dense = decodeSparseModel(fixture);
    expect(dense.masks['fc1.weight'].reduce((a, b) => a + b, 0)).toBe(w.indices.length);
    for (const wideInput of [false, true]) {
      const path = join(dir, `again-${wideInput}.slsparse`);
      await exportSparseTensors(path, fixtureTensors(wideInput), { modelId: 'fixture', modelOptions: { a: 1 }, density: 0.03, extra: { note: 'v1 fixture' } });
      expect(Buffer.compare(readFileSync(path), fixture), `positions given as ${wideInput ? 'Float64Array' : 'Uint32Array'}`).toBe(0);
    }
  });

  it('hand-worked wide gaps: positions 5, 2³² + 7 and 2⁴⁵ of 2⁴⁶ in LEB128; uint32 cannot hold a gap of 2³² + 1', () => {
    const positions = Float64Array.from([5, 2 ** 32 + 7, 2 ** 45]);
    // Gaps 5, 2³² + 1 (5 bytes: 1 + 7·4 + 4 bits), 2⁴⁵ − 2³² − 8 (7 bytes).
    expect(wideEncodingSizes(positions)).toEqual({ varint: 1 + 5 + 7, uint16: Number.POSITIVE_INFINITY, uint32: Number.POSITIVE_INFINITY });
    const bytes = encodeWidePositions(positions, 'varint');
    // 2³² + 1 = 0b1_0000000_0000000_0000000_0000000_0000001 → 81 80 80 80 10.
    expect([...bytes.subarray(0, 6)]).toEqual([0x05, 0x81, 0x80, 0x80, 0x80, 0x10]);
    expect([...decodeWidePositions(bytes, 3, 2 ** 46, 'varint')!]).toEqual([...positions]);
    // A position at or past the size, a missing byte, a surplus byte, or an unknown code is inconsistent.
    expect(decodeWidePositions(bytes, 3, 2 ** 45, 'varint')).toBeNull();
    expect(decodeWidePositions(bytes.subarray(0, bytes.length - 1), 3, 2 ** 46, 'varint')).toBeNull();
    expect(decodeWidePositions(bytes, 2, 2 ** 46, 'varint')).toBeNull();
    expect(decodeWidePositions(bytes, 3, 2 ** 46, 'bitmap')).toBeNull();
    // Evenly spread positions of a 10¹⁰ layer: gaps below 2¹⁶ → 2 bytes each beat 3-byte varints.
    const spread = wideLayer(400_000).indices;
    expect(chooseWideEncoding(spread)).toEqual({ encoding: 'uint16', bytes: 800_000 });
    expect(firstDifference(decodeWidePositions(encodeWidePositions(spread, 'uint32'), spread.length, 1e10, 'uint32')!, spread)).toBe(-1);
  });

  it('a 100 000 × 100 000 layer (10¹⁰ positions) round-trips in compact form; its dense form is never made', async () => {
    // 10¹⁰ float32 is 40 GB, beyond any typed array V8 allocates: a dense copy anywhere would throw a RangeError.
    const layer = wideLayer(400_000);
    const far: SparseExportTensor = { name: 'fc3.weight', shape: [2 ** 21, 2 ** 21], masked: true, indices: Float64Array.from([3, 2 ** 33, 2 ** 42 - 1]), values: Float32Array.from([1, -2, 0.5]) };
    const bias: SparseExportTensor = { name: 'fc2.bias', shape: [100_000], dtype: 'float32', masked: false, dense: new Float32Array(100_000).fill(0.25) };
    const path = join(dir, 'wide.slsparse');
    const before = process.memoryUsage().arrayBuffers;
    const result = await exportSparseTensors(path, [layer, bias, far], { modelId: 'er-mlp-100000', density: 4e-5 });
    expect(result.header.schemaVersion).toBe(2);
    expect(result.header.tensors.map((e) => [e.name, e.encoding, e.indexEncoding, e.indexBits])).toEqual([
      ['fc2.weight', 'sparse', 'uint16', 64],
      ['fc2.bias', 'dense', undefined, undefined],
      ['fc3.weight', 'sparse', 'varint', 64],
    ]);
    // Values 4 B + positions 2 B per active weight, the bias, 3 far entries; a header and checksum of < 1 KB.
    expect(result.sparseBytes).toBeGreaterThan(6 * 400_000 + 400_000);
    expect(result.sparseBytes).toBeLessThan(6 * 400_000 + 400_000 + 2_000);
    expect(result.denseBytes).toBe(4 * (1e10 + 100_000 + 2 ** 42));
    expect(result.header.measuredDensity).toBeCloseTo(400_003 / (1e10 + 2 ** 42), 15);

    const read = await readSparseTensors(path);
    expect(read.sha256).toBe(result.sha256);
    const [w, b, f] = read.tensors as Extract<SparseExportTensor, { indices: unknown }>[];
    expect(w.indices).toBeInstanceOf(Float64Array);
    expect(w.indices.length).toBe(400_000);
    expect(firstDifference(w.indices, layer.indices)).toBe(-1);
    expect(firstDifference(w.values, layer.values)).toBe(-1);
    expect(firstDifference((b as unknown as { dense: Float32Array }).dense, new Float32Array(100_000).fill(0.25))).toBe(-1);
    expect([...f.indices]).toEqual([3, 2 ** 33, 2 ** 42 - 1]);
    expect([...f.values]).toEqual([1, -2, 0.5]);
    // Everything held at once (inputs, file, decoded copy) is a few MB, not the layer's 40 GB.
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 2 ** 20);

    // The dense readers refuse such a tensor with a coded error naming it and the compact reader.
    const error = (() => {
      try {
        decodeSparseModel(readFileSync(path), path);
      } catch (e) {
        return e;
      }
    })();
    expect(isSparseLearningError(error, 'E_SHAPE_MISMATCH')).toBe(true);
    expect((error as Error).message).toMatch(/'fc2\.weight' \[100000, 100000\] has 10000000000 positions.*decodeSparseTensors/);
    await expect(loadSparseModel(path, () => Promise.reject(new Error('not reached')))).rejects.toThrow(/E_SHAPE_MISMATCH/);
  });

  it('bad positions and sizes are E_SHAPE_MISMATCH naming the value; an inconsistent wide entry is E_CHECKPOINT_INVALID', async () => {
    const meta = { modelId: 'm', density: 0.1 };
    const put = (t: SparseExportTensor) => exportSparseTensors(join(dir, 'bad.slsparse'), [t], meta);
    const wide = { name: 'w', shape: [100_000, 100_000], masked: true as const, values: Float32Array.from([1, 2]) };
    await expect(put({ ...wide, indices: Float64Array.from([9, 9]) })).rejects.toThrow(/E_SHAPE_MISMATCH.*'w'.*index 1 is 9, not above the previous 9/);
    await expect(put({ ...wide, indices: Float64Array.from([0, 1e10]) })).rejects.toThrow(/E_SHAPE_MISMATCH.*index 1 is 10000000000.*\[0, 10000000000\)/);
    await expect(put({ ...wide, indices: Float64Array.from([0, 1.5]) })).rejects.toThrow(/E_SHAPE_MISMATCH.*index 1 is 1\.5/);
    await expect(put({ ...wide, shape: [2 ** 27, 2 ** 27], indices: Float64Array.from([0, 1]) })).rejects.toThrow(/E_SHAPE_MISMATCH.*exceed the format's 2\^53/);
    await expect(put({ name: 'n', shape: [4, 4], masked: true, indices: Uint32Array.from([3, 2]), values: Float32Array.from([1, 2]) })).rejects.toThrow(/E_SHAPE_MISMATCH.*'n'.*index 1 is 2/);

    // Hand-made headers: a wide tensor without indexBits, and a header version from the future.
    const craft = (schemaVersion: number, entry: Record<string, unknown>) => {
      const data = new DataSection();
      const values = { offset: data.add(new Uint8Array(4)), length: 4 };
      const indices = { offset: data.add(Uint8Array.from([7])), length: 1 };
      const header = { schemaVersion, modelId: 'm', tensors: [{ name: 'w', shape: [100_000, 100_000], dtype: 'float32', masked: true, encoding: 'sparse', nnz: 1, indexEncoding: 'varint', values, indices, ...entry }] };
      return concatChunks(encodeContainer(SPARSE_MODEL_MAGIC, 1, header, data).chunks);
    };
    expect([...(decodeSparseTensors(craft(2, { indexBits: 64 })).tensors[0] as { indices: Float64Array }).indices]).toEqual([7]);
    expect(() => decodeSparseTensors(craft(2, {}))).toThrow(/E_CHECKPOINT_INVALID.*'w' of 10000000000 positions has indexBits 32/);
    expect(() => decodeSparseTensors(craft(1, { indexBits: 64 }))).toThrow(/E_CHECKPOINT_INVALID.*indexBits 64/);
    expect(() => decodeSparseTensors(craft(3, { indexBits: 64 }))).toThrow(/E_CHECKPOINT_INCOMPATIBLE.*schema version 3; this library reads up to 2/);
  });
});
