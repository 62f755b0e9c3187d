import { SparseLearningError } from '@sparse-learning/core';
import type { RngState } from '@sparse-learning/core';
import type { JsonValue } from './json.js';
import type { CapturedTensors, CapturedVariable } from './tensors.js';
import { LIBRARY_VERSION } from './version.js';
import { DataSection, concatChunks, decodeContainer, encodeContainer, headerError, littleEndianBytes, readTypedArray } from './container.js';

/** Magic bytes at the start of every checkpoint file. */
export const CHECKPOINT_MAGIC = 'SLCKPT';
/** Binary layout version written by this library (see `container.ts`). */
export const CHECKPOINT_FORMAT_VERSION = 1;
/** Version of the header's JSON fields. */
export const CHECKPOINT_SCHEMA_VERSION = 1;

/**
 * Everything needed to continue a run exactly (issue 5 §1): the resolved config, position, trainer state
 * (Sparse Momentum controller state and history, schedule positions, prune rate — opaque here), every RNG
 * stream by label (`mask-init`, `data-order`, `growth`, `noise`, ...), strategy states by strategy id, the
 * metrics history, and all tensors.
 */
export interface CheckpointData {
  /** Model registry id; checked on resume by {@link assertCompatible}. */
  readonly modelId: string;
  /** The resolved run configuration (JSON). */
  readonly config: JsonValue;
  readonly epoch: number;
  /** Global optimizer step count. */
  readonly step: number;
  /** `SparseTrainer.getState()` (opaque JSON). */
  readonly trainerState: JsonValue;
  readonly rngStates: Readonly<Record<string, RngState>>;
  /** Per strategy id (growth, prune, redistribution, custom plugins), opaque JSON. */
  readonly strategyStates: Readonly<Record<string, JsonValue>>;
  /** One entry per completed epoch (the rows of `metrics.jsonl`). */
  readonly metricsHistory: readonly JsonValue[];
  readonly tensors: CapturedTensors;
  /** Anything else the runner wants back (e.g. the batch index inside the epoch, the backend). */
  readonly extra?: Readonly<Record<string, JsonValue>>;
  /** ISO time; filled in by the encoder when absent. */
  readonly createdAt?: string;
  /** Version of the library that wrote it; filled in by the encoder when absent. */
  readonly libraryVersion?: string;
}

/** A checkpoint read back from disk, with the fields the encoder fills in and where it came from. */
export interface LoadedCheckpoint extends CheckpointData {
  readonly createdAt: string;
  readonly libraryVersion: string;
  readonly schemaVersion: number;
  readonly formatVersion: number;
  /** File the checkpoint was read from. */
  readonly path: string;
  /** SHA-256 of the file (hex). */
  readonly sha256: string;
  /** True when `latest.json`'s checkpoint was unusable and an older one was loaded instead. */
  readonly fellBack: boolean;
}

/** Kind of a tensor entry in the header's table. */
export type TensorKind = 'variable' | 'mask' | 'optimizer-slot';
export type TensorDtype = 'float32' | 'int32' | 'uint8';

/** One row of the header's tensor table; offsets are relative to the data section. */
export interface TensorEntry {
  readonly name: string;
  readonly kind: TensorKind;
  /** Optimizer slot name (`momentum_buffer`, `exp_avg`...), for `optimizer-slot` entries. */
  readonly slot?: string;
  readonly dtype: TensorDtype;
  readonly shape: readonly number[];
  readonly byteOffset: number;
  readonly byteLength: number;
}

interface CheckpointHeader {
  schemaVersion: number;
  libraryVersion: string;
  createdAt: string;
  modelId: string;
  config: JsonValue;
  epoch: number;
  step: number;
  trainerState: JsonValue;
  rngStates: Record<string, RngState>;
  strategyStates: Record<string, JsonValue>;
  metricsHistory: readonly JsonValue[];
  extra: Record<string, JsonValue>;
  optimizer: { id: string; iterations: number } | null;
  tensors: TensorEntry[];
}

