import { SparseLearningError } from '@sparse-learning/core';
import { readFile } from 'node:fs/promises';
import { gunzipBounded, gunzipPrefix, isGzip } from './data-files.js';

/**
 * IDX files (the format MNIST is distributed in, http://yann.lecun.com/exdb/mnist/): a 4-byte magic number
 * `0x00 0x00 <dtype> <ndim>`, then `ndim` big-endian uint32 dimensions, then the values in row-major order,
 * multi-byte values big-endian.
 */
export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/** The typed array an IDX file decodes to (uint8 and int8 are zero-copy views on the file bytes). */
export type IdxData = Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;

/** Magic number of an unsigned-byte rank-3 file (MNIST images `[n, 28, 28]`). */
export const IDX_IMAGES_U8_MAGIC = 0x00000803;
/** Magic number of an unsigned-byte rank-1 file (MNIST labels `[n]`). */
export const IDX_LABELS_U8_MAGIC = 0x00000801;

/** The IDX dtype byte (third byte of the magic number) of each dtype, and its element size. */
export const IDX_DTYPES: Readonly<Record<IdxDtype, { readonly code: number; readonly bytes: number }>> = Object.freeze({
  uint8: { code: 0x08, bytes: 1 },
  int8: { code: 0x09, bytes: 1 },
  int16: { code: 0x0b, bytes: 2 },
  int32: { code: 0x0c, bytes: 4 },
  float32: { code: 0x0d, bytes: 4 },
  float64: { code: 0x0e, bytes: 8 },
});

const DTYPE_BY_CODE = new Map<number, IdxDtype>(
  (Object.keys(IDX_DTYPES) as IdxDtype[]).map((dtype) => [IDX_DTYPES[dtype].code, dtype]),
);

/** One decoded IDX file. */
export interface IdxArray {
  /** Where the bytes came from (a path, or a label given by the caller). */
  readonly source: string;
  readonly magic: number;
  readonly dtype: IdxDtype;
  /** Dimensions, outermost first (e.g. `[60000, 28, 28]`). */
  readonly dims: readonly number[];
  readonly data: IdxData;
}

/** Formats a magic number the way the IDX documentation writes it, e.g. `0x00000803`. */
export function formatMagic(magic: number): string {
  return `0x${(magic >>> 0).toString(16).padStart(8, '0')}`;
}

function truncated(source: string, expectedBytes: number, actualBytes: number, part: string): SparseLearningError {
  return new SparseLearningError(
    'E_DATA_CORRUPT',
    `IDX file '${source}' is truncated: its ${part} needs ${expectedBytes} bytes but the file has ${actualBytes}`,
    { path: source, expectedBytes, actualBytes },
  );
}

/**
 * Decodes IDX bytes (already inflated). With `expectedMagic` the magic number must match exactly (that is how
 * the MNIST loader insists on unsigned-byte images of rank 3); without it any valid dtype byte and rank >= 1
 * are accepted.
 *
 * Errors (all `SparseLearningError`): `E_DATA_CORRUPT` for a wrong magic number (names the file, the magic
 * found and the one expected), for a file shorter than its header promises (expected vs actual bytes), and
 * for trailing bytes after the last value (a concatenated or wrong file; the reference files have none).
 */
export function parseIdx(bytes: Uint8Array, source: string, expectedMagic?: number): IdxArray {
  if (bytes.length < 4) throw truncated(source, 4, bytes.length, 'magic number');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const dtype = DTYPE_BY_CODE.get(bytes[2]);
  const ndim = bytes[3];
  if (expectedMagic !== undefined && magic !== expectedMagic) {
    throw new SparseLearningError(
      'E_DATA_CORRUPT',
      `IDX file '${source}' has magic number ${formatMagic(magic)}; expected ${formatMagic(expectedMagic)}`,
      { path: source, foundMagic: formatMagic(magic), expectedMagic: formatMagic(expectedMagic) },
    );
  }
  if (bytes[0] !== 0 || bytes[1] !== 0 || dtype === undefined || ndim === 0) {
    const codes = [...DTYPE_BY_CODE.keys()].map((c) => c.toString(16).padStart(2, '0')).join('|');
    throw new SparseLearningError(
      'E_DATA_CORRUPT',
      `IDX file '${source}' has magic number ${formatMagic(magic)}; expected 0x0000TTNN with dtype byte TT in ` +
        `{${codes}} and rank NN >= 1`,
      { path: source, foundMagic: formatMagic(magic), expectedMagic: '0x0000TTNN' },
    );
  }
  const headerBytes = 4 + 4 * ndim;
  if (bytes.length < headerBytes) throw truncated(source, headerBytes, bytes.length, 'header');
  const dims: number[] = [];
  let count = 1;
  for (let d = 0; d < ndim; d++) {
    const size = view.getUint32(4 + 4 * d, false);
    dims.push(size);
    count *= size;
  }
  const elementBytes = IDX_DTYPES[dtype].bytes;
  const expectedBytes = headerBytes + count * elementBytes;
  if (bytes.length < expectedBytes) throw truncated(source, expectedBytes, bytes.length, `header and ${dims.join('x')} ${dtype} values`);
  if (bytes.length > expectedBytes) {
    throw new SparseLearningError(
      'E_DATA_CORRUPT',
      `IDX file '${source}' has ${bytes.length - expectedBytes} trailing bytes: its header (${dims.join('x')} ${dtype}) ` +
        `needs ${expectedBytes} bytes but the file has ${bytes.length}`,
      { path: source, expectedBytes, actualBytes: bytes.length },
    );
  }
  return { source, magic, dtype, dims, data: decodeValues(bytes, view, headerBytes, count, dtype) };
}

