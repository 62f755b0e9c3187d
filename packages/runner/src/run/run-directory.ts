import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SparseLearningError } from '@sparse-learning/core';
import { jsonReplacer, writeFileAtomicSync, writeJsonAtomicSync } from '@sparse-learning/checkpoint';
import type { EpochMetrics, RunResults } from './metrics.js';

/** File names inside a run directory. */
export const RUN_FILES = {
  config: 'config.json',
  metrics: 'metrics.jsonl',
  results: 'results.json',
  log: 'run.log',
  export: 'model.slsparse',
} as const;

/** Marker a run writes when it holds at a step for a test (see `RunExperimentOptions.holdAtStep`). */
export const HOLD_MARKER = '.hold';

/** Options of {@link RunDirectory}. */
export interface RunDirectoryOptions {
  /**
   * Kept for compatibility: `run.log` is always appended to (a resumed run continues the log of the sessions
   * before it; a new run starts in a directory without one, see `checkRunDirectory`).
   */
  readonly keepLog?: boolean;
}

/**
 * A run directory: `config.json` (resolved configuration, where each field came from, backend and reason),
 * `metrics.jsonl` (one {@link EpochMetrics} per line), `results.json`, `run.log`. Every file but the log is
 * rewritten atomically (temp file + fsync + rename), so a crash leaves the previous complete version. The log
 * is appended line by line as the run goes (a crash keeps every line written before it) and synced to disk by
 * {@link RunDirectory.flushLog} (the runner calls it after every epoch and on every warning and error).
 */
export class RunDirectory {
  readonly path: string;
  private readonly lines: string[] = [];
  private logFd: number | null = null;

  constructor(path: string, _options: RunDirectoryOptions = {}) {
    this.path = resolve(path);
    try {
      mkdirSync(this.path, { recursive: true });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new SparseLearningError('E_WRITE_FAILED', `could not create run directory '${this.path}': ${reason}`, { path: this.path }, { cause: error });
    }
  }

  /** Lines of `metrics.jsonl` written so far (completed epochs). */
  get metricsCount(): number {
    return this.lines.length;
  }

  /**
   * Replaces `metrics.jsonl` with `history` (a resumed run: rows written after the checkpoint are dropped, so
   * the file matches the state training continues from).
   */
  resetMetrics(history: readonly EpochMetrics[]): void {
    this.lines.length = 0;
    this.lines.push(...history.map((m) => JSON.stringify(m, jsonReplacer)));
    writeFileAtomicSync(this.file(RUN_FILES.metrics), this.lines.length ? `${this.lines.join('\n')}\n` : '');
  }

  /** Appends a resume record to `config.json` (`resumes: [...]`), leaving the rest as the first session wrote it. */
  recordResume(entry: Record<string, unknown>): void {
    const path = this.file(RUN_FILES.config);
    const current = readJson<Record<string, unknown>>(this.path, RUN_FILES.config) ?? {};
    const resumes = Array.isArray(current.resumes) ? current.resumes : [];
    writeJsonAtomicSync(path, { ...current, resumes: [...resumes, entry] });
  }

  file(name: string): string {
    return join(this.path, name);
  }

  writeConfig(value: unknown): void {
    writeJsonAtomicSync(this.file(RUN_FILES.config), value);
  }

  /** Appends one epoch and rewrites `metrics.jsonl` atomically (a few KB per epoch: cheap, and never torn). */
  appendMetrics(metrics: EpochMetrics): void {
    this.lines.push(JSON.stringify(metrics, jsonReplacer));
    writeFileAtomicSync(this.file(RUN_FILES.metrics), `${this.lines.join('\n')}\n`);
  }

  writeResults(results: RunResults): void {
    writeJsonAtomicSync(this.file(RUN_FILES.results), results);
  }

  /** Appends a line to `run.log` at once (opened in append mode on first use). */
  log(line: string): void {
    this.logFd ??= openSync(this.file(RUN_FILES.log), 'a');
    writeSync(this.logFd, `${line}\n`);
  }

  /** Syncs `run.log` to disk, so that it survives a crash of the machine, not only of the process. */
  flushLog(): void {
    if (this.logFd !== null) fsyncSync(this.logFd);
  }

  /** Syncs and closes `run.log` (the end of a session; a later {@link RunDirectory.log} reopens it). */
  closeLog(): void {
    if (this.logFd === null) return;
    const fd = this.logFd;
    this.logFd = null;
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

function corrupt(path: string, problem: string, cause?: unknown): SparseLearningError {
  return new SparseLearningError('E_DATA_CORRUPT', `'${path}' ${problem}`, { path }, cause === undefined ? undefined : { cause });
}

/**
 * Reads `metrics.jsonl` of a run directory (empty when absent). A last line that does not parse is what a
 * crash in the middle of an append leaves: it is skipped and `onWarning` told. Any other bad line is
 * `E_DATA_CORRUPT` naming the file and the line.
 */
export function readMetrics(dir: string, onWarning: (message: string) => void = () => undefined): EpochMetrics[] {
  const path = join(dir, RUN_FILES.metrics);
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  const last = lines.reduce((at, line, i) => (line.trim() !== '' ? i : at), -1);
  const rows: EpochMetrics[] = [];
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (error) {
      if (i === last) {
        onWarning(`skipped the truncated last line ${i + 1} of '${path}' (${line.length} characters; a run stopped while writing it): ${rows.length} epoch${rows.length === 1 ? '' : 's'} read`);
        break;
      }
      throw corrupt(path, `line ${i + 1} is not valid JSON (${(error as Error).message}); metrics.jsonl holds one JSON object per epoch`, error);
    }
    const record = row as Partial<Record<keyof EpochMetrics, unknown>> | null;
    if (typeof record !== 'object' || record === null || typeof record.epoch !== 'number' || !Array.isArray(record.layers)) {
      throw corrupt(path, `line ${i + 1} is not an epoch record (it needs a numeric 'epoch' and a 'layers' list)`);
    }
    const redistribution = Array.isArray(record.redistribution) ? record.redistribution : null;
    rows.push({ ...(record as unknown as EpochMetrics), redistribution } as EpochMetrics);
  }
  return rows;
}

/** Reads a JSON file of a run directory, or null when absent; `E_DATA_CORRUPT` naming the file when it does not parse. */
export function readJson<T>(dir: string, name: string): T | null {
  const path = join(dir, name);
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (error) {
    throw corrupt(path, `is not valid JSON (${(error as Error).message})`, error);
  }
}