const BYTES: Record<TensorDtype, number> = { float32: 4, int32: 4, uint8: 1 };

/** Serialises a checkpoint to container chunks (see {@link encodeCheckpoint} for one buffer). */
export function encodeCheckpointChunks(checkpoint: CheckpointData): { chunks: Uint8Array[]; byteLength: number; sha256: string } {
  const data = new DataSection();
  const tensors: TensorEntry[] = [];
  const { variables, masks, optimizer } = checkpoint.tensors;
  for (const [name, v] of Object.entries(variables)) {
    const bytes = littleEndianBytes(v.values);
    tensors.push({ name, kind: 'variable', dtype: v.dtype, shape: [...v.shape], byteOffset: data.add(bytes), byteLength: bytes.byteLength });
  }
  for (const [name, mask] of Object.entries(masks)) {
    const shape = variables[name]?.shape ?? [mask.length];
    tensors.push({ name, kind: 'mask', dtype: 'uint8', shape: [...shape], byteOffset: data.add(mask), byteLength: mask.byteLength });
  }
  if (optimizer) {
    for (const [name, perSlot] of Object.entries(optimizer.slots)) {
      for (const [slot, values] of Object.entries(perSlot)) {
        const bytes = littleEndianBytes(values);
        tensors.push({
          name,
          kind: 'optimizer-slot',
          slot,
          dtype: 'float32',
          shape: [values.length],
          byteOffset: data.add(bytes),
          byteLength: bytes.byteLength,
        });
      }
    }
  }
  const header: CheckpointHeader = {
    schemaVersion: CHECKPOINT_SCHEMA_VERSION,
    libraryVersion: checkpoint.libraryVersion ?? LIBRARY_VERSION,
    createdAt: checkpoint.createdAt ?? new Date().toISOString(),
    modelId: checkpoint.modelId,
    config: checkpoint.config,
    epoch: checkpoint.epoch,
    step: checkpoint.step,
    trainerState: checkpoint.trainerState,
    rngStates: { ...checkpoint.rngStates },
    strategyStates: { ...checkpoint.strategyStates },
    metricsHistory: checkpoint.metricsHistory,
    extra: { ...(checkpoint.extra ?? {}) },
    optimizer: optimizer ? { id: optimizer.id, iterations: optimizer.iterations } : null,
    tensors,
  };
  return encodeContainer(CHECKPOINT_MAGIC, CHECKPOINT_FORMAT_VERSION, header, data);
}

