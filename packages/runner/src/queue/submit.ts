import { relative } from 'node:path';
import { silentLogger, type Logger } from '@sparse-learning/core';
import { Job, Queue } from 'bullmq';
import type { JobExecutor } from '../compare/compare.js';
import type { WorkerJob } from '../compare/worker-pool.js';
import { ResultCollector } from './collect.js';
import { parseQueueUrl, probeRedis, redisClient, redisOptions } from './connection.js';
import {
  GRID_REGISTRY,
  JOB_DATA_VERSION,
  QUEUE_PREFIX,
  gridIdOf,
  gridQueueName,
  parseFailure,
  type QueueJobData,
  type QueueJobResult,
} from './grid.js';

/** Grid progress as the submitter sees it in Redis. */
export interface GridProgress {
  readonly grid: string;
  readonly done: number;
  readonly running: number;
  readonly failed: number;
  /** Waiting for a worker (including retries waiting out their back-off). */
  readonly waiting: number;
  readonly total: number;
}

/** Options of {@link queueExecutor}. */
export interface QueueExecutorOptions {
  /** `redis://[[user]:password@]host[:port][/db]` or `rediss://…`. */
  readonly url: string;
  readonly logger?: Logger;
  /** Called when the counts change (and once after submission). */
  readonly onProgress?: (progress: GridProgress) => void;
  /** Called once the grid is submitted (its id and queue name). */
  readonly onSubmitted?: (info: { readonly grid: string; readonly queue: string; readonly reattached: number }) => void;
  /** How often the submitter polls Redis (default 1000 ms). */
  readonly pollMs?: number;
  /**
   * Attempts per run for failures that may pass on another try (a crashed worker process, a failed write);
   * bad input never retries. Default 3.
   */
  readonly attempts?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Queue mode of `compare` / `train` (`--queue <url>`): puts one BullMQ job per run on the grid's own queue
 * (`sparse-learning:grid-<id>`), registers the grid for the workers (`sparse-learning worker --queue <url>`
 * on any number of machines), reports progress (done / running / failed / total), and brings every finished
 * run's files home through Redis ({@link ResultCollector}). When every run is recorded, the grid's queue is
 * removed from Redis. If the submitter stops early, the grid keeps running on the workers, and the same
 * command submitted again reattaches to it (same grid id, same job ids: nothing runs twice).
 *
 * The URL is validated when the executor is created (`E_CONFIG_INVALID`) and Redis is probed before anything
 * is submitted (`E_QUEUE_UNREACHABLE`).
 */
export function queueExecutor(options: QueueExecutorOptions): JobExecutor {
  const connection = parseQueueUrl(options.url);
  const logger = options.logger ?? silentLogger;
  const pollMs = options.pollMs ?? 1000;
  const attempts = options.attempts ?? 3;
  return {
    description: `queue ${connection.display}`,
    async run(jobs: readonly WorkerJob[], onMessage, context) {
      await probeRedis(connection);
      const data: QueueJobData[] = jobs.map((job) => ({
        v: JOB_DATA_VERSION,
        grid: '',
        index: job.id,
        label: `${job.config.preset} d=${job.config.density} seed=${job.config.seed}`,
        rel: relative(context.outDir, job.outDir),
        config: job.config,
        origins: job.origins,
      }));
      const grid = gridIdOf(context.outDir, data);
      const name = gridQueueName(grid);
      const client = redisClient(connection);
      const queue = new Queue<QueueJobData, QueueJobResult>(name, { connection: redisOptions(connection), prefix: QUEUE_PREFIX });
      queue.on('error', (error) => logger.warn(`queue ${name}: ${error.message}`));
      const collector = new ResultCollector(jobs, onMessage);
      let finished = false;
      try {
        const existing = await queue.getJobCounts('completed', 'failed', 'active', 'waiting', 'delayed', 'prioritized');
        const reattached = Object.values(existing).reduce((a, b) => a + b, 0);
        // Job ids are the run indices: adding a job whose id exists is a no-op (a reattaching submitter).
        await queue.addBulk(
          data.map((d) => ({
            name: d.label,
            data: { ...d, grid },
            opts: {
              jobId: `run-${d.index}`,
              attempts,
              backoff: { type: 'fixed', delay: 2000 },
              removeOnComplete: false,
              removeOnFail: false,
            },
          })),
        );
        await client.zadd(GRID_REGISTRY, 'NX', Date.now(), grid);
        options.onSubmitted?.({ grid, queue: `${QUEUE_PREFIX}:${name}`, reattached });
        logger.info(`queue: submitted ${jobs.length} runs to ${QUEUE_PREFIX}:${name} on ${connection.display}`);

        let last = '';
        for (;;) {
          await collectFinished(queue, collector, logger);
          const counts = await queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized', 'completed', 'failed');
          const progress: GridProgress = {
            grid,
            done: counts.completed,
            running: counts.active,
            failed: counts.failed,
            waiting: counts.waiting + counts.delayed + counts.prioritized,
            total: jobs.length,
          };
          const key = JSON.stringify(progress);
          if (key !== last) {
            last = key;
            options.onProgress?.(progress);
          }
          if (collector.complete) break;
          await sleep(pollMs);
        }
        finished = true;
      } finally {
        if (finished) {
          // Everything is home: remove the grid's keys and unregister it.
          await queue.obliterate({ force: true }).catch((error: Error) => logger.warn(`queue: could not remove ${name}: ${error.message}`));
          await client.zrem(GRID_REGISTRY, grid).catch(() => 0);
        }
        await queue.close();
        client.disconnect();
      }
    },
  };
}

/** Records the grid's newly completed and finally failed jobs (each job once; only ids are listed per poll). */
async function collectFinished(queue: Queue<QueueJobData, QueueJobResult>, collector: ResultCollector, logger: Logger): Promise<void> {
  const index = (id: string) => Number(id.replace(/^run-/, ''));
  const [completed, failed] = await Promise.all([queue.getRanges(['completed'], 0, -1), queue.getRanges(['failed'], 0, -1)]);
  for (const id of completed) {
    if (collector.has(index(id))) continue;
    const job = await Job.fromId<QueueJobData, QueueJobResult>(queue, id);
    if (!job?.returnvalue) continue;
    if (!collector.completed(job.data.index, job.returnvalue)) logger.warn(`queue: run ${job.data.index} reported twice; recorded once`);
  }
  for (const id of failed) {
    if (collector.has(index(id))) continue;
    const job = await Job.fromId<QueueJobData, QueueJobResult>(queue, id);
    if (!job) continue;
    const error = parseFailure(job.failedReason);
    const tries = `${job.attemptsMade} attempt${job.attemptsMade === 1 ? '' : 's'}`;
    collector.failed(job.data.index, { code: error.code, message: `${error.message} (failed after ${tries})` });
  }
}
