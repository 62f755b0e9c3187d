import { createHash } from 'node:crypto';
import { SparseLearningError } from '@sparse-learning/core';

/**
 * The binary container shared by checkpoints (`SLCKPT`) and sparse exports (`SLSPRS`).
 *
 * ```
 * offset  size  field
 *      0     6  magic, ASCII
 *      6     2  format version, uint16 LE
 *      8     4  header length H in bytes, uint32 LE
 *     12     4  reserved, zero
 *     16     8  data length L in bytes, uint64 LE
 *     24     H  header: UTF-8 JSON
 *   24+H     p  zero padding so the data section starts at a multiple of 8
 *      D     L  data section: raw little-endian tensor bytes, each tensor 8-byte aligned inside it
 *  D + L    32  SHA-256 of every preceding byte of the file
 * ```
 *
 * Invariant for every format version: the file ends with the SHA-256 of everything before it, so integrity
 * is checked before the version is interpreted (a flipped byte in the version field reads as corruption, not
 * as "a newer format").
 */
export const PREFIX_BYTES = 24;
export const CHECKSUM_BYTES = 32;
export const ALIGN = 8;

export function alignUp(n: number, to = ALIGN): number {
  return Math.ceil(n / to) * to;
}

/** Bytes of a typed array as they would be on a little-endian machine (copied and swapped only on big-endian hosts). */
const HOST_IS_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export function littleEndianBytes(array: Float32Array | Int32Array | Uint8Array): Uint8Array {
  const bytes = new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
  if (HOST_IS_LE || array.BYTES_PER_ELEMENT === 1) return bytes;
  const copy = Buffer.from(bytes);
  copy.swap32();
  return copy;
}

/** Copies `byteLength` little-endian bytes at `offset` of `buf` into a fresh typed array. */
export function readTypedArray<T extends Float32Array | Int32Array | Uint8Array>(
  ctor: { new (buffer: ArrayBuffer): T; BYTES_PER_ELEMENT: number },
  buf: Uint8Array,
  offset: number,
  byteLength: number,
): T {
  const copy = new Uint8Array(byteLength);
  copy.set(buf.subarray(offset, offset + byteLength));
  if (!HOST_IS_LE && ctor.BYTES_PER_ELEMENT === 4) Buffer.from(copy.buffer).swap32();
  return new ctor(copy.buffer);
}

/** A data section being assembled: chunks plus their offsets (no concatenation, no copies). */
export class DataSection {
  readonly chunks: Uint8Array[] = [];
  length = 0;

  /** Appends `bytes` at the next 8-byte boundary; returns its offset in the data section. */
  add(bytes: Uint8Array): number {
    const padded = alignUp(this.length);
    if (padded > this.length) {
      this.chunks.push(new Uint8Array(padded - this.length));
      this.length = padded;
    }
    const offset = this.length;
    if (bytes.byteLength > 0) this.chunks.push(bytes);
    this.length += bytes.byteLength;
    return offset;
  }
}

/**
 * Serialises a container. Returns chunks to write in order (they alias the tensor arrays: write them before
 * mutating those) and the file's SHA-256 in hex.
 */
export function encodeContainer(
  magic: string,
  version: number,
  header: unknown,
  data: DataSection,
): { chunks: Uint8Array[]; byteLength: number; sha256: string } {
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const prefix = Buffer.alloc(PREFIX_BYTES);
  prefix.write(magic, 0, 6, 'latin1');
  prefix.writeUInt16LE(version, 6);
  prefix.writeUInt32LE(headerBytes.byteLength, 8);
  prefix.writeBigUInt64LE(BigInt(data.length), 16);
  const headerEnd = PREFIX_BYTES + headerBytes.byteLength;
  const padding = new Uint8Array(alignUp(headerEnd) - headerEnd);
  const chunks: Uint8Array[] = [prefix, headerBytes, padding, ...data.chunks];
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  const digest = hash.digest();
  chunks.push(digest);
  return {
    chunks,
    byteLength: alignUp(headerEnd) + data.length + CHECKSUM_BYTES,
    sha256: digest.toString('hex'),
  };
}

/** Concatenation of {@link encodeContainer}'s chunks (for in-memory use and tests). */
export function concatChunks(chunks: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(chunks.map((c) => (Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength))));
}

