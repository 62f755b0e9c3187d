import { basename } from 'node:path';
import { SparseLearningError } from '@sparse-learning/core';
import type { ExperimentConfig } from '../config/schema.js';
import type { RunDirectory } from './run-directory.js';

/**
 * Thrown by `runExperiment` when its `signal` aborted the run: the current step was finished and a
 * checkpoint saved, from which `sparse-learning train --resume <runDir>` continues exactly. Not a failure.
 */
export class RunInterrupted extends Error {
  override readonly name = 'RunInterrupted';

  constructor(
    readonly runDir: string,
    readonly checkpoint: string,
    readonly epoch: number,
    readonly batch: number,
    readonly step: number,
    readonly reason: unknown,
  ) {
    super(`run interrupted at step ${step} (epoch ${epoch}, batch ${batch}); checkpoint ${checkpoint}`);
  }
}

/** The checkpoint last written by a run, for error messages. */
export interface SavedPoint {
  readonly path: string;
  readonly epoch: number;
  readonly step: number;
}

/**
 * Describes what a failed run leaves behind and appends it to a coded error (same code and details, plus
 * `kept`): nothing that was written before the failure is touched.
 */
export function withKept(
  error: SparseLearningError,
  dir: RunDirectory,
  saved: SavedPoint | null,
  config: ExperimentConfig,
  trainingStarted: boolean,
): SparseLearningError {
  // A failure before the first step (data, backend, composition) has nothing to report beyond itself.
  if (!trainingStarted && !saved) return error;
  const epochs = dir.metricsCount;
  const kept = saved
    ? `kept the last good checkpoint ${basename(saved.path)} (epoch ${saved.epoch}, step ${saved.step}) and the metrics of ${epochs} epoch${epochs === 1 ? '' : 's'} in ${dir.path}`
    : `no epoch had finished, so there is no checkpoint yet (run directory ${dir.path})`;
  const base = error.message.replace(/^\[[A-Z_]+\] /, '');
  const hint =
    error.code === 'E_NON_FINITE'
      ? `training diverged: ${base}; try a smaller --lr (it is ${config.lr}) in a new run`
      : base;
  return new SparseLearningError(error.code, `${hint} — ${kept}`, { ...error.details, kept: saved ? { ...saved, epochs } : null }, { cause: error });
}

