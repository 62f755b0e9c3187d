import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SparseLearningError, isSparseLearningError, type Logger } from '@sparse-learning/core';
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { ExperimentConfig } from '../config/schema.js';
import type { EpochMetrics, RunResults } from '../run/metrics.js';
import { RESUME_HARMLESS_FIELDS, loadResumePoint } from '../run/resume.js';
import { RESULT_FILES, parseJobData, type QueueJobData, type QueueJobResult, type ResultFile } from './grid.js';
import type { JobProcessMessage, JobProcessRequest } from './job-process.js';

/**
 * Failures that another attempt may cure (a write that failed for lack of space, an engine state that a
 * fresh process does not share). Every other coded failure is deterministic bad input or a diverged run:
 * it fails once and is not retried (BullMQ `UnrecoverableError`).
 */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set(['E_WRITE_FAILED', 'E_ENGINE_STATE', 'E_BACKEND_UNAVAILABLE']);

/** How long a job waits before trying a run directory that another (lost) worker's lock still holds. */
const LOCKED_RETRY_MS = 30_000;

/** Where the job-process entry is: next to the built bundle (`dist/queue/job-process.js`) or in the sources (tsx). */
export function jobProcessEntry(): { file: string; execArgv: string[] } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    return { file: join(dirname(here), 'job-process.ts'), execArgv: ['--import', tsx, '--conditions=source'] };
  }
  const ext = here.endsWith('.cjs') ? ['cjs', 'js'] : ['js', 'cjs'];
  const base = dirname(here).endsWith('queue') ? dirname(here) : join(dirname(here), 'queue');
  const file = ext.map((e) => join(base, `job-process.${e}`)).find((p) => existsSync(p));
  if (!file) throw new SparseLearningError('E_ENGINE_STATE', `queue job entry not found in ${base}; rebuild @sparse-learning/runner`, { here });
  return { file, execArgv: [] };
}

/** How a run starts on this worker. */
export type RunPlan =
  | { readonly mode: 'fresh' }
  | { readonly mode: 'resume'; readonly from: string; readonly epoch: number; readonly step: number }
  | { readonly mode: 'finished' };

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/** The configuration without the fields a resume may change (backend, data directory). */
function runIdentity(config: ExperimentConfig): string {
  const copy: Record<string, unknown> = { ...config };
  for (const field of RESUME_HARMLESS_FIELDS) delete copy[field];
  return canonical(copy);
}

/**
 * Decides how a job's run starts in `runDir`. A directory with a valid checkpoint of the same run (an earlier
 * attempt on shared storage, or on this machine) is resumed from it — or just collected when it already
 * finished; a directory without a checkpoint starts afresh (deterministic: the same result). A checkpoint
 * that is corrupt or belongs to another configuration is never deleted: the directory is renamed to
 * `<dir>.stale-<time>` and the run starts afresh.
 */
