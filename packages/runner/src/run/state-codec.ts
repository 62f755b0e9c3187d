import { SparseLearningError } from '@sparse-learning/core';
import type { JsonValue } from '@sparse-learning/checkpoint';

/**
 * Lossless JSON for the opaque states a checkpoint carries (trainer, strategies, metrics history): plain JSON
 * would turn `NaN`/`±Infinity` into `null`, `-0` into `0` and a typed array into an object of indices, so a
 * resumed run would not be bit-identical. Such values are written as tagged objects:
 *
 * - `{ "$number": "NaN" | "Infinity" | "-Infinity" | "-0" }`
 * - `{ "$typed": "Int8Array" | "Uint8Array" | "Int32Array" | "Float32Array" | "Float64Array" | ..., "base64": "…" }`
 *   (little-endian bytes)
 *
 * Everything else passes through unchanged. {@link decodeState} reverses it exactly.
 */
export function encodeState(value: unknown): JsonValue {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return { $number: 'NaN' };
    if (value === Number.POSITIVE_INFINITY) return { $number: 'Infinity' };
    if (value === Number.NEGATIVE_INFINITY) return { $number: '-Infinity' };
    if (Object.is(value, -0)) return { $number: '-0' };
    return value;
  }
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (value === undefined) return null;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const name = value.constructor.name;
    if (!(name in TYPED)) {
      throw new SparseLearningError('E_CHECKPOINT_INVALID', `cannot store a ${name} in a checkpoint state`, { type: name });
    }
    return { $typed: name, base64: Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64') };
  }
  if (Array.isArray(value)) return value.map((v) => encodeState(v));
  if (value instanceof Map) return { $map: [...value.entries()].map(([k, v]) => [encodeState(k), encodeState(v)]) };
  if (typeof value === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) if (v !== undefined) out[k] = encodeState(v);
    return out;
  }
  throw new SparseLearningError('E_CHECKPOINT_INVALID', `cannot store a ${typeof value} in a checkpoint state`, { type: typeof value });
}

type TypedCtor = new (buffer: ArrayBuffer) => ArrayBufferView;

const TYPED: Record<string, TypedCtor> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
};

const NUMBERS: Record<string, number> = {
  NaN: Number.NaN,
  Infinity: Number.POSITIVE_INFINITY,
  '-Infinity': Number.NEGATIVE_INFINITY,
  '-0': -0,
};

/** Reverses {@link encodeState}. @throws `E_CHECKPOINT_INVALID` for a malformed tag. */
export function decodeState(input: JsonValue | undefined): unknown {
  if (input === null || input === undefined || typeof input !== 'object') return input;
  if (Array.isArray(input)) return (input as readonly JsonValue[]).map((v) => decodeState(v));
  const value = input as { readonly [key: string]: JsonValue };
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === '$number') {
    const n = NUMBERS[String(value.$number)];
    if (n === undefined) throw new SparseLearningError('E_CHECKPOINT_INVALID', `bad $number tag ${JSON.stringify(value)} in a checkpoint state`);
    return n;
  }
  if (keys.length === 2 && typeof value.$typed === 'string' && typeof value.base64 === 'string') {
    const Ctor = TYPED[value.$typed];
    if (!Ctor) throw new SparseLearningError('E_CHECKPOINT_INVALID', `unknown typed array '${value.$typed}' in a checkpoint state`);
    const bytes = Buffer.from(value.base64, 'base64');
    const copy = new Uint8Array(bytes.byteLength);
    copy.set(bytes);
    return new Ctor(copy.buffer);
  }
  if (keys.length === 1 && keys[0] === '$map' && Array.isArray(value.$map)) {
    return new Map((value.$map as JsonValue[]).map((pair) => {
      const [k, v] = pair as JsonValue[];
      return [decodeState(k), decodeState(v)];
    }));
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = decodeState(v);
  return out;
}