/** A verified container: its version, parsed header, data section view and checksum. */
export interface DecodedContainer {
  readonly version: number;
  readonly header: unknown;
  /** View of the data section inside the file bytes. */
  readonly data: Uint8Array;
  readonly sha256: string;
}

function invalid(what: string, source: string, reason: string, problem: string): SparseLearningError {
  return new SparseLearningError('E_CHECKPOINT_INVALID', `${what} '${source}' is invalid: ${problem}`, {
    path: source,
    reason,
  });
}

/**
 * Parses and verifies a container: magic, length (truncation), SHA-256, then the format version.
 *
 * @param what human name for messages (`checkpoint`, `sparse model`).
 * @param source the file path (for messages).
 * @throws SparseLearningError `E_CHECKPOINT_INVALID` (bad magic, truncated, checksum mismatch, malformed
 *   header) or `E_CHECKPOINT_INCOMPATIBLE` (a format version newer than `maxVersion`).
 */
export function decodeContainer(
  bytes: Uint8Array,
  magic: string,
  maxVersion: number,
  what: string,
  source: string,
): DecodedContainer {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.byteLength < 6 || buf.toString('latin1', 0, 6) !== magic) {
    const found = buf.toString('latin1', 0, Math.min(6, buf.byteLength));
    return failMagic(what, source, magic, found, buf.byteLength);
  }
  if (buf.byteLength < PREFIX_BYTES + CHECKSUM_BYTES) {
    throw invalid(what, source, 'truncated', `truncated: ${buf.byteLength} bytes is shorter than the smallest valid file`);
  }
  const headerLength = buf.readUInt32LE(8);
  const dataLength = Number(buf.readBigUInt64LE(16));
  const dataStart = alignUp(PREFIX_BYTES + headerLength);
  const expected = dataStart + dataLength + CHECKSUM_BYTES;
  const body = buf.subarray(0, buf.byteLength - CHECKSUM_BYTES);
  const stored = buf.subarray(buf.byteLength - CHECKSUM_BYTES);
  const actual = createHash('sha256').update(body).digest();
  if (!actual.equals(stored)) {
    if (expected > buf.byteLength) {
      throw invalid(what, source, 'truncated', `truncated: expected ${expected} bytes, found ${buf.byteLength}`);
    }
    throw invalid(
      what,
      source,
      'checksum',
      `SHA-256 mismatch (stored ${stored.toString('hex').slice(0, 16)}…, computed ${actual.toString('hex').slice(0, 16)}…): the file is corrupted`,
    );
  }
  if (expected !== buf.byteLength) {
    throw invalid(what, source, 'length', `length ${buf.byteLength} does not match its prefix (expected ${expected} bytes)`);
  }
  const version = buf.readUInt16LE(6);
  if (version < 1 || version > maxVersion) {
    throw new SparseLearningError(
      'E_CHECKPOINT_INCOMPATIBLE',
      `${what} '${source}' has format version ${version}; this library (reads versions 1..${maxVersion}) cannot read it — upgrade @sparse-learning/checkpoint`,
      { path: source, formatVersion: version, supported: maxVersion },
    );
  }
  let header: unknown;
  try {
    header = JSON.parse(buf.toString('utf8', PREFIX_BYTES, PREFIX_BYTES + headerLength));
  } catch (error) {
    throw invalid(what, source, 'header', `header is not valid JSON (${(error as Error).message})`);
  }
  return {
    version,
    header,
    data: buf.subarray(dataStart, dataStart + dataLength),
    sha256: stored.toString('hex'),
  };
}

function failMagic(what: string, source: string, magic: string, found: string, length: number): never {
  if (length < 6 && magic.startsWith(found)) {
    throw new SparseLearningError('E_CHECKPOINT_INVALID', `${what} '${source}' is invalid: truncated to ${length} bytes`, {
      path: source,
      reason: 'truncated',
    });
  }
  throw new SparseLearningError(
    'E_CHECKPOINT_INVALID',
    `${what} '${source}' is invalid: bad magic ${JSON.stringify(found)} (expected ${JSON.stringify(magic)}); not a ${what} file`,
    { path: source, reason: 'magic' },
  );
}

/** Throws `E_CHECKPOINT_INVALID` for a structurally wrong (but checksummed) header field. */
export function headerError(what: string, source: string, problem: string): SparseLearningError {
  return invalid(what, source, 'header', `malformed header: ${problem}`);
}