function decodeValues(bytes: Uint8Array, view: DataView, offset: number, count: number, dtype: IdxDtype): IdxData {
  switch (dtype) {
    case 'uint8':
      return bytes.subarray(offset, offset + count);
    case 'int8':
      return new Int8Array(bytes.buffer, bytes.byteOffset + offset, count);
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(offset + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(offset + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(offset + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(offset + 8 * i, false);
      return out;
    }
  }
}

/** The byte length an IDX header declares (header + values), or null when `prefix` holds no complete valid header. */
export function idxDeclaredBytes(prefix: Uint8Array): number | null {
  if (prefix.length < 4 || prefix[0] !== 0 || prefix[1] !== 0) return null;
  const dtype = DTYPE_BY_CODE.get(prefix[2]);
  const ndim = prefix[3];
  const headerBytes = 4 + 4 * ndim;
  if (dtype === undefined || ndim === 0 || prefix.length < headerBytes) return null;
  const view = new DataView(prefix.buffer, prefix.byteOffset, prefix.byteLength);
  let count = 1;
  for (let d = 0; d < ndim; d++) count *= view.getUint32(4 + 4 * d, false);
  return headerBytes + count * IDX_DTYPES[dtype].bytes;
}

/**
 * Reads the bytes of one IDX file, raw or gzip (detected by content). A gzip file is inflated only as far as
 * its IDX header declares: the header is inflated first, then the rest with that bound, so a tiny file that
 * would inflate to gigabytes is `E_DATA_CORRUPT` before the memory is spent. A file that cannot be read is
 * `E_DATA_MISSING`.
 */
export async function readIdxBytes(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    throw new SparseLearningError('E_DATA_MISSING', `cannot read data file '${path}': ${(cause as Error).message}`, { path, lookedFor: [path] }, { cause });
  }
  if (!isGzip(bytes)) return bytes;
  const prefix = await gunzipPrefix(bytes, path, 4 + 4 * 255);
  const declared = idxDeclaredBytes(prefix);
  // No valid header: inflate no more than the header itself, and let parseIdx name the problem.
  return declared === null ? prefix : gunzipBounded(bytes, path, declared, 'its IDX header declares');
}

/**
 * Reads and decodes one IDX file, raw or gzip (detected by content, inflation bounded by the header, see
 * {@link readIdxBytes}). See {@link parseIdx} for the checks.
 */
export async function readIdxFile(path: string, expectedMagic?: number): Promise<IdxArray> {
  return parseIdx(await readIdxBytes(path), path, expectedMagic);
}

/**
 * Encodes values as IDX bytes (big-endian). The inverse of {@link parseIdx}; used to write test fixtures and
 * small custom datasets in the MNIST layout.
 */
export function encodeIdx(dtype: IdxDtype, dims: readonly number[], values: ArrayLike<number>): Uint8Array {
  const count = dims.reduce((a, b) => a * b, 1);
  if (values.length !== count) {
    throw new SparseLearningError(
      'E_DATA_MISMATCH',
      `encodeIdx: dims ${dims.join('x')} need ${count} values but ${values.length} were given`,
      { dims: [...dims], expected: count, actual: values.length },
    );
  }
  const { code, bytes: size } = IDX_DTYPES[dtype];
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + count * size);
  const view = new DataView(out.buffer);
  out[2] = code;
  out[3] = dims.length;
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  for (let i = 0; i < count; i++) {
    const at = header + i * size;
    const v = values[i];
    if (dtype === 'uint8') view.setUint8(at, v);
    else if (dtype === 'int8') view.setInt8(at, v);
    else if (dtype === 'int16') view.setInt16(at, v, false);
    else if (dtype === 'int32') view.setInt32(at, v, false);
    else if (dtype === 'float32') view.setFloat32(at, v, false);
    else view.setFloat64(at, v, false);
  }
  return out;
}
