import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SparseLearningError } from '@sparse-learning/core';
import { jsonReplacer, writeFileAtomic, writeJsonAtomic } from '../io/atomic-write.js';
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
  /** Keep the existing `run.log` and append to it (a resumed run). */
  readonly keepLog?: boolean;
}

/**
 * A run directory: `config.json` (resolved configuration, where each field came from, backend and reason),
 * `metrics.jsonl` (one {@link EpochMetrics} per line), `results.json`, `run.log`. Every file is rewritten
 * atomically (temp file + fsync + rename), so a crash leaves the previous complete version.
 */
export class RunDirectory {
  readonly path: string;
  private readonly lines: string[] = [];
  private readonly logLines: string[] = [];

  constructor(path: string, options: RunDirectoryOptions = {}) {
    this.path = resolve(path);
    try {
      mkdirSync(this.path, { recursive: true });
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new SparseLearningError('E_WRITE_FAILED', `could not create run directory '${this.path}': ${reason}`, { path: this.path }, { cause: error });
    }
    if (options.keepLog && existsSync(this.file(RUN_FILES.log))) {
      this.logLines.push(...readFileSync(this.file(RUN_FILES.log), 'utf8').split('\n').filter((line) => line !== ''));
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
    writeFileAtomic(this.file(RUN_FILES.metrics), this.lines.length ? `${this.lines.join('\n')}\n` : '');
  }

  /** Appends a resume record to `config.json` (`resumes: [...]`), leaving the rest as the first session wrote it. */
  recordResume(entry: Record<string, unknown>): void {
    const path = this.file(RUN_FILES.config);
    const current = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>) : {};
    const resumes = Array.isArray(current.resumes) ? current.resumes : [];
    writeJsonAtomic(path, { ...current, resumes: [...resumes, entry] });
  }

  file(name: string): string {
    return join(this.path, name);
  }

  writeConfig(value: unknown): void {
    writeJsonAtomic(this.file(RUN_FILES.config), value);
  }

  /** Appends one epoch and rewrites `metrics.jsonl` atomically (a few KB per epoch: cheap, and never torn). */
  appendMetrics(metrics: EpochMetrics): void {
    this.lines.push(JSON.stringify(metrics, jsonReplacer));
    writeFileAtomic(this.file(RUN_FILES.metrics), `${this.lines.join('\n')}\n`);
  }

  writeResults(results: RunResults): void {
    writeJsonAtomic(this.file(RUN_FILES.results), results);
  }

  /** Appends a log line; the log file is flushed with {@link RunDirectory.flushLog}. */
  log(line: string): void {
    this.logLines.push(line);
  }

  flushLog(): void {
    writeFileAtomic(this.file(RUN_FILES.log), this.logLines.length ? `${this.logLines.join('\n')}\n` : '');
  }
}

/** Reads `metrics.jsonl` of a run directory (empty when absent). */
export function readMetrics(dir: string): EpochMetrics[] {
  const path = join(dir, RUN_FILES.metrics);
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as EpochMetrics);
}

/** Reads a JSON file of a run directory, or null when absent. */
export function readJson<T>(dir: string, name: string): T | null {
  const path = join(dir, name);
  if (!existsSync(path)) return null;
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}
