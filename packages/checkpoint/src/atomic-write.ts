import * as fs from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { SparseLearningError, isSparseLearningError } from '@sparse-learning/core';
import type { JsonValue } from './json.js';

/**
 * The file-system primitives the atomic writers use, one function per system call. Production code uses
 * {@link nodeFsOps}; tests inject failures (a full disk, a read-only file system) by overriding one of them,
 * because a real ENOSPC cannot be produced portably and `chmod` does not stop root.
 */
export interface FsOps {
  open(path: string, flags: string, mode?: number): Promise<number>;
  /** Writes every byte of `data` at the current position (loops over short writes). */
  write(fd: number, data: Uint8Array): Promise<void>;
  fsync(fd: number): Promise<void>;
  close(fd: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Current size of an open file. */
  size(fd: number): Promise<number>;
  ftruncate(fd: number, length: number): Promise<void>;
}

const pOpen = promisify(fs.open);
const pWrite = (fd: number, buffer: Uint8Array, offset: number, length: number): Promise<number> =>
  new Promise((resolve, reject) => {
    fs.write(fd, buffer, offset, length, null, (error, written) => (error ? reject(error) : resolve(written)));
  });
const pFsync = promisify(fs.fsync);
const pClose = promisify(fs.close);
const pRename = promisify(fs.rename);
const pUnlink = promisify(fs.unlink);
const pFstat = promisify(fs.fstat);
const pFtruncate = promisify(fs.ftruncate);

/** The real file system (node:fs). */
export const nodeFsOps: FsOps = Object.freeze({
  open: (path: string, flags: string, mode?: number) => pOpen(path, flags, mode),
  async write(fd: number, data: Uint8Array) {
    let offset = 0;
    while (offset < data.byteLength) {
      // Short writes are legal (signals, pipes): keep going until every byte is out.
      offset += await pWrite(fd, data, offset, data.byteLength - offset);
    }
  },
  fsync: (fd: number) => pFsync(fd),
  close: (fd: number) => pClose(fd),
  rename: (from: string, to: string) => pRename(from, to),
  unlink: (path: string) => pUnlink(path),
  size: async (fd: number) => (await pFstat(fd)).size,
  ftruncate: (fd: number, length: number) => pFtruncate(fd, length),
});

/** Options of the atomic writers. */
export interface AtomicWriteOptions {
  /** Override some file-system calls (failure injection in tests). */
  readonly fs?: Partial<FsOps>;
  /** Permission bits of a newly created file (default `0o644`, further reduced by the umask). */
  readonly mode?: number;
}

function opsOf(options?: AtomicWriteOptions): FsOps {
  return options?.fs ? { ...nodeFsOps, ...options.fs } : nodeFsOps;
}

/** Turns an OS error into the library's `E_WRITE_FAILED`, naming the path and the OS error. */
export function writeFailedError(path: string, cause: unknown, what = 'write'): SparseLearningError {
  if (isSparseLearningError(cause)) return cause;
  const err = cause as NodeJS.ErrnoException;
  const code = typeof err?.code === 'string' ? err.code : undefined;
  const message = err instanceof Error ? err.message : String(cause);
  const os = code && !message.startsWith(code) ? `${code}: ${message}` : message;
  const hint =
    code === 'ENOSPC'
      ? ' (the disk is full)'
      : code === 'EROFS'
        ? ' (the file system is read-only)'
        : code === 'EACCES' || code === 'EPERM'
          ? ' (permission denied)'
          : code === 'ENOENT' || code === 'ENOTDIR'
            ? ' (the directory does not exist)'
            : '';
  return new SparseLearningError(
    'E_WRITE_FAILED',
    `cannot ${what} '${path}': ${os}${hint}; any previous version of the file is unchanged`,
    { path, osCode: code ?? null, syscall: err?.syscall ?? null },
    { cause },
  );
}

/** Errors of a directory fsync that only mean "this platform/file system cannot fsync a directory". */
const DIR_FSYNC_UNSUPPORTED = new Set(['EISDIR', 'EINVAL', 'EPERM', 'EACCES', 'ENOTSUP', 'EBADF']);

async function fsyncDir(ops: FsOps, dir: string): Promise<void> {
  let fd: number | undefined;
  try {
    fd = await ops.open(dir, 'r');
    await ops.fsync(fd);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException)?.code;
    if (!code || !DIR_FSYNC_UNSUPPORTED.has(code)) throw error;
  } finally {
    if (fd !== undefined) await ops.close(fd).catch(() => undefined);
  }
}

