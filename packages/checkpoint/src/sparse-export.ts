import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { SparseLearningError } from '@sparse-learning/core';
import type { NamedVariable, TrainableModel } from '@sparse-learning/core';
import { writeFileAtomic } from './atomic-write.js';
import type { AtomicWriteOptions } from './atomic-write.js';
import { DataSection, concatChunks, decodeContainer, encodeContainer, headerError, littleEndianBytes, readTypedArray } from './container.js';
import { chooseIndexEncoding, decodeIndices, encodeIndices } from './index-encoding.js';
import type { IndexEncoding } from './index-encoding.js';
import type { JsonValue } from './json.js';
import { LIBRARY_VERSION } from './version.js';

/** Magic bytes of a sparse model file. */
export const SPARSE_MODEL_MAGIC = 'SLSPRS';
/** Binary layout version of sparse model files. */
export const SPARSE_MODEL_FORMAT_VERSION = 1;
/** Version of the sparse model header's JSON fields. */
export const SPARSE_MODEL_SCHEMA_VERSION = 1;
/** Conventional file extension. */
export const SPARSE_MODEL_EXTENSION = '.slsparse';

/** Describes the exported model so a loader can rebuild its architecture. */
export interface SparseExportMeta {
  /** Model registry id passed back to the loader's factory. */
  readonly modelId: string;
  /** Options passed back to the loader's factory (JSON). */
  readonly modelOptions?: JsonValue;
  /** Target density of the run (recorded; the measured density is computed from the masks). */
  readonly density: number;
  /** Anything else worth recording (dataset, test accuracy, run id). */
  readonly extra?: Readonly<Record<string, JsonValue>>;
}

/** Byte range inside the data section. */
interface Range {
  readonly offset: number;
  readonly length: number;
}

/** One tensor of the sparse model header. */
export interface SparseTensorEntry {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'int32';
  /** True for masked (prunable) variables. */
  readonly masked: boolean;
  /** `sparse`: values of the active positions + their indices; `dense`: every value (already multiplied by the mask). */
  readonly encoding: 'sparse' | 'dense';
  /** Active positions (sparse encoding). */
  readonly nnz?: number;
  readonly indexEncoding?: IndexEncoding;
  readonly values: Range;
  readonly indices?: Range;
}

/** Header of a sparse model file. */
export interface SparseModelHeader {
  readonly schemaVersion: number;
  readonly libraryVersion: string;
  readonly createdAt: string;
  readonly modelId: string;
  readonly modelOptions: JsonValue;
  readonly density: number;
  /** Active / total over the masked tensors. */
  readonly measuredDensity: number;
  readonly extra: Readonly<Record<string, JsonValue>>;
  readonly tensors: readonly SparseTensorEntry[];
}

/**
 * Sizes of the export against the dense model. `denseBytes` counts 4 bytes for every element of every
 * variable (float32 weights, biases, batch-norm parameters and running statistics); `sparseBytes` is the whole
 * sparse file (header and checksum included); `ratio = sparseBytes / denseBytes`; `compression` its inverse.
 */
export interface ExportSizes {
  readonly sparseBytes: number;
  readonly denseBytes: number;
  readonly ratio: number;
  readonly compression: number;
}

