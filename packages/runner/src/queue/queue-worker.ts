import type { ChildProcess } from 'node:child_process';
import { availableParallelism, hostname } from 'node:os';
import { resolve } from 'node:path';
import { silentLogger, type Logger } from '@sparse-learning/core';
import { Queue, Worker } from 'bullmq';
import { parseQueueUrl, probeRedis, redisClient, redisOptions } from './connection.js';
import { GRID_REGISTRY, QUEUE_PREFIX, gridQueueName, type QueueJobData, type QueueJobResult } from './grid.js';
import { processJob } from './run-job.js';

/** Options of {@link runQueueWorker}. */
export interface QueueWorkerOptions {
  /** `redis://[[user]:password@]host[:port][/db]` or `rediss://…`. */
  readonly url: string;
  /** Runs at the same time, each in its own process (default 1). */
  readonly concurrency?: number;
  /**
   * Where runs are trained: `<runRoot>/<grid>/runs/<cell>`. Point every worker at the same shared directory
   * (NFS, …) and a job taken over from a lost worker resumes from its last checkpoint; otherwise it restarts.
   */
  readonly runRoot: string;
  /**
   * Seconds a job's lock lives without renewal (default 30): a worker that dies loses its jobs after about
   * this long, plus one stalled-check interval of the same length.
   */
  readonly lockSeconds?: number;
  /** Stop after this many seconds with no grid to work on (default: run until stopped). */
  readonly idleExitSeconds?: number;
  /** Aborting it stops the worker: job processes save a checkpoint and their jobs go back to the queue. */
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /** Progress lines for the worker's output (credentials never appear in them). */
  readonly say?: (line: string) => void;
  /** How often the worker looks for grids (default 1000 ms). */
  readonly pollMs?: number;
}

/** What a worker did before it stopped. */
export interface QueueWorkerSummary {
  readonly completed: number;
  readonly failed: number;
  readonly grids: number;
}

