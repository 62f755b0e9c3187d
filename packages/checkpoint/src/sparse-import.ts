/**
 * The reading side of the `.slsparse` sparse model file (./sparse-format.ts): {@link decodeSparseTensors} returns
 * every tensor in the form it is stored — active positions and values, never a dense array of a sparse tensor,
 * so a layer of more than 2³² positions (issue 9) reads back in memory proportional to its active weights —
 * and {@link decodeSparseModel} / {@link loadSparseModel} rebuild dense values and masks for a TF.js model.
 */
import { readFile } from 'node:fs/promises';
import * as tf from '@tensorflow/tfjs-core';
import { SparseLearningError } from '@sparse-learning/core';
import type { TrainableModel } from '@sparse-learning/core';
import { decodeContainer, headerError, readTypedArray } from './container.js';
import { decodeIndices } from './index-encoding.js';
import type { IndexEncoding } from './index-encoding.js';
import type { JsonValue } from './json.js';
import {
  SPARSE_MODEL_FORMAT_VERSION,
  SPARSE_MODEL_MAGIC,
  SPARSE_MODEL_WIDE_SCHEMA_VERSION,
  SPARSE_NARROW_POSITIONS,
  sizeOf,
  type DataRange,
  type SparseExportTensor,
  type SparseModelHeader,
} from './sparse-format.js';
import { decodeWidePositions } from './wide-index-encoding.js';

/** A sparse model file's tensors as stored (see {@link decodeSparseTensors}). */
export interface DecodedSparseTensors {
  readonly header: SparseModelHeader;
  readonly sha256: string;
  /** In the file's order (the exporting model's variable order). */
  readonly tensors: readonly SparseExportTensor[];
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
 * Parses and verifies a sparse model file and returns its tensors as stored: dense ones with every value,
 * sparse ones as ascending positions (`Uint32Array`, or `Float64Array` for a tensor of more than 2³²
 * positions) and their float32 values. Nothing of the size of a sparse tensor's dense shape is allocated.
 * The result passes straight back to `exportSparseTensors` (same tensors, same bytes apart from `createdAt`).
 *
 * @throws SparseLearningError `E_CHECKPOINT_INVALID` (bad magic, truncated, checksum mismatch, malformed
 *   header or indices) or `E_CHECKPOINT_INCOMPATIBLE` (newer format or schema version).
 */
export function decodeSparseTensors(bytes: Uint8Array, source = '<memory>'): DecodedSparseTensors {
  const what = 'sparse model';
  const decoded = decodeContainer(bytes, SPARSE_MODEL_MAGIC, SPARSE_MODEL_FORMAT_VERSION, what, source);
  const fail = (problem: string) => headerError(what, source, problem);
  const h = decoded.header as SparseModelHeader;
  if (typeof h !== 'object' || h === null || !isCount(h.schemaVersion) || typeof h.modelId !== 'string' || !Array.isArray(h.tensors)) {
    throw fail('schemaVersion, modelId or tensors is missing');
  }
  if (h.schemaVersion > SPARSE_MODEL_WIDE_SCHEMA_VERSION) {
    throw new SparseLearningError(
      'E_CHECKPOINT_INCOMPATIBLE',
      `${what} '${source}' has schema version ${h.schemaVersion}; this library reads up to ${SPARSE_MODEL_WIDE_SCHEMA_VERSION}`,
      { path: source, schemaVersion: h.schemaVersion },
    );
  }
  const inData = (r: DataRange | undefined, label: string): DataRange => {
    if (!r || !isCount(r.offset) || !isCount(r.length) || r.offset + r.length > decoded.data.byteLength) {
      throw fail(`${label} lies outside the data section`);
    }
    return r;
  };
  const tensors: SparseExportTensor[] = [];
  for (const e of h.tensors) {
    if (typeof e?.name !== 'string' || !Array.isArray(e.shape) || !e.shape.every(isCount)) throw fail('a tensor entry has no name or a bad shape');
    const { name } = e;
    const shape = [...e.shape];
    const size = sizeOf(shape);
    const values = inData(e.values, `values of '${name}'`);
    if (e.encoding === 'dense') {
      if (size > SPARSE_NARROW_POSITIONS || values.length !== 4 * size || (e.dtype !== 'float32' && e.dtype !== 'int32')) throw fail(`dense tensor '${name}' has the wrong length or dtype`);
      const dense =
        e.dtype === 'float32' ? readTypedArray(Float32Array, decoded.data, values.offset, values.length) : readTypedArray(Int32Array, decoded.data, values.offset, values.length);
      tensors.push({ name, shape, dtype: e.dtype, masked: e.masked === true, dense });
    } else if (e.encoding === 'sparse') {
      const nnz = e.nnz;
      if (!isCount(nnz) || nnz > size || values.length !== 4 * nnz || e.dtype !== 'float32') throw fail(`sparse tensor '${name}' has a bad value count`);
      const wide = size > SPARSE_NARROW_POSITIONS;
      if (wide !== (e.indexBits === 64) || (wide && h.schemaVersion < SPARSE_MODEL_WIDE_SCHEMA_VERSION)) {
        throw fail(`sparse tensor '${name}' of ${size} positions has indexBits ${String(e.indexBits ?? 32)} (64 exactly above 2^32, from schema version ${SPARSE_MODEL_WIDE_SCHEMA_VERSION})`);
      }
      const range = inData(e.indices, `indices of '${name}'`);
      const raw = decoded.data.subarray(range.offset, range.offset + range.length);
      const indices = wide ? decodeWidePositions(raw, nnz, size, String(e.indexEncoding)) : decodeIndices(raw, nnz, size, e.indexEncoding as IndexEncoding);
      if (!indices) throw fail(`indices of '${name}' (${String(e.indexEncoding)}) are inconsistent with ${nnz} entries of ${size}`);
      tensors.push({ name, shape, masked: true, indices, values: readTypedArray(Float32Array, decoded.data, values.offset, values.length) });
    } else {
      throw fail(`tensor '${name}' has unknown encoding ${String(e.encoding)}`);
    }
  }
  return { header: h, sha256: decoded.sha256, tensors };
}

/** Reads `path` and {@link decodeSparseTensors}; a missing or unreadable file is `E_CHECKPOINT_INVALID`. */
export async function readSparseTensors(path: string): Promise<DecodedSparseTensors> {
  return decodeSparseTensors(await readSparseFile(path), path);
}

async function readSparseFile(path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    throw new SparseLearningError('E_CHECKPOINT_INVALID', `cannot read sparse model '${path}': ${(error as Error).message}`, {
      path,
      reason: 'missing',
    });
  }
}

