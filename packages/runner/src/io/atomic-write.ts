import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { SparseLearningError } from '@sparse-learning/core';

let counter = 0;

/**
 * Writes `data` to `path` so that a reader (or a crash) only ever sees the old or the new complete file:
 * write to a temporary file in the same directory, `fsync` it, `rename` over the target (atomic on POSIX
 * within one file system), then `fsync` the directory so the rename itself survives a power loss.
 *
 * @throws SparseLearningError `E_WRITE_FAILED` naming the path and the system error (full disk, read-only
 *   directory...). The previous version of the file is left untouched.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${Date.now()}.${counter++}.tmp`);
  let fd: number | undefined;
  try {
    mkdirSync(dir, { recursive: true });
    fd = openSync(temp, 'w', 0o644);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, path);
    fsyncDirectory(dir);
  } catch (error) {
    if (fd !== undefined) {
      try {
        closeSync(fd);
      } catch {
        // already failing: the write error below is the one worth reporting
      }
    }
    try {
      rmSync(temp, { force: true });
    } catch {
      // the directory itself may be unusable (ENOTDIR, EACCES): nothing was left behind then
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new SparseLearningError('E_WRITE_FAILED', `could not write '${path}': ${reason}`, { path }, { cause: error });
  }
}

/** Writes `value` as pretty JSON (trailing newline) atomically. */
export function writeJsonAtomic(path: string, value: unknown): void {
  writeFileAtomic(path, `${JSON.stringify(value, jsonReplacer, 2)}\n`);
}

/** JSON has no NaN/Infinity: write them as null rather than failing or producing invalid JSON. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}

function fsyncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory; the rename is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