/** Serialises a checkpoint into one buffer (the exact bytes `saveCheckpoint` writes). */
export function encodeCheckpoint(checkpoint: CheckpointData): Uint8Array {
  return concatChunks(encodeCheckpointChunks(checkpoint).chunks);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * Parses and verifies a checkpoint (magic, length, SHA-256, format and schema versions, tensor table).
 *
 * @param source the path, for messages.
 * @throws SparseLearningError `E_CHECKPOINT_INVALID` (not a checkpoint, truncated, corrupted, malformed) or
 *   `E_CHECKPOINT_INCOMPATIBLE` (written by a newer format or schema version).
 */
export function decodeCheckpoint(bytes: Uint8Array, source = '<memory>'): LoadedCheckpoint {
  const decoded = decodeContainer(bytes, CHECKPOINT_MAGIC, CHECKPOINT_FORMAT_VERSION, 'checkpoint', source);
  const fail = (problem: string) => headerError('checkpoint', source, problem);
  const h = decoded.header;
  if (!isRecord(h)) throw fail('header is not an object');
  if (!isCount(h.schemaVersion)) throw fail('schemaVersion is missing');
  if (h.schemaVersion > CHECKPOINT_SCHEMA_VERSION) {
    throw new SparseLearningError(
      'E_CHECKPOINT_INCOMPATIBLE',
      `checkpoint '${source}' has schema version ${h.schemaVersion} (written by library ${String(h.libraryVersion)}); this library reads up to ${CHECKPOINT_SCHEMA_VERSION}`,
      { path: source, schemaVersion: h.schemaVersion, supported: CHECKPOINT_SCHEMA_VERSION },
    );
  }
  if (typeof h.modelId !== 'string') throw fail('modelId is missing');
  if (!isCount(h.epoch) || !isCount(h.step)) throw fail('epoch/step are missing or not counts');
  if (!isRecord(h.rngStates) || !isRecord(h.strategyStates) || !Array.isArray(h.metricsHistory)) {
    throw fail('rngStates, strategyStates or metricsHistory is missing');
  }
  if (!Array.isArray(h.tensors)) throw fail('tensor table is missing');

  const variables: Record<string, CapturedVariable> = {};
  const masks: Record<string, Uint8Array> = {};
  const slots: Record<string, Record<string, Float32Array>> = {};
  for (const [i, e] of (h.tensors as unknown[]).entries()) {
    if (!isRecord(e) || typeof e.name !== 'string') throw fail(`tensor entry ${i} has no name`);
    const dtype = e.dtype as TensorDtype;
    if (!(dtype in BYTES)) throw fail(`tensor '${e.name}' has unknown dtype ${String(e.dtype)}`);
    if (!Array.isArray(e.shape) || !e.shape.every(isCount)) throw fail(`tensor '${e.name}' has a bad shape`);
    const shape = e.shape as number[];
    const count = shape.reduce((a, b) => a * b, 1);
    if (!isCount(e.byteOffset) || !isCount(e.byteLength) || e.byteLength !== count * BYTES[dtype]) {
      throw fail(`tensor '${e.name}' byte length ${String(e.byteLength)} does not match shape [${shape.join(', ')}] of ${dtype}`);
    }
    if (e.byteOffset + e.byteLength > decoded.data.byteLength) throw fail(`tensor '${e.name}' lies outside the data section`);
    switch (e.kind) {
      case 'variable':
        if (dtype === 'uint8') throw fail(`variable '${e.name}' cannot be uint8`);
        variables[e.name] = {
          shape,
          dtype,
          values:
            dtype === 'float32'
              ? readTypedArray(Float32Array, decoded.data, e.byteOffset, e.byteLength)
              : readTypedArray(Int32Array, decoded.data, e.byteOffset, e.byteLength),
        };
        break;
      case 'mask':
        if (dtype !== 'uint8') throw fail(`mask '${e.name}' must be uint8`);
        masks[e.name] = readTypedArray(Uint8Array, decoded.data, e.byteOffset, e.byteLength);
        break;
      case 'optimizer-slot':
        if (dtype !== 'float32' || typeof e.slot !== 'string') throw fail(`optimizer slot of '${e.name}' must be float32 and named`);
        (slots[e.name] ??= {})[e.slot] = readTypedArray(Float32Array, decoded.data, e.byteOffset, e.byteLength);
        break;
      default:
        throw fail(`tensor '${e.name}' has unknown kind ${String(e.kind)}`);
    }
  }
  const opt = h.optimizer;
  if (opt !== null && !(isRecord(opt) && typeof opt.id === 'string' && isCount(opt.iterations))) throw fail('optimizer entry is malformed');
  return {
    modelId: h.modelId,
    config: (h.config ?? null) as JsonValue,
    epoch: h.epoch,
    step: h.step,
    trainerState: (h.trainerState ?? null) as JsonValue,
    rngStates: h.rngStates as Record<string, RngState>,
    strategyStates: h.strategyStates as Record<string, JsonValue>,
    metricsHistory: h.metricsHistory as JsonValue[],
    extra: (isRecord(h.extra) ? h.extra : {}) as Record<string, JsonValue>,
    tensors: {
      variables,
      masks,
      optimizer: opt ? { id: opt.id as string, iterations: opt.iterations as number, slots } : null,
    },
    createdAt: String(h.createdAt),
    libraryVersion: String(h.libraryVersion),
    schemaVersion: h.schemaVersion,
    formatVersion: decoded.version,
    path: source,
    sha256: decoded.sha256,
    fellBack: false,
  };
}