/** Result of {@link exportSparseModel}. */
export interface SparseExportResult extends ExportSizes {
  readonly path: string;
  readonly sha256: string;
  readonly header: SparseModelHeader;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * One tensor of a sparse export as its caller holds it: every value (`dense`), or the active positions of a
 * masked tensor (flat indices in the tensor's row-major layout, ascending, each below 2³²) and their values.
 */
export type SparseExportTensor =
  | { readonly name: string; readonly shape: readonly number[]; readonly dtype: 'float32' | 'int32'; readonly masked: boolean; readonly dense: Float32Array | Int32Array }
  | { readonly name: string; readonly shape: readonly number[]; readonly masked: true; readonly indices: Uint32Array; readonly values: Float32Array };

function encode(variables: readonly NamedVariable[], masks: Readonly<Record<string, Uint8Array>>, meta: SparseExportMeta) {
  const tensors: SparseExportTensor[] = [];
  for (const { name, variable } of variables) {
    const shape = [...variable.shape];
    const size = sizeOf(shape);
    if (variable.dtype !== 'float32' && variable.dtype !== 'int32') {
      throw new SparseLearningError('E_CHECKPOINT_INCOMPATIBLE', `variable '${name}' has dtype ${variable.dtype}; export stores float32 and int32`, {
        name,
      });
    }
    const mask = masks[name];
    if (mask === undefined || variable.dtype !== 'float32') {
      const values = variable.dtype === 'float32' ? new Float32Array(variable.dataSync() as Float32Array) : new Int32Array(variable.dataSync() as Int32Array);
      tensors.push({ name, shape, dtype: variable.dtype, masked: false, dense: values });
      continue;
    }
    if (mask.length !== size) {
      throw new SparseLearningError('E_SHAPE_MISMATCH', `mask '${name}' has ${mask.length} entries; variable '${name}' has ${size}`, {
        name,
        maskLength: mask.length,
        variableSize: size,
      });
    }
    const weights = variable.dataSync() as Float32Array;
    let nnz = 0;
    for (let i = 0; i < size; i++) if (mask[i] !== 0) nnz++;
    const indices = new Uint32Array(nnz);
    const values = new Float32Array(nnz);
    for (let i = 0, k = 0; i < size; i++) {
      if (mask[i] !== 0) {
        indices[k] = i;
        values[k++] = weights[i];
      }
    }
    tensors.push({ name, shape, masked: true, indices, values });
  }
  for (const name of Object.keys(masks)) {
    if (!variables.some((v) => v.name === name)) {
      throw new SparseLearningError('E_SHAPE_MISMATCH', `mask '${name}' has no variable of that name in the model`, { name });
    }
  }
  return encodeTensors(tensors, meta);
}

function encodeTensors(input: readonly SparseExportTensor[], meta: SparseExportMeta) {
  const data = new DataSection();
  const tensors: SparseTensorEntry[] = [];
  let active = 0;
  let maskedTotal = 0;
  let denseBytes = 0;
  for (const tensor of input) {
    const { name } = tensor;
    const shape = [...tensor.shape];
    const size = sizeOf(shape);
    denseBytes += 4 * size;
    if ('dense' in tensor) {
      const bytes = littleEndianBytes(tensor.dense);
      tensors.push({ name, shape, dtype: tensor.dtype, masked: false, encoding: 'dense', values: { offset: data.add(bytes), length: bytes.byteLength } });
      continue;
    }
    const { indices, values } = tensor;
    const nnz = indices.length;
    if (values.length !== nnz || size > 2 ** 32) {
      throw new SparseLearningError(
        'E_SHAPE_MISMATCH',
        `tensor '${name}' [${shape.join(', ')}]: ${values.length} values for ${nnz} indices${size > 2 ** 32 ? `, and ${size} positions exceed the format's 2^32 index range` : ''}`,
        { name, size, nnz, values: values.length },
      );
    }
    active += nnz;
    maskedTotal += size;
    const { encoding, bytes: indexBytes } = chooseIndexEncoding(indices, size);
    if (4 * nnz + indexBytes < 4 * size) {
      const valueBytes = littleEndianBytes(values);
      const valuesRange = { offset: data.add(valueBytes), length: valueBytes.byteLength };
      const encoded = encodeIndices(indices, size, encoding);
      const indicesRange = { offset: data.add(encoded), length: encoded.byteLength };
      tensors.push({ name, shape, dtype: 'float32', masked: true, encoding: 'sparse', nnz, indexEncoding: encoding, values: valuesRange, indices: indicesRange });
    } else {
      // Dense enough that indices cost more than the zeros they save: store w ⊙ mask densely.
      const dense = new Float32Array(size);
      for (let k = 0; k < nnz; k++) dense[indices[k]] = values[k];
      const bytes = littleEndianBytes(dense);
      tensors.push({ name, shape, dtype: 'float32', masked: true, encoding: 'dense', values: { offset: data.add(bytes), length: bytes.byteLength } });
    }
  }
  const header: SparseModelHeader = {
    schemaVersion: SPARSE_MODEL_SCHEMA_VERSION,
    libraryVersion: LIBRARY_VERSION,
    createdAt: new Date().toISOString(),
    modelId: meta.modelId,
    modelOptions: meta.modelOptions ?? null,
    density: meta.density,
    measuredDensity: maskedTotal === 0 ? 1 : active / maskedTotal,
    extra: { ...(meta.extra ?? {}) },
    tensors,
  };
  const container = encodeContainer(SPARSE_MODEL_MAGIC, SPARSE_MODEL_FORMAT_VERSION, header, data);
  const sizes: ExportSizes = {
    sparseBytes: container.byteLength,
    denseBytes,
    ratio: container.byteLength / denseBytes,
    compression: denseBytes / container.byteLength,
  };
  return { container, header, sizes };
}

/**
 * Serialises the trained sparse model: for every masked variable the values at its active positions
 * (float32) and those positions (gap-encoded, the smallest of varint/uint16/uint32/bitmap per tensor — or the
 * whole `w ⊙ mask` when that is smaller); every other variable (biases, batch norm incl. running statistics)
 * raw. The stored model is `w ⊙ mask`, which is what the masked network computes.
 *
 * @throws SparseLearningError `E_SHAPE_MISMATCH` when a mask does not fit its variable or names none.
 */
export function encodeSparseModel(
  model: Pick<TrainableModel, 'variables'>,
  masks: Readonly<Record<string, Uint8Array>>,
  meta: SparseExportMeta,
): { bytes: Uint8Array; header: SparseModelHeader; sizes: ExportSizes; sha256: string } {
  const { container, header, sizes } = encode(model.variables, masks, meta);
  return { bytes: concatChunks(container.chunks), header, sizes, sha256: container.sha256 };
}

/**
 * Writes the sparse model file to `path` atomically (see {@link encodeSparseModel} for the content) and
 * returns its size against the dense model.
 *
 * @throws SparseLearningError `E_WRITE_FAILED` (nothing is left behind), `E_SHAPE_MISMATCH`.
 */
export async function exportSparseModel(
  path: string,
  model: Pick<TrainableModel, 'variables'>,
  masks: Readonly<Record<string, Uint8Array>>,
  meta: SparseExportMeta,
  options?: AtomicWriteOptions,
): Promise<SparseExportResult> {
  const { container, header, sizes } = encode(model.variables, masks, meta);
  await writeFileAtomic(path, container.chunks, options);
  return { path, sha256: container.sha256, header, ...sizes };
}

/**
 * {@link exportSparseModel} from tensors the caller already holds in compact form (a truly sparse run's
 * active weights, issue 9): the same file, without a model or dense masks. Indices must be ascending and
 * below 2³² per tensor (the format's index range).
 *
 * @throws SparseLearningError `E_SHAPE_MISMATCH` for values that do not match their indices or a tensor of
 *   more than 2³² positions.
 */
export async function exportSparseTensors(
  path: string,
  tensors: readonly SparseExportTensor[],
  meta: SparseExportMeta,
  options?: AtomicWriteOptions,
): Promise<SparseExportResult> {
  const { container, header, sizes } = encodeTensors(tensors, meta);
  await writeFileAtomic(path, container.chunks, options);
  return { path, sha256: container.sha256, header, ...sizes };
}

/** Size of the sparse export of `model` against its dense float32 size, without writing anything. */
export function exportSizes(
  model: Pick<TrainableModel, 'variables'>,
  masks: Readonly<Record<string, Uint8Array>>,
  meta: SparseExportMeta = { modelId: 'unknown', density: Number.NaN },
): ExportSizes {
  return encode(model.variables, masks, meta).sizes;
}

/** A decoded sparse model: dense values per variable (zeros restored) and the masks of sparse-encoded tensors. */
export interface DecodedSparseModel {
  readonly header: SparseModelHeader;
  readonly sha256: string;
  readonly tensors: Readonly<Record<string, { readonly shape: readonly number[]; readonly dtype: 'float32' | 'int32'; readonly values: Float32Array | Int32Array }>>;
  /** 0/1 masks rebuilt from the stored indices (sparse-encoded masked tensors only). */
  readonly masks: Readonly<Record<string, Uint8Array>>;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Parses and verifies a sparse model file.
 *
 * @throws SparseLearningError `E_CHECKPOINT_INVALID` (bad magic, truncated, checksum mismatch, malformed
 *   header or indices) or `E_CHECKPOINT_INCOMPATIBLE` (newer format or schema version).
 */
export function decodeSparseModel(bytes: Uint8Array, source = '<memory>'): DecodedSparseModel {
  const what = 'sparse model';
  const decoded = decodeContainer(bytes, SPARSE_MODEL_MAGIC, SPARSE_MODEL_FORMAT_VERSION, what, source);
  const fail = (problem: string) => headerError(what, source, problem);
  const h = decoded.header as SparseModelHeader;
  if (typeof h !== 'object' || h === null || !isCount(h.schemaVersion) || typeof h.modelId !== 'string' || !Array.isArray(h.tensors)) {
    throw fail('schemaVersion, modelId or tensors is missing');
  }
  if (h.schemaVersion > SPARSE_MODEL_SCHEMA_VERSION) {
    throw new SparseLearningError(
      'E_CHECKPOINT_INCOMPATIBLE',
      `${what} '${source}' has schema version ${h.schemaVersion}; this library reads up to ${SPARSE_MODEL_SCHEMA_VERSION}`,
      { path: source, schemaVersion: h.schemaVersion },
    );
  }
  const inData = (r: Range | undefined, label: string): Range => {
    if (!r || !isCount(r.offset) || !isCount(r.length) || r.offset + r.length > decoded.data.byteLength) {
      throw fail(`${label} lies outside the data section`);
    }
    return r;
  };
  const tensors: Record<string, { shape: number[]; dtype: 'float32' | 'int32'; values: Float32Array | Int32Array }> = {};
  const masks: Record<string, Uint8Array> = {};
  for (const e of h.tensors) {
    if (typeof e?.name !== 'string' || !Array.isArray(e.shape) || !e.shape.every(isCount)) throw fail('a tensor entry has no name or a bad shape');
    const shape = [...e.shape];
    const size = sizeOf(shape);
    const values = inData(e.values, `values of '${e.name}'`);
    if (e.encoding === 'dense') {
      if (values.length !== 4 * size || (e.dtype !== 'float32' && e.dtype !== 'int32')) throw fail(`dense tensor '${e.name}' has the wrong length or dtype`);
      tensors[e.name] = {
        shape,
        dtype: e.dtype,
        values: e.dtype === 'float32' ? readTypedArray(Float32Array, decoded.data, values.offset, values.length) : readTypedArray(Int32Array, decoded.data, values.offset, values.length),
      };
    } else if (e.encoding === 'sparse') {
      const nnz = e.nnz;
      if (!isCount(nnz) || nnz > size || values.length !== 4 * nnz || e.dtype !== 'float32') throw fail(`sparse tensor '${e.name}' has a bad value count`);
      const range = inData(e.indices, `indices of '${e.name}'`);
      const indices = decodeIndices(decoded.data.subarray(range.offset, range.offset + range.length), nnz, size, e.indexEncoding as IndexEncoding);
      if (!indices) throw fail(`indices of '${e.name}' (${String(e.indexEncoding)}) are inconsistent with ${nnz} entries of ${size}`);
      const active = readTypedArray(Float32Array, decoded.data, values.offset, values.length);
      const dense = new Float32Array(size);
      const mask = new Uint8Array(size);
      for (let k = 0; k < nnz; k++) {
        dense[indices[k]] = active[k];
        mask[indices[k]] = 1;
      }
      tensors[e.name] = { shape, dtype: 'float32', values: dense };
      masks[e.name] = mask;
    } else {
      throw fail(`tensor '${e.name}' has unknown encoding ${String(e.encoding)}`);
    }
  }
  return { header: h, sha256: decoded.sha256, tensors, masks };
}

/** Builds an empty model of the given architecture (e.g. `(id, options) => createModel(id, options)` of `@sparse-learning/models`). */
export type ModelFactory = (modelId: string, modelOptions: JsonValue) => TrainableModel | Promise<TrainableModel>;

/** A model rebuilt from a sparse export, ready for inference. */
export interface LoadedSparseModel extends DecodedSparseModel {
  readonly model: TrainableModel;
}

/**
 * Reads a sparse model file, rebuilds the architecture with `build(modelId, modelOptions)` (the caller's
 * factory, so this package does not depend on the model zoo) and assigns every variable, zeros included.
 * Predictions equal those of the exported masked model bit for bit on the same backend.
 *
 * @throws SparseLearningError `E_CHECKPOINT_INVALID` (unreadable, corrupted, truncated), or
 *   `E_CHECKPOINT_INCOMPATIBLE` when the built model's variables differ from the file's (names or shapes; all
 *   differences listed). The built model is disposed before an error is thrown.
 */
export async function loadSparseModel(path: string, build: ModelFactory): Promise<LoadedSparseModel> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new SparseLearningError('E_CHECKPOINT_INVALID', `cannot read sparse model '${path}': ${(error as Error).message}`, {
      path,
      reason: 'missing',
    });
  }
  const decoded = decodeSparseModel(bytes, path);
  const model = await build(decoded.header.modelId, decoded.header.modelOptions);
  try {
    const differences: string[] = [];
    for (const { name, variable } of model.variables) {
      const t = decoded.tensors[name];
      if (!t) differences.push(`variable '${name}' is not in the file`);
      else if (t.shape.length !== variable.shape.length || t.shape.some((d, i) => d !== variable.shape[i])) {
        differences.push(`variable '${name}' is [${t.shape.join(', ')}] in the file, [${variable.shape.join(', ')}] in the model`);
      } else if (t.dtype !== variable.dtype) differences.push(`variable '${name}' is ${t.dtype} in the file, ${variable.dtype} in the model`);
    }
    for (const name of Object.keys(decoded.tensors)) {
      if (!model.variables.some((v) => v.name === name)) differences.push(`the file has variable '${name}' that model '${decoded.header.modelId}' lacks`);
    }
    if (differences.length > 0) {
      throw new SparseLearningError('E_CHECKPOINT_INCOMPATIBLE', `sparse model '${path}' does not fit the built model: ${differences.join('; ')}`, {
        path,
        differences,
      });
    }
    for (const { name, variable } of model.variables) {
      const t = decoded.tensors[name];
      const value = tf.tensor(t.values, [...t.shape], t.dtype);
      variable.assign(value);
      value.dispose();
    }
  } catch (error) {
    model.dispose();
    throw error;
  }
  return { ...decoded, model };
}
