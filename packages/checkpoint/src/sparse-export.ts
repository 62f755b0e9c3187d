/**
 * The writing side of the `.slsparse` sparse model file (constants and header types: ./sparse-format.ts;
 * readers: ./sparse-import.ts).
 */
import { SparseLearningError } from '@sparse-learning/core';
import type { NamedVariable, TrainableModel } from '@sparse-learning/core';
import { writeFileAtomic } from './atomic-write.js';
import type { AtomicWriteOptions } from './atomic-write.js';
import { DataSection, concatChunks, encodeContainer, littleEndianBytes } from './container.js';
import { chooseIndexEncoding, encodeIndices } from './index-encoding.js';
import {
  SPARSE_MODEL_FORMAT_VERSION,
  SPARSE_MODEL_MAGIC,
  SPARSE_MODEL_SCHEMA_VERSION,
  SPARSE_MODEL_WIDE_SCHEMA_VERSION,
  SPARSE_NARROW_POSITIONS,
  sizeOf,
  type ExportSizes,
  type SparseExportMeta,
  type SparseExportResult,
  type SparseExportTensor,
  type SparseModelHeader,
  type SparseTensorEntry,
} from './sparse-format.js';
import { LIBRARY_VERSION } from './version.js';
import { MAX_WIDE_POSITIONS, chooseWideEncoding, encodeWidePositions, positionProblem } from './wide-index-encoding.js';

export {
  SPARSE_MODEL_EXTENSION,
  SPARSE_MODEL_FORMAT_VERSION,
  SPARSE_MODEL_MAGIC,
  SPARSE_MODEL_SCHEMA_VERSION,
  SPARSE_MODEL_WIDE_SCHEMA_VERSION,
  SPARSE_NARROW_POSITIONS,
} from './sparse-format.js';
export type { DataRange, ExportSizes, SparseExportMeta, SparseExportResult, SparseExportTensor, SparseModelHeader, SparseTensorEntry } from './sparse-format.js';

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
  let wideTensors = 0;
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
    const { values } = tensor;
    const nnz = tensor.indices.length;
    const wide = size > SPARSE_NARROW_POSITIONS;
    const problem =
      values.length !== nnz
        ? `${values.length} values for ${nnz} indices`
        : size > MAX_WIDE_POSITIONS
          ? `${size} positions exceed the format's 2^53 index range`
          : positionProblem(tensor.indices, size);
    if (problem) {
      throw new SparseLearningError('E_SHAPE_MISMATCH', `tensor '${name}' [${shape.join(', ')}]: ${problem}`, { name, size, nnz, values: values.length });
    }
    active += nnz;
    maskedTotal += size;
    if (wide) {
      // More than 2³² positions (issue 9): 64-bit positions, always sparse (the dense form is what cannot exist).
      const positions = tensor.indices instanceof Float64Array ? tensor.indices : Float64Array.from(tensor.indices);
      const { encoding } = chooseWideEncoding(positions);
      const valueBytes = littleEndianBytes(values);
      const valuesRange = { offset: data.add(valueBytes), length: valueBytes.byteLength };
      const encoded = encodeWidePositions(positions, encoding);
      const indicesRange = { offset: data.add(encoded), length: encoded.byteLength };
      wideTensors++;
      tensors.push({ name, shape, dtype: 'float32', masked: true, encoding: 'sparse', nnz, indexEncoding: encoding, indexBits: 64, values: valuesRange, indices: indicesRange });
      continue;
    }
    // Up to 2³² positions: the 32-bit form of every earlier version (checked above, so the copy is exact).
    const indices = tensor.indices instanceof Uint32Array ? tensor.indices : Uint32Array.from(tensor.indices);
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
    // Version 1 unless a tensor needed 64-bit positions: files that fit 32 bits stay byte for byte as before.
    schemaVersion: wideTensors > 0 ? SPARSE_MODEL_WIDE_SCHEMA_VERSION : SPARSE_MODEL_SCHEMA_VERSION,
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
 * active weights, issue 9): the same file, without a model or dense masks. Positions must be strictly
 * ascending integers inside the tensor. A tensor of more than 2³² positions (pass its positions as
 * `Float64Array`) is stored with 64-bit positions (`indexBits: 64`, header version 2) and always sparse, so no
 * array of its dense size is ever made; files without such a tensor are the version-1 files of before.
 *
 * @throws SparseLearningError `E_SHAPE_MISMATCH` for values that do not match their positions, positions that
 *   are not ascending or lie outside the tensor, or a tensor of more than 2⁵³ positions.
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
