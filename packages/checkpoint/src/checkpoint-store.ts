import { mkdir, readFile, readdir, stat, unlink } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { SparseLearningError, isSparseLearningError, outOfRangeError, silentLogger } from '@sparse-learning/core';
import type { Logger } from '@sparse-learning/core';
import { isTempFileOf, writeFailedError, writeFileAtomic, writeJsonAtomic } from './atomic-write.js';
import type { AtomicWriteOptions } from './atomic-write.js';
import { decodeCheckpoint, encodeCheckpointChunks, CHECKPOINT_FORMAT_VERSION } from './checkpoint-format.js';
import type { CheckpointData, LoadedCheckpoint } from './checkpoint-format.js';

/** Name of the pointer file to the newest checkpoint of a directory. */
export const LATEST_POINTER = 'latest.json';
/** Extension of checkpoint files. */
export const CHECKPOINT_EXTENSION = '.slckpt';

const CHECKPOINT_NAME = /^checkpoint-e(\d+)-s(\d+)\.slckpt$/;

/** Contents of `latest.json`. */
export interface LatestPointer {
  /** File name (relative to the directory) of the newest checkpoint. */
  readonly file: string;
  readonly epoch: number;
  readonly step: number;
  readonly sha256: string;
  readonly bytes: number;
  readonly formatVersion: number;
  readonly createdAt: string;
}

/** File name of the checkpoint at `epoch`/`step`: `checkpoint-e<epoch>-s<step>.slckpt`. */
export function checkpointFileName(epoch: number, step: number): string {
  return `checkpoint-e${epoch}-s${step}${CHECKPOINT_EXTENSION}`;
}

/** A checkpoint file found in a directory (not yet verified). */
export interface CheckpointFileInfo {
  readonly path: string;
  readonly file: string;
  readonly epoch: number;
  readonly step: number;
}

/** Checkpoint files of `dir`, newest first (by step, then epoch). Missing directory → empty list. */
export async function listCheckpoints(dir: string): Promise<CheckpointFileInfo[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const found: CheckpointFileInfo[] = [];
  for (const file of names) {
    const m = CHECKPOINT_NAME.exec(file);
    if (m) found.push({ path: join(dir, file), file, epoch: Number(m[1]), step: Number(m[2]) });
  }
  return found.sort((a, b) => b.step - a.step || b.epoch - a.epoch);
}

/** Options of {@link saveCheckpoint}. */
export interface SaveCheckpointOptions extends AtomicWriteOptions {
  /** How many checkpoint files to keep, the new one included (default 2, at least 1). */
  readonly keep?: number;
  readonly logger?: Logger;
}

/** What {@link saveCheckpoint} wrote. */
export interface SavedCheckpoint {
  readonly path: string;
  readonly bytes: number;
  readonly sha256: string;
  /** Older checkpoint files that were deleted. */
  readonly removed: readonly string[];
}

/**
 * Writes `checkpoint` to `<dir>/checkpoint-e<epoch>-s<step>.slckpt` atomically (temp file, fsync, rename,
 * directory fsync), then points `<dir>/latest.json` at it (also atomically), then prunes: keeps the new file
 * plus the `keep - 1` newest older ones and deletes the rest, plus crash leftovers (temporary files) and
 * checkpoints *newer* than this one (a run resumed from an earlier checkpoint has superseded them).
 * Nothing is deleted before the new checkpoint and pointer are durable, so a crash at any instant leaves a
 * loadable checkpoint. The directory is created if missing. One writer per directory.
 *
 * @throws SparseLearningError `E_WRITE_FAILED` (disk full, read-only, ...) — the previous checkpoint and
 *   `latest.json` are then unchanged; `E_OUT_OF_RANGE` for `keep < 1`.
 */
export async function saveCheckpoint(dir: string, checkpoint: CheckpointData, options: SaveCheckpointOptions = {}): Promise<SavedCheckpoint> {
  const keep = options.keep ?? 2;
  if (!Number.isInteger(keep) || keep < 1) throw outOfRangeError('keep', keep, 'an integer >= 1');
  const logger = options.logger ?? silentLogger;
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw writeFailedError(dir, error, 'create the checkpoint directory');
  }
  const file = checkpointFileName(checkpoint.epoch, checkpoint.step);
  const path = join(dir, file);
  const createdAt = checkpoint.createdAt ?? new Date().toISOString();
  const encoded = encodeCheckpointChunks({ ...checkpoint, createdAt });
  await writeFileAtomic(path, encoded.chunks, options);
  const pointer: LatestPointer = {
    file,
    epoch: checkpoint.epoch,
    step: checkpoint.step,
    sha256: encoded.sha256,
    bytes: encoded.byteLength,
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    createdAt,
  };
  await writeJsonAtomic(join(dir, LATEST_POINTER), pointer, options);

  const removed: string[] = [];
  const older = (await listCheckpoints(dir)).filter((c) => c.file !== file);
  const superseded = older.filter((c) => c.step > checkpoint.step);
  const previous = older.filter((c) => c.step <= checkpoint.step);
  for (const c of [...superseded, ...previous.slice(keep - 1)]) {
    try {
      await unlink(c.path);
      removed.push(c.path);
    } catch (error) {
      // Pruning is housekeeping: a failure costs disk space, never data.
      logger.warn(`could not delete old checkpoint '${c.path}': ${(error as Error).message}`, { path: c.path });
    }
  }
  if (superseded.length > 0) {
    logger.info(`removed ${superseded.length} checkpoint(s) newer than step ${checkpoint.step}, superseded by this run`, {
      files: superseded.map((c) => c.file),
    });
  }
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (isTempFileOf(name) && (CHECKPOINT_NAME.test(name.slice(1).replace(/\.tmp-.*$/, '')) || name.startsWith(`.${LATEST_POINTER}.tmp-`))) {
      await unlink(join(dir, name)).catch(() => undefined);
    }
  }
  return { path, bytes: encoded.byteLength, sha256: encoded.sha256, removed };
}

