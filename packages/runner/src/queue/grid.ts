import { createHash } from 'node:crypto';
import { isAbsolute, normalize } from 'node:path';
import { SparseLearningError } from '@sparse-learning/core';
import { configIssueError } from '../config/resolve.js';
import { experimentConfigSchema, type ExperimentConfig } from '../config/schema.js';
import type { RunResults } from '../run/metrics.js';

/** BullMQ key prefix: every key of the runner's queues starts with `sparse-learning:`. */
export const QUEUE_PREFIX = 'sparse-learning';

/** Sorted set of the grids with work (member: grid id, score: submission time); workers serve them oldest first. */
export const GRID_REGISTRY = `${QUEUE_PREFIX}:grids`;

/** Version of {@link QueueJobData}; a worker rejects jobs of another version as bad input. */
export const JOB_DATA_VERSION = 1;

/** The BullMQ queue of one grid: queues are namespaced per grid, so grids never see each other's jobs. */
export function gridQueueName(grid: string): string {
  return `grid-${grid}`;
}

/** What a job carries: one run of the grid, self-contained (no path or credential of the submitter). */
export interface QueueJobData {
  readonly v: number;
  readonly grid: string;
  /** Index of the run in the grid (`WorkerJob.id`). */
  readonly index: number;
  readonly label: string;
  /** Run directory relative to the grid: the worker runs it in `<run-root>/<grid>/<rel>`. */
  readonly rel: string;
  readonly config: ExperimentConfig;
  readonly origins: Readonly<Record<string, string>>;
}

/** Run files that travel home with a finished job (each is small: JSON and a few KB per epoch). */
export const RESULT_FILES = ['results.json', 'metrics.jsonl', 'config.json', 'run.log'] as const;
export type ResultFile = (typeof RESULT_FILES)[number];

/** What a worker returns for a finished run. */
export interface QueueJobResult {
  readonly index: number;
  readonly results: RunResults;
  /** The run's small files, as text, keyed by name (a subset of {@link RESULT_FILES}). */
  readonly files: Partial<Record<ResultFile, string>>;
  /** `host:pid` of the worker that finished it. */
  readonly worker: string;
  /** The checkpoint the run was resumed from (another worker's, on shared storage), or null for a whole run. */
  readonly resumedFrom: string | null;
}

/**
 * The id of a grid: a hash of the comparison directory and every run's path and configuration. Submitting the
 * same grid again while it is still in Redis reattaches to it (same queue, same job ids: nothing runs twice).
 */
export function gridIdOf(outDir: string, runs: readonly { rel: string; config: ExperimentConfig }[]): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ outDir, runs: runs.map((r) => [r.rel, r.config]) }));
  return hash.digest('hex').slice(0, 16);
}

/** True when `rel` stays inside the directory it is joined to (no absolute path, no `..`). */
export function isSafeRelativePath(rel: string): boolean {
  if (rel === '' || isAbsolute(rel) || normalize(rel).startsWith('..')) return false;
  const parts = rel.split(/[\\/]/);
  return !parts.includes('..') && !parts.includes('') && parts.every((p) => /^[\w.=+@,-]+$/.test(p));
}

/**
 * Validates a job's data before anything runs: version, grid id, a run path that stays inside the run root,
 * and the configuration (the same schema as a local run).
 *
 * @throws `E_CONFIG_INVALID` naming what is wrong (a worker fails such a job once, without retries).
 */
export function parseJobData(raw: unknown): QueueJobData {
  const data = raw as Partial<QueueJobData> | null;
  const bad = (problem: string) => new SparseLearningError('E_CONFIG_INVALID', `queue job is invalid: ${problem}`, { problem });
  if (!data || typeof data !== 'object') throw bad('its data is not an object');
  if (data.v !== JOB_DATA_VERSION) throw bad(`data version ${String(data.v)}; this worker reads version ${JOB_DATA_VERSION} (update the workers or the submitter)`);
  if (typeof data.grid !== 'string' || !/^[0-9a-f]{16}$/.test(data.grid)) throw bad(`grid id '${String(data.grid)}' is not 16 hex digits`);
  if (!Number.isInteger(data.index) || (data.index as number) < 0) throw bad(`run index ${String(data.index)} is not an integer >= 0`);
  if (typeof data.rel !== 'string' || !isSafeRelativePath(data.rel)) throw bad(`run path '${String(data.rel)}' is not a relative path inside the run root`);
  const parsed = experimentConfigSchema.safeParse(data.config);
  if (!parsed.success) {
    const issue = configIssueError(parsed.error.issues, (data.config ?? {}) as Record<string, unknown>, () => 'in the queue job');
    throw bad(issue.message.replace(/^\[[A-Z_]+\] /, ''));
  }
  return {
    v: data.v,
    grid: data.grid,
    index: data.index as number,
    label: typeof data.label === 'string' ? data.label : `run ${String(data.index)}`,
    rel: data.rel,
    config: parsed.data,
    origins: data.origins && typeof data.origins === 'object' ? data.origins : {},
  };
}

/** Splits a BullMQ failure reason (`[CODE] message`) into code and message. */
export function parseFailure(reason: string | undefined): { code: string; message: string } {
  const text = reason ?? 'unknown failure';
  const match = /^\[([A-Z_]+)\] ([\s\S]*)$/.exec(text);
  return match ? { code: match[1], message: match[2] } : { code: 'E_ENGINE_STATE', message: text };
}
