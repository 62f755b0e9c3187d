import { basename } from 'node:path';
import { SparseLearningError, isSparseLearningError, type Logger } from '@sparse-learning/core';
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

/** What a run has kept so far, for a failure's message: the last checkpoint written and whether training began. */
export interface KeptSoFar {
  saved: SavedPoint | null;
  trainingStarted: boolean;
}

/**
 * The error `runExperiment` rethrows for `error`: an interruption as it is; otherwise the error is logged, and
 * a coded error (or a recognised out-of-memory abort, {@link outOfMemoryError}) gets what the run kept
 * ({@link withKept}); any other error is returned unchanged.
 */
export function decorateFailure(
  error: unknown,
  run: { readonly logger: Logger; readonly dir: RunDirectory; readonly config: ExperimentConfig; readonly kept: KeptSoFar },
): unknown {
  if (error instanceof RunInterrupted) return error;
  run.logger.error(error instanceof Error ? error.message : String(error));
  const coded = isSparseLearningError(error) ? error : outOfMemoryError(error, run.config);
  return coded ? withKept(coded, run.dir, run.kept.saved, run.config, run.kept.trainingStarted) : error;
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


/**
 * Recognises the ways a training step runs out of memory — the WebAssembly heap of the `wasm` and `native`
 * backends is capped at 4 GiB, and tfjs' wasm module aborts (`RuntimeError: Aborted()`) when a step needs more,
 * e.g. WRN-16-8 at the CIFAR recipe's batch 128 — and turns them into a coded `E_OUT_OF_MEMORY` that says
 * what to change. Any other error is returned as `null` (left as it is).
 */
export function outOfMemoryError(
  error: unknown,
  config: Pick<ExperimentConfig, 'batchSize' | 'model'> & Partial<Pick<ExperimentConfig, 'execution'>>,
): SparseLearningError | null {
  if (!(error instanceof Error)) return null;
  const wasmAbort = error.name === 'RuntimeError' && /abort/i.test(error.message);
  const allocation = /out of memory|\bOOM\b|maximum memory size|array buffer allocation failed|memory access out of bounds/i.test(error.message);
  if (!wasmAbort && !allocation) return null;
  return new SparseLearningError(
    'E_OUT_OF_MEMORY',
    `training ${config.model} at --batch-size ${config.batchSize} ran out of memory (${error.name}: ${error.message.split('\n')[0]}); ` +
      'the wasm and native backends keep tensors in a WebAssembly heap of at most 4 GiB: use a smaller --batch-size in a new run ' +
      '(or --resume with the same one on a machine with the tensorflow / tensorflow-gpu backend)' +
      // The graph form's sparse convs keep their activations outside the wasm heap (issue 9): WRN-16-8 at the
      // recipe's batch 128 trains there in sparse execution (README, "Truly sparse training").
      (config.model.startsWith('wrn-') && config.execution !== 'sparse' ? '; a WideResNet also fits at this batch size with --execution sparse (native backend) in a new run' : ''),
    { batchSize: config.batchSize, model: config.model },
    { cause: error },
  );
}