/** Options of {@link loadCheckpoint}. */
export interface LoadCheckpointOptions {
  /** Receives a warning when the latest checkpoint is unusable and an older one is loaded. */
  readonly logger?: Logger;
}

async function readCheckpointFile(path: string): Promise<LoadedCheckpoint> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new SparseLearningError('E_CHECKPOINT_INVALID', `cannot read checkpoint '${path}': ${(error as Error).message}`, {
      path,
      reason: code === 'ENOENT' ? 'missing' : 'unreadable',
    });
  }
  return decodeCheckpoint(bytes, path);
}

async function readPointer(dir: string): Promise<{ pointer?: LatestPointer; problem?: string }> {
  const path = join(dir, LATEST_POINTER);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return { problem: `${LATEST_POINTER} is missing (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})` };
  }
  try {
    const pointer = JSON.parse(text) as LatestPointer;
    if (typeof pointer?.file !== 'string' || basename(pointer.file) !== pointer.file) {
      return { problem: `${LATEST_POINTER} does not name a checkpoint file` };
    }
    return { pointer };
  } catch (error) {
    return { problem: `${LATEST_POINTER} is not valid JSON (${(error as Error).message})` };
  }
}

/**
 * Loads a checkpoint from a file, or from a run directory: the one `latest.json` points to, or — when that
 * is missing, truncated, corrupted or `latest.json` itself is damaged — the newest checkpoint file that
 * verifies, with a warning on `logger` naming what was wrong (`fellBack: true` on the result).
 *
 * A checkpoint from a newer, unknown format is not skipped (that would silently drop progress): its
 * `E_CHECKPOINT_INCOMPATIBLE` is thrown.
 *
 * @throws SparseLearningError `E_CHECKPOINT_INVALID` when no checkpoint verifies (each file's problem is
 *   listed) or the directory holds none; `E_CHECKPOINT_INCOMPATIBLE` for a newer format/schema.
 */
export async function loadCheckpoint(dirOrFile: string, options: LoadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  const logger = options.logger ?? silentLogger;
  const target = resolve(dirOrFile);
  let isDir: boolean;
  try {
    isDir = (await stat(target)).isDirectory();
  } catch {
    throw new SparseLearningError('E_CHECKPOINT_INVALID', `no checkpoint at '${dirOrFile}': the path does not exist`, {
      path: dirOrFile,
      reason: 'missing',
    });
  }
  if (!isDir) return readCheckpointFile(target);

  const { pointer, problem: pointerProblem } = await readPointer(target);
  const files = await listCheckpoints(target);
  const candidates: string[] = [];
  if (pointer) candidates.push(join(target, pointer.file));
  for (const f of files) if (!candidates.includes(f.path)) candidates.push(f.path);
  if (candidates.length === 0) {
    throw new SparseLearningError('E_CHECKPOINT_INVALID', `no checkpoint in '${dirOrFile}' (no ${LATEST_POINTER}, no checkpoint-*.slckpt files)`, {
      path: dirOrFile,
      reason: 'missing',
    });
  }
  const failures: string[] = pointerProblem ? [pointerProblem] : [];
  for (const [i, path] of candidates.entries()) {
    try {
      const loaded = await readCheckpointFile(path);
      const fellBack = i > 0 || pointer === undefined;
      if (failures.length > 0) {
        logger.warn(`latest checkpoint unusable (${failures.join('; ')}); resuming from the older '${basename(path)}' (epoch ${loaded.epoch}, step ${loaded.step})`, {
          path,
          problems: failures,
        });
      }
      return { ...loaded, fellBack };
    } catch (error) {
      if (!isSparseLearningError(error, 'E_CHECKPOINT_INVALID')) throw error;
      failures.push(error.message);
    }
  }
  throw new SparseLearningError(
    'E_CHECKPOINT_INVALID',
    `no valid checkpoint in '${dirOrFile}': ${failures.join('; ')}`,
    { path: dirOrFile, reason: 'none-valid', problems: failures },
  );
}