/** Name of the temporary sibling a write goes through (hidden, unique per process and call). */
export function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** True for names produced by {@link tempPathFor} for `fileName` (any process); used to clean crash leftovers. */
export function isTempFileOf(candidate: string, fileName?: string): boolean {
  return /^\..+\.tmp-\d+-[0-9a-f]{8}$/.test(candidate) && (fileName === undefined || candidate.startsWith(`.${fileName}.tmp-`));
}

/**
 * Replaces `path` with `data` atomically: write a temporary file in the same directory, fsync it, rename it
 * over `path` (atomic on POSIX within one file system), then fsync the directory so the rename itself is
 * durable. A reader — or a process restarted after a crash or power loss — sees either the old complete file
 * or the new complete file, never a mixture.
 *
 * `data` may be several chunks (written in order without concatenating them: large checkpoints are not copied).
 * The parent directory must exist.
 *
 * @throws SparseLearningError `E_WRITE_FAILED` naming the path and the OS error (ENOSPC, EACCES, EROFS,
 *   ENOENT...). On failure the temporary file is removed and the previous file at `path` is untouched.
 */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string | readonly Uint8Array[],
  options?: AtomicWriteOptions,
): Promise<void> {
  const ops = opsOf(options);
  const chunks: readonly Uint8Array[] =
    typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  const temp = tempPathFor(path);
  let fd: number | undefined;
  let created = false;
  try {
    // 'wx': never follow or reuse an existing file under the temporary name.
    fd = await ops.open(temp, 'wx', options?.mode ?? 0o644);
    created = true;
    for (const chunk of chunks) await ops.write(fd, chunk);
    await ops.fsync(fd);
    const closing = fd;
    fd = undefined;
    await ops.close(closing);
    await ops.rename(temp, path);
    created = false;
  } catch (error) {
    if (fd !== undefined) await ops.close(fd).catch(() => undefined);
    if (created) await ops.unlink(temp).catch(() => undefined);
    throw writeFailedError(path, error);
  }
  try {
    await fsyncDir(ops, dirname(path));
  } catch (error) {
    throw writeFailedError(path, error, 'make durable (directory fsync after rename)');
  }
}

/**
 * The synchronous twin of {@link writeFileAtomic} for small files written between training steps (the run's
 * `config.json`, `results.json`, reports, lock files): the same temporary sibling, fsync, rename and
 * directory fsync, the same `E_WRITE_FAILED` errors; it also creates the parent directory.
 *
 * @throws SparseLearningError `E_WRITE_FAILED` naming the path and the OS error; the previous file is untouched.
 */
export function writeFileAtomicSync(path: string, data: Uint8Array | string, options: { readonly mode?: number } = {}): void {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const temp = tempPathFor(path);
  let fd: number | undefined;
  let created = false;
  try {
    fs.mkdirSync(dirname(path), { recursive: true });
    fd = fs.openSync(temp, 'wx', options.mode ?? 0o644);
    created = true;
    let offset = 0;
    while (offset < bytes.byteLength) offset += fs.writeSync(fd, bytes, offset, bytes.byteLength - offset);
    fs.fsyncSync(fd);
    const closing = fd;
    fd = undefined;
    fs.closeSync(closing);
    fs.renameSync(temp, path);
    created = false;
  } catch (error) {
    if (fd !== undefined) {
      try {
        fs.closeSync(fd);
      } catch {
        // already failing: the write error is the one worth reporting
      }
    }
    if (created) fs.rmSync(temp, { force: true });
    throw writeFailedError(path, error);
  }
  let dirFd: number | undefined;
  try {
    dirFd = fs.openSync(dirname(path), 'r');
    fs.fsyncSync(dirFd);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException)?.code;
    if (!code || !DIR_FSYNC_UNSUPPORTED.has(code)) throw writeFailedError(path, error, 'make durable (directory fsync after rename)');
  } finally {
    if (dirFd !== undefined) fs.closeSync(dirFd);
  }
}