export async function planRun(runDir: string, config: ExperimentConfig, logger: Logger): Promise<RunPlan> {
  if (!existsSync(runDir) || !readdirSync(runDir).some((f) => f.endsWith('.slckpt'))) return { mode: 'fresh' };
  let problem: string;
  try {
    const point = await loadResumePoint(runDir, logger);
    if (runIdentity(point.config) === runIdentity(config)) {
      if (point.extra.complete && existsSync(join(runDir, 'results.json'))) return { mode: 'finished' };
      return { mode: 'resume', from: point.checkpoint.path.split(/[\\/]/).pop() ?? '', epoch: point.checkpoint.epoch, step: point.checkpoint.step };
    }
    problem = 'its checkpoint belongs to another configuration';
  } catch (error) {
    if (!isSparseLearningError(error)) throw error;
    problem = error.message;
  }
  const aside = `${runDir}.stale-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  renameSync(runDir, aside);
  logger.warn(`${runDir}: ${problem}; moved it to ${aside} and starting the run afresh`);
  return { mode: 'fresh' };
}

/** Reads the small files of a finished run (what travels home through the queue). */
export function readRunFiles(runDir: string): Partial<Record<ResultFile, string>> {
  const files: Partial<Record<ResultFile, string>> = {};
  for (const name of RESULT_FILES) {
    const path = join(runDir, name);
    if (existsSync(path)) files[name] = readFileSync(path, 'utf8');
  }
  return files;
}

/** Outcome of one run in a job process. */
type ChildOutcome =
  | Extract<JobProcessMessage, { type: 'done' | 'interrupted' | 'failed' }>
  | { readonly type: 'crashed'; readonly code: number | null; readonly signal: NodeJS.Signals | null; readonly stderr: string };

/** Runs one request in a fresh job process and resolves with its outcome. */
export function runInChild(
  request: JobProcessRequest,
  options: { readonly threads: number; readonly children: Set<ChildProcess>; readonly onEpoch?: (metrics: EpochMetrics) => void; readonly onBackend?: (backend: string) => void },
): Promise<ChildOutcome> {
  const { file, execArgv } = jobProcessEntry();
  return new Promise((resolveOutcome) => {
    const child = fork(file, [], {
      execArgv,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, SPARSE_LEARNING_WORKER: '1', SPARSE_LEARNING_NATIVE_THREADS: process.env.SPARSE_LEARNING_NATIVE_THREADS ?? String(options.threads) },
    });
    options.children.add(child);
    let outcome: ChildOutcome | null = null;
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    child.on('message', (message: JobProcessMessage) => {
      if (message.type === 'backend') options.onBackend?.(message.backend);
      else if (message.type === 'epoch') options.onEpoch?.(message.metrics);
      else outcome = message;
    });
    child.on('exit', (code, signal) => {
      options.children.delete(child);
      resolveOutcome(outcome ?? { type: 'crashed', code, signal, stderr: stderr.trim().split('\n').slice(-5).join(' | ') });
    });
    child.send(request);
  });
}

/** What {@link processJob} needs from its worker. */
export interface JobContext {
  readonly runRoot: string;
  readonly logger: Logger;
  /** Native threads per job process (the worker's share of the cores). */
  readonly threads: number;
  /** Live job processes (the worker forwards SIGINT/SIGTERM to them). */
  readonly children: Set<ChildProcess>;
  /** A line for the worker's output. */
  readonly say: (line: string) => void;
}

/**
 * The BullMQ processor of a queue worker: validates the job (bad data fails once, `UnrecoverableError`),
 * plans the run in `<run-root>/<grid>/<rel>` ({@link planRun}: fresh, resumed from a checkpoint, or already
 * finished), runs it in a job process, and returns the results and the run's small files. A run stopped by a
 * signal, or whose directory a lost worker's lock still holds (`E_RUN_LOCKED`), goes back to the queue without
 * using an attempt; a crashed job process is an ordinary failure
 * (retried up to the job's attempts); a coded failure that is not in {@link RETRYABLE_CODES} is final.
 */
export async function processJob(job: Job<QueueJobData, QueueJobResult>, token: string | undefined, ctx: JobContext): Promise<QueueJobResult> {
  let data: QueueJobData;
  try {
    data = parseJobData(job.data);
  } catch (error) {
    ctx.say(`job ${job.id}: ${(error as Error).message} (not retried)`);
    throw new UnrecoverableError((error as Error).message);
  }
  const runDir = join(ctx.runRoot, data.grid, data.rel);
  const name = `[grid ${data.grid.slice(0, 8)}] ${data.label}`;
  const plan = await planRun(runDir, data.config, ctx.logger);
  const worker = `${hostname()}:${process.pid}`;
  if (plan.mode === 'finished') {
    ctx.say(`${name}: already finished in ${runDir}; sending its results`);
    const results = JSON.parse(readFileSync(join(runDir, 'results.json'), 'utf8')) as RunResults;
    return { index: data.index, results, files: readRunFiles(runDir), worker, resumedFrom: null };
  }
  ctx.say(
    plan.mode === 'resume'
      ? `${name}: resuming from ${plan.from} (epoch ${plan.epoch}, step ${plan.step}), attempt ${job.attemptsMade + 1}`
      : `${name}: started, attempt ${job.attemptsMade + 1}`,
  );
  const outcome = await runInChild(
    { type: 'run', config: data.config, origins: data.origins, runDir, resume: plan.mode === 'resume' },
    {
      threads: ctx.threads,
      children: ctx.children,
      onEpoch: (metrics) => {
        void job.updateProgress({ epoch: metrics.epoch, epochs: data.config.epochs }).catch(() => undefined);
      },
    },
  );
  if (outcome.type === 'done') {
    ctx.say(`${name}: done, test error ${(100 * outcome.results.testError).toFixed(2)} % in ${outcome.results.seconds.toFixed(1)} s`);
    return { index: data.index, results: outcome.results, files: readRunFiles(runDir), worker, resumedFrom: plan.mode === 'resume' ? plan.from : null };
  }
  if (outcome.type === 'interrupted') {
    // Stopped by a signal with a checkpoint: back to the queue without using an attempt.
    ctx.say(`${name}: stopped at step ${outcome.step} with a checkpoint; returned to the queue`);
    await job.moveToDelayed(Date.now() + 1000, token);
    throw new DelayedError();
  }
  if (outcome.type === 'crashed') {
    const message = `job process exited (code ${outcome.code}, signal ${outcome.signal}) during the run: ${outcome.stderr}`;
    ctx.say(`${name}: ${message}`);
    throw new Error(`[E_ENGINE_STATE] ${message}`);
  }
  const text = `[${outcome.error.code}] ${outcome.error.message}`;
  if (outcome.error.code === 'E_RUN_LOCKED') {
    // The run directory is still locked by a lost worker on another host (shared run root): the lock expires
    // on its own; wait for it without using an attempt.
    ctx.say(`${name}: run directory still locked by a lost worker; trying again in ${LOCKED_RETRY_MS / 1000} s`);
    await job.moveToDelayed(Date.now() + LOCKED_RETRY_MS, token);
    throw new DelayedError();
  }
  if (RETRYABLE_CODES.has(outcome.error.code)) {
    ctx.say(`${name}: failed ${text} (will retry if attempts remain)`);
    throw new Error(text);
  }
  ctx.say(`${name}: failed ${text} (not retried)`);
  throw new UnrecoverableError(text);
}
