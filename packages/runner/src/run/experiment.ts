import { SparseLearningError, silentLogger } from '@sparse-learning/core';
import { checkStrategyIds } from '../composition/compose.js';
import { loadPlugin } from '../composition/plugin-loader.js';
import { historyOf } from './checkpointing.js';
import { closeEpoch, recordEpoch } from './close-epoch.js';
import type { RunResults } from './metrics.js';
import { runResults } from './run-records.js';
import { RunDirectory } from './run-directory.js';
import { claimRunDirectory } from './run-dir-guard.js';
import { teeLogger } from './run-controls.js';
import { decorateFailure, type KeptSoFar } from './run-failure.js';
import type { RunExperimentOptions } from './run-options.js';
import { type ActiveRun, type RunStartContext, startRun } from './run-start.js';
import { prepareRunSession, startCompactRun } from './sparse-compact-session.js';
import { startCompactCnnRun } from './sparse-compact-cnn.js';
import { startCompactGraphRun } from './sparse-compact-graph.js';
import { trainEpoch } from './train-epoch.js';

// The run's pieces, one job per file: the session (what is composed before the first step), the start or
// resume (run-start.ts), an epoch's training pass (train-epoch.ts) and its close into metrics and a
// checkpoint (close-epoch.ts), failures and interruptions (run-failure.ts), the options and observer, the
// log and the stop points. Re-exported so that importers of the run loop find them here too.
export * from './session.js';
export * from './run-options.js';
export { RunInterrupted } from './run-failure.js';

/**
 * Trains one experiment end to end and writes its run directory (docs/algorithm.md#the-mask-update loop, §4): composes it with
 * {@link prepareExperiment}, then trains `epochs` epochs of (at most `maxBatches`) shuffled mini-batches.
 * After every epoch it evaluates the validation and test splits (at most `maxEvalBatches`, default
 * `maxBatches`, batches), closes the epoch (the mask update runs there for epoch-triggered presets), saves a
 * checkpoint (`@sparse-learning/checkpoint`: atomic, versioned, checksummed, the last two kept) and appends one
 * line to `metrics.jsonl`. The reported test error is the last epoch's (no best-validation selection, docs/algorithm.md#recipes).
 *
 * With `resume` it continues from that checkpoint instead of step 0: the same batches in the same order
 * (data order is a pure function of (seed, epoch); a mid-epoch checkpoint skips the batches already done),
 * so the final weights, masks and metrics equal those of an uninterrupted run, bit for bit, on the same
 * backend. When `signal` aborts, the current step finishes, a checkpoint is saved and {@link RunInterrupted}
 * is thrown. A failure (non-finite loss, broken plugin, failed write) is rethrown with what was kept.
 */
export async function runExperiment(options: RunExperimentOptions): Promise<RunResults> {
  const { config, resume } = options;
  const startedAt = new Date();
  const started = performance.now();
  const plugins = options.plugins ?? (await Promise.all(config.plugins.map((p) => loadPlugin(p, options.cwd))));
  await checkStrategyIds(config, plugins);
  // One process per run directory, and a new run never replaces an earlier one unless asked (--force).
  const lock = await claimRunDirectory(options.outDir, {
    resuming: resume !== undefined,
    overwrite: options.overwrite,
    command: options.command ?? (resume ? 'train --resume' : 'train'),
    logger: options.logger,
  });
  const dir = new RunDirectory(options.outDir, { keepLog: resume !== undefined });
  const logger = teeLogger(options.logger ?? silentLogger, dir);
  const kept: KeptSoFar = { saved: resume ? { path: resume.path, epoch: resume.epoch, step: resume.step } : null, trainingStarted: false };
  const history = resume ? historyOf(resume) : [];

  try {
    // The dense session, or a compact sparse one whose memory follows the active weights (issue 9).
    const session = await prepareRunSession({
      config,
      logger,
      events: options.events,
      root: options.root,
      plugins,
      cwd: options.cwd,
      onBackend: (choice) => options.observer?.onBackend?.(choice),
    });
    const context = { options, plugins, dir, logger, history, kept, startedAt, started };
    const run = startSessionRun(session, context);
    kept.trainingStarted = true;
    try {
      for (let epoch = run.trainer.position().epoch + 1; epoch <= config.epochs; epoch++) {
        const epochStart = performance.now() - run.progress.seconds * 1000;
        await trainEpoch(run, epoch, epochStart);
        await recordEpoch(run, closeEpoch(run, epoch, epochStart));
      }
    } finally {
      run.release();
      session.dispose();
    }

    const last = history.at(-1);
    if (!last) throw new SparseLearningError('E_ENGINE_STATE', `run ${dir.path} has no completed epoch`);
    const results = runResults(session, last, run.record());
    dir.writeResults(results);
    run.observer.onFinish?.(results);
    return results;
  } catch (error) {
    throw decorateFailure(error, { logger, dir, config, kept });
  } finally {
    try {
      dir.closeLog();
    } catch {
      // A failed log write must not hide the run's own error.
    }
    await lock.release();
  }
}

/** Starts (or resumes) the run of whichever session {@link prepareRunSession} composed. */
function startSessionRun(session: Awaited<ReturnType<typeof prepareRunSession>>, context: RunStartContext): ActiveRun {
  if (!('kind' in session)) return startRun(session, context);
  switch (session.kind) {
    case 'compact':
      return startCompactRun(session, context);
    case 'compact-cnn':
      return startCompactCnnRun(session, context);
    case 'compact-graph':
      return startCompactGraphRun(session, context);
  }
}
