import { basename } from 'node:path';
import { saveCheckpoint, type CheckpointData, type LoadedCheckpoint } from '@sparse-learning/checkpoint';
import type { Logger } from '@sparse-learning/core';
import type { LoadedPlugin } from '../composition/plugin-loader.js';
import type { ExperimentConfig } from '../config/schema.js';
import { captureRunState, restoreRunState, type CheckpointReason, type ResumeExtra, type RunRecord } from './checkpointing.js';
import { newEpochProgress, type EpochProgress } from './epoch-progress.js';
import type { EpochMetrics } from './metrics.js';
import type { RunDirectory } from './run-directory.js';
import type { KeptSoFar, SavedPoint } from './run-failure.js';
import { runLabel, type RunExperimentOptions, type RunObserver, type RunStartInfo } from './run-options.js';
import { runConfigRecord } from './run-records.js';
import { denseFormOfCheckpoint } from './sparse-compact-checkpoint.js';
import type { ExperimentSession, RunSession } from './session.js';
import { chooseExecution, createExecution, type Execution, type ExecutionChoice, type RunTrainer } from './sparse-execution.js';

/**
 * A run that is ready for its next step: the session and the trainer that drives it, where the current epoch
 * stands, the metrics history, and how to write a checkpoint and the run's record. The epoch pass
 * (`train-epoch.ts`) and the epoch close (`close-epoch.ts`) work on it; `runExperiment` owns it.
 */
export interface ActiveRun {
  readonly config: ExperimentConfig;
  readonly options: RunExperimentOptions;
  /** The dense session, or a compact sparse one (./sparse-compact-session.ts). */
  readonly session: RunSession;
  readonly trainer: RunTrainer;
  readonly dir: RunDirectory;
  readonly logger: Logger;
  readonly observer: RunObserver;
  readonly startInfo: RunStartInfo;
  /** Every finished epoch's metrics (a resumed run starts with the checkpoint's). */
  readonly history: EpochMetrics[];
  /** The epoch in progress; replaced by a fresh one when an epoch closes. */
  progress: EpochProgress;
  /** What a checkpoint records besides the engine state (backend, plugins, time so far). */
  record(): RunRecord;
  /** Writes a checkpoint of the run as it stands now and remembers it in {@link KeptSoFar}. */
  checkpoint(reason: CheckpointReason): Promise<SavedPoint>;
  /** Releases the execution's own resources when the run ends (the session is disposed separately). */
  release(): void;
}

/** What {@link startRun} needs besides the session. */
export interface RunStartContext {
  readonly options: RunExperimentOptions;
  readonly plugins: readonly LoadedPlugin[];
  readonly dir: RunDirectory;
  readonly logger: Logger;
  readonly history: EpochMetrics[];
  readonly kept: KeptSoFar;
  readonly startedAt: Date;
  /** `performance.now()` when the run started, for the elapsed time in checkpoints. */
  readonly started: number;
}

/**
 * Prepares a composed session for its first step: chooses the execution (masked or truly sparse, issue 9),
 * then either restores the checkpoint of a resumed run (the same batch, streams and books, recorded in
 * `config.json`'s resume list) or writes `config.json` of a new run, binds the trainer and announces the run.
 */
export function startRun(session: ExperimentSession, context: RunStartContext): ActiveRun {
  const { config } = context.options;
  return startRunWith(session, context, {
    choice: chooseExecution(session, config.execution),
    // A compact sparse checkpoint (a sparse run's default form) resumes here in the dense form it stands for.
    restore: (resume) => restoreRunState(session, denseFormOfCheckpoint(resume, config.momentum > 0), config),
    bind: (choice, logger) => createExecution(session, choice, logger, config.denseGradWindow),
    capture: (args) => captureRunState(session, args),
  });
}

