import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SparseLearningError, silentLogger, type Logger } from '@sparse-learning/core';
import { HOLD_MARKER, RUN_FILES } from './run-directory.js';
import { RUN_LOCK_DIR, RUN_LOCK_OWNER, acquireRunLock, type RunLock } from './run-lock.js';

/** Files (besides checkpoints) that mark a directory as a run or comparison directory. */
const RUN_MARKERS = [RUN_FILES.config, RUN_FILES.metrics, RUN_FILES.results, 'latest.json', 'compare.json'];
/** A checkpoint file name (`@sparse-learning/checkpoint`). */
const CHECKPOINT_FILE = /^checkpoint-e\d+-s\d+\.slckpt$/;

/**
 * Every file a run writes into its directory: what `--force` replaces, and nothing else (a user's notes, data
 * or other files in the directory are never touched). `compare.*` and `runs/` belong to a comparison.
 */
export function isRunFile(name: string): boolean {
  return (
    (Object.values(RUN_FILES) as string[]).includes(name) ||
    CHECKPOINT_FILE.test(name) ||
    ['latest.json', 'report.html', 'compare.json', 'compare.md', HOLD_MARKER].includes(name)
  );
}

/** The entries of `dir` besides the lock, or null when it does not exist. */
function entriesOf(dir: string): string[] | null {
  try {
    if (!statSync(dir).isDirectory()) return null;
    return readdirSync(dir).filter((name) => name !== RUN_LOCK_DIR && name !== RUN_LOCK_OWNER);
  } catch {
    return null;
  }
}

function listed(names: readonly string[]): string {
  const shown = names.slice(0, 5).join(', ');
  return names.length > 5 ? `${shown}, … (${names.length} entries)` : shown;
}

/** Options of {@link checkRunDirectory} and {@link claimRunDirectory}. */
export interface RunDirectoryClaim {
  /** `train` or `compare`: how the error message tells the user to continue. */
  readonly kind?: 'run' | 'comparison';
  /** `--force`/`--overwrite`: replace an earlier run's own files (see {@link isRunFile}); keep everything else. */
  readonly overwrite?: boolean;
}

/**
 * Refuses to write a new run or comparison into a directory that is not empty (`E_RUN_EXISTS`): an earlier
 * run there (forgetting `--resume` would replace it and delete its checkpoints), or any other file. With
 * `overwrite` it removes the earlier run's own files ({@link isRunFile}; a comparison's `runs/` tree too)
 * and leaves every other file as it is. A directory that does not exist or is empty passes.
 */
export function checkRunDirectory(dir: string, options: RunDirectoryClaim = {}, logger: Logger = silentLogger): void {
  const entries = entriesOf(dir);
  // Empty, or only the log of an attempt that failed before training started (bad data, say): the new run
  // appends to that log.
  if (!entries || entries.length === 0 || (entries.length === 1 && entries[0] === RUN_FILES.log)) return;
  const comparison = options.kind === 'comparison';
  if (!options.overwrite) {
    const checkpoints = entries.filter((name) => CHECKPOINT_FILE.test(name)).length;
    const holdsRun = checkpoints > 0 || entries.some((name) => RUN_MARKERS.includes(name));
    const what = holdsRun
      ? `already holds a ${entries.includes('compare.json') ? 'comparison' : 'run'} (${listed(entries)}${checkpoints ? `; ${checkpoints} checkpoint${checkpoints === 1 ? '' : 's'}` : ''})`
      : `is not empty (${listed(entries)})`;
    const resume = holdsRun && !comparison && !entries.includes('compare.json') ? `continue that run with \`sparse-learning train --resume ${dir}\`, ` : '';
    throw new SparseLearningError(
      'E_RUN_EXISTS',
      `'${dir}' ${what}: nothing was written. To keep it, ${resume}choose another --out directory (or none for a fresh one under runs/); to replace it, pass --force (only sparse-learning's own files there are replaced; other files are kept)`,
      { dir, entries, holdsRun },
    );
  }
  const removed: string[] = [];
  for (const name of entries) {
    // A comparison's `runs/` tree is its own (also when an interrupted comparison never wrote compare.json).
    if (isRunFile(name) || (name === 'runs' && (entries.includes('compare.json') || comparison))) {
      rmSync(join(dir, name), { recursive: true, force: true });
      removed.push(name);
    }
  }
  if (removed.length > 0) logger.warn(`--force: replaced the earlier run's files in '${dir}': ${listed(removed)}`);
}

/**
 * Claims a run directory for one process: creates it if needed, takes its lock ({@link acquireRunLock}: a
 * second process fails with `E_RUN_LOCKED` naming the holder), and — for a new run, not a resume — checks it
 * under the lock with {@link checkRunDirectory}, so that two processes never both decide the directory is free.
 * `resuming` skips that check (a resume, or a caller that checked the directory itself, as `compare` does).
 *
 * @throws `E_WRITE_FAILED` (cannot create), `E_RUN_LOCKED`, `E_RUN_EXISTS`.
 */
export async function claimRunDirectory(
  outDir: string,
  options: RunDirectoryClaim & { readonly resuming?: boolean; readonly command?: string; readonly logger?: Logger } = {},
): Promise<RunLock> {
  const dir = resolve(outDir);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SparseLearningError('E_WRITE_FAILED', `could not create run directory '${dir}': ${reason}`, { path: dir }, { cause: error });
  }
  const lock = await acquireRunLock(dir, options.command ?? (options.resuming ? 'train --resume' : 'train'), options.logger);
  if (!options.resuming) {
    try {
      checkRunDirectory(dir, options, options.logger);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }
  return lock;
}