/**
 * JSON has no NaN or Infinity and no typed arrays: write non-finite numbers as `null` and typed arrays as
 * plain arrays rather than failing or producing invalid JSON (metrics of a diverged run stay readable).
 */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) return null;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}

/** {@link writeFileAtomicSync} of pretty JSON ({@link jsonReplacer}) plus a final newline. */
export function writeJsonAtomicSync(path: string, value: unknown): void {
  writeFileAtomicSync(path, `${JSON.stringify(value, jsonReplacer, 2)}\n`);
}

/** {@link writeFileAtomic} of `JSON.stringify(value, null, 2)` plus a final newline. */
export async function writeJsonAtomic(path: string, value: JsonValue | object, options?: AtomicWriteOptions): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, options);
}

/**
 * Rewrites a JSON-lines file atomically from `rows` (one `JSON.stringify` per line). The runner uses it on
 * resume to reset `metrics.jsonl` to the checkpoint's metrics history, dropping rows written after it.
 */
export async function writeJsonLinesAtomic(path: string, rows: readonly unknown[], options?: AtomicWriteOptions): Promise<void> {
  await writeFileAtomic(path, rows.map((row) => `${JSON.stringify(row)}\n`).join(''), options);
}

/**
 * Appends one JSON line (`JSON.stringify(value) + "\n"`) to `path` (created if missing) and fsyncs it.
 * If the write fails part-way (full disk), the file is truncated back to its previous length, so it never
 * ends in half a line because of a failed append. (A SIGKILL in the middle of the write can still leave
 * one; {@link readJsonLines} skips an unterminated last line.)
 *
 * @throws SparseLearningError `E_WRITE_FAILED` naming the path and the OS error.
 */
export async function appendJsonLine(path: string, value: unknown, options?: AtomicWriteOptions): Promise<void> {
  const ops = opsOf(options);
  const line = Buffer.from(`${JSON.stringify(value)}\n`, 'utf8');
  let fd: number | undefined;
  let before: number | undefined;
  try {
    fd = await ops.open(path, 'a', options?.mode ?? 0o644);
    before = await ops.size(fd);
    await ops.write(fd, line);
    await ops.fsync(fd);
    const closing = fd;
    fd = undefined;
    await ops.close(closing);
  } catch (error) {
    if (fd !== undefined) {
      if (before !== undefined) await ops.ftruncate(fd, before).catch(() => undefined);
      await ops.close(fd).catch(() => undefined);
    }
    throw writeFailedError(path, error, 'append to');
  }
}

/**
 * Reads a JSON-lines file. A last line without its newline (a write cut short by a crash) is ignored;
 * any other unparsable line is an error.
 *
 * @throws SparseLearningError `E_DATA_MISSING` when the file cannot be read, `E_DATA_CORRUPT` naming the
 *   file and line of an unparsable line.
 */
export function readJsonLines(path: string): unknown[] {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (error) {
    throw new SparseLearningError('E_DATA_MISSING', `cannot read '${path}': ${(error as Error).message}`, { path }, { cause: error });
  }
  const lines = text.split('\n');
  // After split, the final element is '' when the file ends with '\n', else an unterminated fragment.
  lines.pop();
  const rows: unknown[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      rows.push(JSON.parse(line) as unknown);
    } catch (error) {
      throw new SparseLearningError('E_DATA_CORRUPT', `'${path}' line ${i + 1} is not valid JSON: ${(error as Error).message}`, {
        path,
        line: i + 1,
      });
    }
  });
  return rows;
}
