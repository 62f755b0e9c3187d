/**
 * Entry of the process a queue worker runs one job in (forked by `run-job.ts`). Training runs here, not in the
 * worker, so the worker's event loop stays free to renew the job's lock in Redis however long a step takes.
 * Receives one run over IPC (new, or resumed from the run directory's latest checkpoint), reports backend,
 * epochs and the outcome, and never prints. SIGINT/SIGTERM stop the run after the current step with a
 * checkpoint (`interrupted`); when the worker dies (IPC disconnect) the process exits at once: the run's last
 * checkpoint stays for whoever picks the job up.
 */
import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs-core';
import { loadPlugin } from '../composition/plugin-loader.js';
import type { ExperimentConfig } from '../config/schema.js';
import { RunInterrupted, runExperiment } from '../run/experiment.js';
import type { EpochMetrics, RunResults } from '../run/metrics.js';
import { loadResumePoint } from '../run/resume.js';

/** The run a job process executes. */
export interface JobProcessRequest {
  readonly type: 'run';
  readonly config: ExperimentConfig;
  readonly origins: Readonly<Record<string, string>>;
  readonly runDir: string;
  /** Continue from the run directory's latest checkpoint instead of starting afresh. */
  readonly resume: boolean;
}

/** What a job process reports. */
export type JobProcessMessage =
  | { readonly type: 'backend'; readonly backend: string; readonly reason: string }
  | { readonly type: 'epoch'; readonly metrics: EpochMetrics }
  | { readonly type: 'done'; readonly results: RunResults }
  | { readonly type: 'interrupted'; readonly checkpoint: string; readonly step: number }
  | { readonly type: 'failed'; readonly error: { readonly code: string; readonly message: string } };

tf.enableProdMode();

const controller = new AbortController();
for (const name of ['SIGINT', 'SIGTERM'] as const) {
  process.on(name, () => {
    if (controller.signal.aborted) process.exit(name === 'SIGINT' ? 130 : 143);
    controller.abort(name);
  });
}
let reported = false;
// The worker is gone (killed, machine lost): stop now; atomic writes leave the last checkpoint intact.
process.on('disconnect', () => process.exit(reported ? 0 : 70));

function send(message: JobProcessMessage): void {
  process.send?.(message);
}

/** Sends the outcome, then closes the channel (which ends this process). */
function finish(message: JobProcessMessage): void {
  process.send?.(message, () => {
    reported = true;
    process.disconnect?.();
  });
}

function holdAtStep(): number | undefined {
  const raw = process.env.SPARSE_LEARNING_HOLD_AT_STEP;
  return raw && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

async function run(request: JobProcessRequest): Promise<RunResults> {
  const observer = {
    onBackend: (choice: { backend: string; reason: string }) => send({ type: 'backend', backend: choice.backend, reason: choice.reason }),
    onEpoch: (metrics: EpochMetrics) => send({ type: 'epoch', metrics }),
  };
  const common = { outDir: request.runDir, cwd: process.cwd(), signal: controller.signal, holdAtStep: holdAtStep(), observer };
  // The worker planned a fresh run (no usable checkpoint): files an earlier attempt left in the directory
  // (config.json, run.log of an epoch that never finished) are that same run's, so they are replaced.
  const fresh = { overwrite: true };
  if (!request.resume) return runExperiment({ ...common, ...fresh, config: request.config, origins: request.origins });
  const point = await loadResumePoint(request.runDir);
  // The recorded plugin files, by resolved path (as `train --resume` does).
  const plugins = await Promise.all(point.extra.plugins.map((p) => loadPlugin(p.resolved, process.cwd())));
  const plugged = plugins.map((p, i) => ({ ...p, specifier: point.extra.plugins[i].specifier }));
  return runExperiment({ ...common, config: point.config, origins: { ...point.extra.origins }, resume: point.checkpoint, plugins: plugged });
}

process.once('message', (request: JobProcessRequest) => {
  run(request).then(
    (results) => finish({ type: 'done', results }),
    (error: unknown) => {
      if (error instanceof RunInterrupted) {
        finish({ type: 'interrupted', checkpoint: error.checkpoint, step: error.step });
        return;
      }
      const err = error as { code?: string; message?: string };
      const message = (err.message ?? String(error)).replace(/^\[[A-Z_]+\] /, '');
      finish({ type: 'failed', error: { code: err.code ?? 'E_ENGINE_STATE', message } });
    },
  );
});
