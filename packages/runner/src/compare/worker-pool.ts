import { availableParallelism } from 'node:os';
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { SparseLearningError } from '@sparse-learning/core';
import type { ExperimentConfig } from '../config/schema.js';
import type { EpochMetrics, RunResults } from '../run/metrics.js';

/** One experiment for a worker. */
export interface WorkerJob {
  readonly id: number;
  readonly config: ExperimentConfig;
  readonly origins: Readonly<Record<string, string>>;
  readonly outDir: string;
  readonly cwd: string;
}

/** Messages a worker sends back. */
export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'backend'; readonly id: number; readonly backend: string; readonly reason: string }
  | { readonly type: 'epoch'; readonly id: number; readonly metrics: EpochMetrics }
  | { readonly type: 'done'; readonly id: number; readonly results: RunResults }
  | { readonly type: 'failed'; readonly id: number; readonly error: { readonly code: string; readonly message: string } };

/** Messages the pool sends. */
export type PoolMessage = { readonly type: 'run'; readonly job: WorkerJob } | { readonly type: 'exit' };

/**
 * Where the worker entry is and how to start it: next to the built bundle (`dist/worker.js` / `.cjs`), or
 * from sources (`src/worker.ts`) through tsx when the runner itself runs from sources (tests, `tsx src/cli.ts`);
 * `env` points tsx at the repository's tsconfig, whose `paths` map `@sparse-learning/*` to the sources.
 */
export function workerEntry(): { file: string; execArgv: string[]; env: Record<string, string> } {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.ts')) {
    const file = join(dirname(here), '..', 'worker.ts');
    const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
    return { file, execArgv: ['--import', tsx], env: { TSX_TSCONFIG_PATH: join(dirname(here), '..', '..', '..', '..', 'tsconfig.json') } };
  }
  const candidates = here.endsWith('.cjs') ? ['worker.cjs', 'worker.js'] : ['worker.js', 'worker.cjs'];
  const file = candidates.map((name) => join(dirname(here), name)).find((p) => existsSync(p));
  if (!file) {
    throw new SparseLearningError('E_ENGINE_STATE', `worker entry not found next to ${here}; rebuild @sparse-learning/runner`, { here });
  }
  return { file, execArgv: [], env: {} };
}

/** Callbacks of {@link runJobsInWorkers}. */
export interface PoolCallbacks {
  onMessage?(message: WorkerMessage, job: WorkerJob): void;
}

/**
 * Runs independent jobs in `workers` child processes (tfjs backends are single-threaded in Node, so parallel
 * processes are how a run uses more than one core; TOOLCHAIN.md measured 1.8× on two). Each worker takes the
 * next job when it finishes one. A worker that dies fails its current job and is replaced.
 *
 * @returns one outcome per job, in job order.
 */
export async function runJobsInWorkers(
  jobs: readonly WorkerJob[],
  workers: number,
  callbacks: PoolCallbacks = {},
): Promise<Extract<WorkerMessage, { type: 'done' | 'failed' }>[]> {
  const outcomes = new Array<Extract<WorkerMessage, { type: 'done' | 'failed' }>>(jobs.length);
  const { file, execArgv, env: entryEnv } = workerEntry();
  let next = 0;
  const count = Math.max(1, Math.min(workers, jobs.length));

  const startWorker = (): Promise<void> =>
    new Promise<void>((resolveWorker) => {
      let current: WorkerJob | null = null;
      let child: ChildProcess;
      const dispatch = () => {
        if (next >= jobs.length) {
          current = null;
          child.send({ type: 'exit' } satisfies PoolMessage);
          return;
        }
        current = jobs[next++];
        child.send({ type: 'run', job: current } satisfies PoolMessage);
      };
      const spawn = () => {
        child = fork(file, [], {
          execArgv,
          stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
          // Parallel workers share the cores: each native backend gets its share of threads instead of every
          // worker starting one thread per core (oversubscription slowed steps ~1.5x in the bench).
          env: {
            ...process.env,
            ...entryEnv,
            SPARSE_LEARNING_WORKER: '1',
            SPARSE_LEARNING_NATIVE_THREADS:
              process.env.SPARSE_LEARNING_NATIVE_THREADS ?? String(Math.max(1, Math.floor(availableParallelism() / count))),
          },
        });
        let stderr = '';
        child.stderr?.on('data', (chunk: Buffer) => {
          stderr = (stderr + chunk.toString()).slice(-4000);
        });
        child.on('message', (message: WorkerMessage) => {
          if (message.type === 'ready') return dispatch();
          const job = jobs[message.id];
          callbacks.onMessage?.(message, job);
          if (message.type === 'done' || message.type === 'failed') {
            outcomes[message.id] = message;
            dispatch();
          }
        });
        child.on('exit', (code, signal) => {
          if (current) {
            const failed: WorkerMessage = {
              type: 'failed',
              id: current.id,
              error: { code: 'E_ENGINE_STATE', message: `worker exited (code ${code}, signal ${signal}) during the run: ${stderr.trim().split('\n').slice(-5).join(' | ')}` },
            };
            outcomes[current.id] = failed;
            callbacks.onMessage?.(failed, current);
            current = null;
            if (next < jobs.length) return spawn();
          }
          resolveWorker();
        });
      };
      spawn();
    });

  await Promise.all(Array.from({ length: count }, () => startWorker()));
  return outcomes;
}
