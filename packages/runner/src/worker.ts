/**
 * Entry of a `compare` worker process: receives jobs over IPC, runs each with {@link runExperiment}, and
 * reports backend, epoch metrics and the outcome back. Never prints: the parent renders progress.
 */
import 'reflect-metadata';
import * as tf from '@tensorflow/tfjs-core';
import type { PoolMessage, WorkerMessage } from './compare/worker-pool.js';
import { runExperiment } from './run/experiment.js';

// tfjs prints a "use tfjs-node" banner on the first cpu tensor; the parent process owns the terminal.
tf.enableProdMode();

function send(message: WorkerMessage): void {
  process.send?.(message);
}

process.on('message', (message: PoolMessage) => {
  if (message.type === 'exit') {
    process.disconnect?.();
    return;
  }
  const { job } = message;
  runExperiment({
    config: job.config,
    origins: job.origins,
    outDir: job.outDir,
    cwd: job.cwd,
    observer: {
      onBackend: (choice) => send({ type: 'backend', id: job.id, backend: choice.backend, reason: choice.reason }),
      onEpoch: (metrics) => send({ type: 'epoch', id: job.id, metrics }),
    },
  }).then(
    (results) => send({ type: 'done', id: job.id, results }),
    (error: unknown) => {
      const err = error as { code?: string; message?: string };
      send({ type: 'failed', id: job.id, error: { code: err.code ?? 'E_ENGINE_STATE', message: err.message ?? String(error) } });
    },
  );
});

send({ type: 'ready' });
