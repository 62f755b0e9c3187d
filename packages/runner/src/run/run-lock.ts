import { existsSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { SparseLearningError, silentLogger, type Logger } from '@sparse-learning/core';
import lockfile from 'proper-lockfile';
import { writeJsonAtomicSync } from '@sparse-learning/checkpoint';

/** The lock of a run directory: a directory created atomically (`mkdir`) by `proper-lockfile`. */
export const RUN_LOCK_DIR = '.sparse-learning.lock';
/** Who holds the lock (pid, host, command, since): written next to the lock right after it is taken. */
export const RUN_LOCK_OWNER = '.sparse-learning.lock-owner.json';

/** What {@link RUN_LOCK_OWNER} records. */
export interface RunLockOwner {
  readonly pid: number;
  readonly hostname: string;
  readonly command: string;
  readonly since: string;
}

/** A held run-directory lock. */
export interface RunLock {
  readonly dir: string;
  /** Releases the lock (idempotent). Process exit releases it too (`proper-lockfile` uses `signal-exit`). */
  release(): Promise<void>;
}

/**
 * A lock whose owner file cannot be read is treated as abandoned once its directory has not been touched for
 * this long (a process that died between taking the lock and naming itself).
 */
const UNNAMED_STALE_MS = 30_000;
/** A lock held from another host (a shared file system) is reclaimed when not refreshed for this long. */
const REMOTE_STALE_MS = 10 * 60_000;
/**
 * The library's own mtime staleness is effectively disabled: a training step can block the event loop for
 * seconds (evaluation of a large model), which must never let another process steal a live lock. Liveness is
 * decided by the holder's pid instead (same host) or by {@link REMOTE_STALE_MS} (another host).
 */
const NEVER_STALE_MS = 24 * 3600_000;

function readOwner(dir: string): RunLockOwner | null {
  try {
    const owner = JSON.parse(readFileSync(join(dir, RUN_LOCK_OWNER), 'utf8')) as RunLockOwner;
    return Number.isInteger(owner.pid) ? owner : null;
  } catch {
    return null;
  }
}

/** True when process `pid` exists on this host (EPERM: it exists but belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Why a held lock may be reclaimed, or null when its holder is (or may be) alive. */
function abandonment(dir: string, owner: RunLockOwner | null): string | null {
  let age: number;
  try {
    age = Date.now() - statSync(join(dir, RUN_LOCK_DIR)).mtimeMs;
  } catch {
    return 'the lock disappeared';
  }
  if (!owner) return age > UNNAMED_STALE_MS ? `an unnamed lock untouched for ${Math.round(age / 1000)} s` : null;
  if (owner.hostname === hostname()) return processAlive(owner.pid) ? null : `process ${owner.pid} no longer runs`;
  return age > REMOTE_STALE_MS ? `process ${owner.pid} on ${owner.hostname} has not refreshed it for ${Math.round(age / 1000)} s` : null;
}

function lockedError(dir: string, owner: RunLockOwner | null): SparseLearningError {
  const holder = owner
    ? `process ${owner.pid} (${owner.command}, since ${owner.since}${owner.hostname === hostname() ? '' : ` on host ${owner.hostname}`})`
    : 'another process (it has not named itself yet)';
  return new SparseLearningError(
    'E_RUN_LOCKED',
    `run directory '${dir}' is in use by ${holder}; one process at a time may train, resume or export a run. Wait for it to finish or stop it (Ctrl-C saves a checkpoint), then retry; a lock left by a process that no longer runs is reclaimed automatically`,
    { dir, pid: owner?.pid ?? null, holder: owner },
  );
}

/**
 * Takes the exclusive lock of a run directory (which must exist) for `command`, held until
 * {@link RunLock.release} or the end of the process. A second `train`, `train --resume` or `export` on the
 * same directory fails at once with `E_RUN_LOCKED` naming the holder's pid. A lock whose holder no longer
 * runs (killed with SIGKILL, a crash, a power cut) is reclaimed, with a warning on `logger`.
 *
 * The lock is `proper-lockfile`'s (an atomic `mkdir` of {@link RUN_LOCK_DIR}, refreshed in the background);
 * the holder names itself in {@link RUN_LOCK_OWNER}.
 */
export async function acquireRunLock(dir: string, command: string, logger: Logger = silentLogger): Promise<RunLock> {
  const lockPath = join(dir, RUN_LOCK_DIR);
  let compromised: Error | null = null;
  const options = (stale: number): lockfile.LockOptions => ({
    lockfilePath: lockPath,
    realpath: false,
    retries: 0,
    stale,
    update: 10_000,
    // The lock directory was removed or replaced under us: keep training (the data is ours), but say so.
    onCompromised: (error) => {
      compromised = error;
      logger.warn(`the lock of run directory '${dir}' was taken away (${error.message}); another process may now write there`);
    },
  });
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(dir, options(NEVER_STALE_MS));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ELOCKED') {
      throw new SparseLearningError('E_WRITE_FAILED', `cannot lock run directory '${dir}': ${(error as Error).message}`, { dir }, { cause: error });
    }
    const owner = readOwner(dir);
    const why = abandonment(dir, owner);
    if (why === null) throw lockedError(dir, owner);
    logger.warn(`reclaiming the lock of run directory '${dir}': ${why}`);
    try {
      // Age the abandoned lock so that proper-lockfile's own stale check removes and retakes it atomically.
      if (existsSync(lockPath)) utimesSync(lockPath, 0, 0);
      release = await lockfile.lock(dir, options(2_000));
    } catch (retry) {
      if ((retry as NodeJS.ErrnoException).code === 'ELOCKED') throw lockedError(dir, readOwner(dir));
      throw retry;
    }
  }
  const owner: RunLockOwner = { pid: process.pid, hostname: hostname(), command, since: new Date().toISOString() };
  writeJsonAtomicSync(join(dir, RUN_LOCK_OWNER), owner);
  let released = false;
  return {
    dir,
    release: async () => {
      if (released) return;
      released = true;
      const current = readOwner(dir);
      if (current && current.pid === process.pid) rmSync(join(dir, RUN_LOCK_OWNER), { force: true });
      if (!compromised) await release().catch(() => undefined);
    },
  };
}