/** How a session of one form is restored, bound to its execution and checkpointed (see {@link startRunWith}). */
export interface SessionBinding {
  readonly choice: ExecutionChoice;
  /** Puts a fresh session into the checkpoint's state. */
  restore(resume: LoadedCheckpoint): ResumeExtra;
  /** The execution that trains the (fresh or restored) session. */
  bind(choice: ExecutionChoice, logger: Logger): Execution;
  /** The checkpoint of the session as it stands (after the execution's `sync`). */
  capture(args: Parameters<typeof captureRunState>[1]): CheckpointData;
}

/** {@link startRun} for a session of any form, through its {@link SessionBinding}. */
export function startRunWith(session: RunSession, context: RunStartContext, binding: SessionBinding): ActiveRun {
  const { options, dir, logger, history, kept, startedAt, started } = context;
  const { config, resume } = options;
  const { backend, stepsPerEpoch, totalSteps } = session;
  const observer = options.observer ?? {};
  const executionChoice = binding.choice;
  logger.info(`execution ${executionChoice.execution}: ${executionChoice.reason}`);
  observer.onExecution?.(executionChoice);
  const pluginRecord = context.plugins.map((p) => ({ specifier: p.specifier, resolved: p.resolved }));
  let progress = newEpochProgress(config.lr);
  let previous: ResumeExtra | null = null;
  if (resume) {
    previous = binding.restore(resume);
    progress = previous.progress;
    if (previous.backend.name !== backend.backend) {
      logger.warn(
        `resuming on backend '${backend.backend}' but the run was trained on '${previous.backend.name}': results may differ from an uninterrupted run in the last bits (use --backend ${previous.backend.name} for a bit-exact resume)`,
      );
    }
    dir.resetMetrics(history);
    dir.recordResume({
      fromCheckpoint: basename(resume.path),
      epoch: resume.epoch,
      step: resume.step,
      batchInEpoch: progress.batch,
      backend: { name: backend.backend, reason: backend.reason },
      at: startedAt.toISOString(),
    });
    logger.info(`resumed from ${basename(resume.path)}: epoch ${resume.epoch + 1}, batch ${progress.batch}/${stepsPerEpoch}, step ${resume.step}`);
  } else {
    dir.writeConfig(runConfigRecord(session, { options, plugins: pluginRecord, execution: executionChoice, startedAt }));
  }
  const execution = binding.bind(executionChoice, logger);

  const startInfo: RunStartInfo = {
    runDir: dir.path,
    label: runLabel(config),
    epochs: config.epochs,
    stepsPerEpoch,
    totalSteps,
    ...(resume ? { resumedAt: { epoch: resume.epoch, batch: progress.batch, step: resume.step } } : {}),
  };
  const run: ActiveRun = {
    config,
    options,
    session,
    trainer: execution.trainer,
    dir,
    logger,
    observer,
    startInfo,
    history,
    progress,
    record: () => ({
      origins: previous?.origins ?? options.origins ?? {},
      // The backend that trained the run so far; a resume on another backend is recorded in config.json.
      backend: previous?.backend ?? { name: backend.backend, reason: backend.reason },
      plugins: pluginRecord,
      elapsedSeconds: (previous?.elapsedSeconds ?? 0) + (performance.now() - started) / 1000,
      startedAt: previous?.startedAt ?? startedAt.toISOString(),
    }),
    checkpoint: async (reason) => {
      execution.sync();
      const data = binding.capture({ history, progress: run.progress, reason, record: run.record() });
      const written = await saveCheckpoint(dir.path, data, { keep: options.checkpoint?.keep ?? 2, logger, fs: options.checkpoint?.fs });
      kept.saved = { path: written.path, epoch: data.epoch, step: data.step };
      return kept.saved;
    },
    release: () => execution.dispose?.(),
  };
  observer.onStart?.(startInfo);
  logger.info(`training ${startInfo.label}: ${config.epochs} epochs × ${stepsPerEpoch} steps`, { runDir: dir.path });
  return run;
}
