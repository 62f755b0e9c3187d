/**
 * The `.slsparse` sparse model file's constants and header types, shared by the writer (./sparse-export.ts)
 * and the readers (./sparse-import.ts).
 */
import type { IndexEncoding } from './index-encoding.js';
import type { JsonValue } from './json.js';

/** Magic bytes of a sparse model file. */
export const SPARSE_MODEL_MAGIC = 'SLSPRS';
/** Binary layout version of sparse model files. */
export const SPARSE_MODEL_FORMAT_VERSION = 1;
/**
 * Version of the sparse model header's JSON fields written when every tensor has at most 2³² positions (the
 * files are byte for byte those of earlier versions).
 */
export const SPARSE_MODEL_SCHEMA_VERSION = 1;
/**
 * Header version of a file with a tensor of more than 2³² positions (issue 9): that tensor's entry carries
 * `indexBits: 64` and its positions decode as `Float64Array`. Readers of version 1 refuse such a file with
 * `E_CHECKPOINT_INCOMPATIBLE` instead of misreading it; this library reads both.
 */
export const SPARSE_MODEL_WIDE_SCHEMA_VERSION = 2;
/** Tensors with more positions than this get 64-bit positions (`indexBits: 64`). */
export const SPARSE_NARROW_POSITIONS = 2 ** 32;
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
export interface DataRange {
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
  /**
   * 64 for a tensor of more than 2³² positions (header version {@link SPARSE_MODEL_WIDE_SCHEMA_VERSION}): its
   * gap codes are `varint`, `uint16` or `uint32` (never `bitmap`) and decode to `Float64Array` positions;
   * absent otherwise (32-bit positions).
   */
  readonly indexBits?: 64;
  readonly values: DataRange;
  readonly indices?: DataRange;
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

/**
 * One tensor of a sparse export as its caller holds it, and as {@link decodeSparseTensors} returns it: every
 * value (`dense`), or the active positions of a masked tensor and their values. Positions are flat indices in
 * the tensor's row-major layout, strictly ascending: a `Uint32Array` for tensors of up to 2³² positions, a
 * `Float64Array` (exact integers) for any size up to 2⁵³ — the wide form of a layer whose dense array could not
 * be allocated.
 */
export type SparseExportTensor =
  | { readonly name: string; readonly shape: readonly number[]; readonly dtype: 'float32' | 'int32'; readonly masked: boolean; readonly dense: Float32Array | Int32Array }
  | { readonly name: string; readonly shape: readonly number[]; readonly masked: true; readonly indices: Uint32Array | Float64Array; readonly values: Float32Array };

/** Elements of a tensor of `shape`. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