/** Waits `ms`, or less when `signal` aborts (its listener is removed either way). */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((r) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      r();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * `sparse-learning worker --queue <url>`: serves the grids registered in Redis, oldest first, one BullMQ
 * worker at a time with `concurrency` job processes. Workers may join and leave at any time. A job whose
 * worker died (kill -9, machine lost) loses its lock; after `lockSeconds` and one stalled check the job goes
 * back to the queue (at most twice: `maxStalledCount` 2) and another worker resumes it (shared run root) or
 * restarts it. A worker keeps serving a grid while any of its runs is still active elsewhere, so such stalled
 * jobs are found while it lives.
 *
 * @throws `E_QUEUE_UNREACHABLE` when Redis cannot be reached or refuses the login (checked before anything else).
 */
export async function runQueueWorker(options: QueueWorkerOptions): Promise<QueueWorkerSummary> {
  const connection = parseQueueUrl(options.url);
  const logger = options.logger ?? silentLogger;
  const say = options.say ?? (() => {});
  const concurrency = options.concurrency ?? 1;
  const lockMs = Math.round((options.lockSeconds ?? 30) * 1000);
  const pollMs = options.pollMs ?? 1000;
  const runRoot = resolve(options.runRoot);
  const version = await probeRedis(connection);
  say(`worker ${hostname()}:${process.pid} on ${connection.display} (Redis ${version}), concurrency ${concurrency}, run root ${runRoot}`);

  const client = redisClient(connection);
  const children = new Set<ChildProcess>();
  const threads = Math.max(1, Math.floor(availableParallelism() / concurrency));
  const summary = { completed: 0, failed: 0, grids: 0 };
  const stop = () => {
    for (const child of children) child.kill('SIGTERM');
  };
  options.signal?.addEventListener('abort', stop, { once: true });

  /** Jobs of a grid that still need a worker (waiting, delayed, active somewhere). */
  const pending = async (queue: Queue) => {
    const c = await queue.getJobCounts('waiting', 'delayed', 'prioritized', 'active');
    return { waiting: c.waiting + c.delayed + c.prioritized, active: c.active };
  };

  /** The oldest registered grid other than `except` with runs waiting for a worker, or null. */
  const waitingGrid = async (except?: string): Promise<string | null> => {
    for (const grid of await client.zrange(GRID_REGISTRY, 0, -1)) {
      if (grid === except) continue;
      const queue = new Queue(gridQueueName(grid), { connection: client, prefix: QUEUE_PREFIX });
      const left = await pending(queue);
      await queue.close();
      if (left.waiting > 0) return grid;
    }
    return null;
  };

  const serve = async (grid: string): Promise<void> => {
    const name = gridQueueName(grid);
    const queue = new Queue(name, { connection: redisOptions(connection), prefix: QUEUE_PREFIX });
    queue.on('error', () => {});
    let running = 0;
    const worker = new Worker<QueueJobData, QueueJobResult>(
      name,
      async (job, token) => {
        running++;
        try {
          return await processJob(job, token, { runRoot, logger, threads, children, say });
        } finally {
          running--;
        }
      },
      {
        connection: redisOptions(connection),
        prefix: QUEUE_PREFIX,
        concurrency,
        lockDuration: lockMs,
        stalledInterval: lockMs,
        maxStalledCount: 2,
        drainDelay: Math.max(1, Math.round(pollMs / 1000)),
      },
    );
    worker.on('error', (error) => logger.warn(`worker ${name}: ${error.message}`));
    worker.on('completed', () => summary.completed++);
    worker.on('failed', (job, error) => {
      if (error.name === 'DelayedError') return;
      summary.failed++;
      if (job && job.attemptsMade < (job.opts.attempts ?? 1) && error.name !== 'UnrecoverableError') say(`job ${job.id} will be retried (attempt ${job.attemptsMade} of ${job.opts.attempts})`);
    });
    worker.on('stalled', (jobId) => say(`[grid ${grid.slice(0, 8)}] job ${jobId} stalled (its worker stopped renewing the lock): back to the queue`));
    summary.grids++;
    say(`serving grid ${grid} (${QUEUE_PREFIX}:${name})`);
    try {
      for (;;) {
        await sleep(pollMs, options.signal);
        if (options.signal?.aborted) break;
        const registered = (await client.zscore(GRID_REGISTRY, grid)) !== null;
        const left = await pending(queue);
        // Leave when nothing is waiting or active anywhere (or the grid was withdrawn) and this worker is idle,
        // or when this grid's only work runs on other workers and another grid has runs waiting.
        if (running === 0 && (!registered || left.waiting + left.active === 0)) break;
        if (running === 0 && left.waiting === 0 && (await waitingGrid(grid)) !== null) break;
      }
    } finally {
      await worker.close();
      await queue.close();
    }
  };

  let idleSince = Date.now();
  try {
    while (!options.signal?.aborted) {
      const grids = await client.zrange(GRID_REGISTRY, 0, -1);
      let chosen: string | null = null;
      let activeOnly: string | null = null;
      for (const grid of grids) {
        const queue = new Queue(gridQueueName(grid), { connection: client, prefix: QUEUE_PREFIX });
        const left = await pending(queue);
        await queue.close();
        if (left.waiting > 0) {
          chosen = grid;
          break;
        }
        // Runs active on other workers: serving the grid lets this worker find them if their worker died.
        if (left.active > 0 && activeOnly === null) activeOnly = grid;
      }
      const grid = chosen ?? activeOnly;
      if (grid) {
        await serve(grid);
        idleSince = Date.now();
        continue;
      }
      if (options.idleExitSeconds !== undefined && Date.now() - idleSince >= options.idleExitSeconds * 1000) {
        say(`no grid to work on for ${options.idleExitSeconds} s: stopping`);
        break;
      }
      await sleep(pollMs, options.signal);
    }
  } finally {
    options.signal?.removeEventListener('abort', stop);
    client.disconnect();
  }
  return summary;
}