/**
 * Parses and verifies a sparse model file and restores dense values (zeros included) and 0/1 masks of its
 * sparse tensors — for a model TF.js can hold. A tensor of more than 2³² positions has no dense form here: read
 * such a file with {@link decodeSparseTensors}.
 *
 * @throws SparseLearningError `E_CHECKPOINT_INVALID` (bad magic, truncated, checksum mismatch, malformed
 *   header or indices), `E_CHECKPOINT_INCOMPATIBLE` (newer format or schema version) or `E_SHAPE_MISMATCH` (a
 *   tensor too large for a dense array).
 */
export function decodeSparseModel(bytes: Uint8Array, source = '<memory>'): DecodedSparseModel {
  const { header, sha256, tensors: stored } = decodeSparseTensors(bytes, source);
  const tensors: Record<string, { shape: number[]; dtype: 'float32' | 'int32'; values: Float32Array | Int32Array }> = {};
  const masks: Record<string, Uint8Array> = {};
  for (const t of stored) {
    const shape = [...t.shape];
    if ('dense' in t) {
      tensors[t.name] = { shape, dtype: t.dtype, values: t.dense };
      continue;
    }
    const size = sizeOf(shape);
    if (size > SPARSE_NARROW_POSITIONS) {
      throw new SparseLearningError(
        'E_SHAPE_MISMATCH',
        `sparse model '${source}': tensor '${t.name}' [${shape.join(', ')}] has ${size} positions, more than a dense array holds (2^32); read it in compact form with decodeSparseTensors / readSparseTensors`,
        { path: source, name: t.name, size, limit: SPARSE_NARROW_POSITIONS },
      );
    }
    const dense = new Float32Array(size);
    const mask = new Uint8Array(size);
    for (let k = 0; k < t.indices.length; k++) {
      dense[t.indices[k]] = t.values[k];
      mask[t.indices[k]] = 1;
    }
    tensors[t.name] = { shape, dtype: 'float32', values: dense };
    masks[t.name] = mask;
  }
  return { header, sha256, tensors, masks };
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
  const decoded = decodeSparseModel(await readSparseFile(path), path);
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
