import { basename, dirname, join } from 'node:path';
import { SparseLearningError } from '@sparse-learning/core';
import type { WorkerJob, WorkerMessage } from '../compare/worker-pool.js';
import type { ExperimentConfig } from '../config/schema.js';
import { checkRunDirectory } from '../run/run-dir-guard.js';
import type { GridProgress } from '../queue/submit.js';
import { queueExecutor } from '../queue/submit.js';
import { ProgressRenderer, formatDuration, type OutputStream } from './progress.js';

/** One line of grid progress: done / running / failed / total (and waiting). */
export function gridProgressLine(p: GridProgress): string {
  return `queue grid ${p.grid}: done ${p.done} / running ${p.running} / failed ${p.failed} / total ${p.total}${p.waiting ? ` (waiting ${p.waiting})` : ''}`;
}

/**
 * `train --queue <url>` for one run: submits it as a one-run grid, waits for a worker to train it, and
 * writes its results, metrics, configuration and log into `outDir` (checkpoints stay in the worker's run
 * root). Like a local `train`, it refuses an `outDir` that holds anything (`E_RUN_EXISTS`) unless `overwrite`.
 * Returns the exit code: 0 done, 1 failed.
 */
export async function queueTrain(
  args: {
    readonly url: string;
    readonly config: ExperimentConfig;
    readonly origins: Record<string, string>;
    readonly outDir: string;
    readonly cwd: string;
    /** `--force`: replace an earlier run's files in `outDir` (as a local `train` does). */
    readonly overwrite?: boolean;
  },
  io: { readonly stdout: OutputStream; readonly stderr: OutputStream },
): Promise<number> {
  // As a local train: a directory that holds anything is E_RUN_EXISTS unless --force, before anything is queued.
  checkRunDirectory(args.outDir, { kind: 'run', overwrite: args.overwrite });
  const progress = new ProgressRenderer(io.stderr);
  const executor = queueExecutor({
    url: args.url,
    onSubmitted: (info) => io.stdout.write(`submitted 1 run to ${info.queue} on ${executor.description.replace(/^queue /, '')}; start workers with: sparse-learning worker --queue <url>\n`),
    onProgress: (p) => progress.line(gridProgressLine(p)),
  });
  const job: WorkerJob = { id: 0, config: args.config, origins: args.origins, outDir: args.outDir, cwd: args.cwd };
  let outcome: Extract<WorkerMessage, { type: 'done' | 'failed' }> | null = null;
  await executor.run(
    [job],
    (message) => {
      if (message.type === 'done' || message.type === 'failed') outcome = message;
    },
    { outDir: dirname(args.outDir) },
  );
  progress.clear();
  const result = outcome as Extract<WorkerMessage, { type: 'done' | 'failed' }> | null;
  if (!result) throw new SparseLearningError('E_ENGINE_STATE', `queued run ${basename(args.outDir)} ended without an outcome`);
  if (result.type === 'failed') {
    io.stderr.write(`error [${result.error.code}] ${result.error.message}\n`);
    return 1;
  }
  const r = result.results;
  const pct = (v: number) => `${(100 * v).toFixed(2)} %`;
  io.stdout.write(
    `test error ${pct(r.testError)} (accuracy ${pct(r.testAccuracy)}), density ${r.finalDensity.toFixed(4)}, ${r.steps} steps in ${formatDuration(r.seconds)} on ${r.backend.name}\n` +
      `results: ${join(args.outDir, 'results.json')}\n`,
  );
  return 0;
}
