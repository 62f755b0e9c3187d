import { basename } from 'node:path';
import { saveCheckpoint } from '@sparse-learning/checkpoint';
import { SparseLearningError, isSparseLearningError, silentLogger } from '@sparse-learning/core';
import { batchIndices } from '@sparse-learning/datasets';
import { checkStrategyIds } from '../composition/compose.js';
import { loadPlugin } from '../composition/plugin-loader.js';
import { identityOrder, splitBatches } from './batches.js';
import { captureRunState, historyOf, restoreRunState, type CheckpointReason, type ResumeExtra, type RunRecord } from './checkpointing.js';
import { newEpochProgress } from './epoch-progress.js';
import type { EpochMetrics, RunResults } from './metrics.js';
import { runConfigRecord, runResults } from './run-records.js';
import { HOLD_MARKER, RunDirectory } from './run-directory.js';
import { claimRunDirectory } from './run-dir-guard.js';
import { holdUntilAborted, teeLogger, yieldToEventLoop } from './run-controls.js';
import { RunInterrupted, outOfMemoryError, withKept, type SavedPoint } from './run-failure.js';
import { runLabel, type RunExperimentOptions, type RunStartInfo } from './run-options.js';
import { prepareExperiment } from './session.js';
import { chooseExecution, createExecution } from './sparse-execution.js';

// The run's pieces, one job per file: the session (what is composed before the first step), the options and
// observer, failures and interruptions, the log and the stop points. Re-exported so that importers of the run
// loop find them here too.
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
  const { config, resume, signal } = options;
  const startedAt = new Date();
  const started = performance.now();
  const observer = options.observer ?? {};
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
  let saved: SavedPoint | null = resume ? { path: resume.path, epoch: resume.epoch, step: resume.step } : null;
  const history: EpochMetrics[] = resume ? historyOf(resume) : [];
  let trainingStarted = false;

  try {
    const session = await prepareExperiment({
      config,
      logger,
      events: options.events,
      root: options.root,
      plugins,
      cwd: options.cwd,
      onBackend: (choice) => observer.onBackend?.(choice),
    });
    const { backend, dataset, stepsPerEpoch, totalSteps, maskedWeights } = session;
    // Issue 9: the same session trained masked (dense × masks) or truly sparse (compact, native).
    const executionChoice = chooseExecution(session, config.execution);
    logger.info(`execution ${executionChoice.execution}: ${executionChoice.reason}`);
    observer.onExecution?.(executionChoice);
    const pluginRecord = plugins.map((p) => ({ specifier: p.specifier, resolved: p.resolved }));
    let progress = newEpochProgress(config.lr);
    let previous: ResumeExtra | null = null;
    if (resume) {
      previous = restoreRunState(session, resume, config);
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
    const execution = createExecution(session, executionChoice, logger, config.denseGradWindow);
    const trainer = execution.trainer;
    const record = (): RunRecord => ({
      origins: previous?.origins ?? options.origins ?? {},
      // The backend that trained the run so far; a resume on another backend is recorded in config.json.
      backend: previous?.backend ?? { name: backend.backend, reason: backend.reason },
      plugins: pluginRecord,
      elapsedSeconds: (previous?.elapsedSeconds ?? 0) + (performance.now() - started) / 1000,
      startedAt: previous?.startedAt ?? startedAt.toISOString(),
    });
    const checkpoint = async (reason: CheckpointReason): Promise<SavedPoint> => {
      execution.sync();
      const data = captureRunState(session, { history, progress, reason, record: record() });
      const written = await saveCheckpoint(dir.path, data, { keep: options.checkpoint?.keep ?? 2, logger, fs: options.checkpoint?.fs });
      return { path: written.path, epoch: data.epoch, step: data.step };
    };

    const startInfo: RunStartInfo = {
      runDir: dir.path,
      label: runLabel(config),
      epochs: config.epochs,
      stepsPerEpoch,
      totalSteps,
      ...(resume ? { resumedAt: { epoch: resume.epoch, batch: progress.batch, step: resume.step } } : {}),
    };
    observer.onStart?.(startInfo);
    logger.info(`training ${startInfo.label}: ${config.epochs} epochs × ${stepsPerEpoch} steps`, { runDir: dir.path });

    const evalLimit = config.maxEvalBatches ?? config.maxBatches ?? Number.POSITIVE_INFINITY;
    const testOrder = identityOrder(dataset.test.size);
    const validationOrder = dataset.validation ? identityOrder(dataset.validation.size) : null;
    let last: EpochMetrics | null = history.length > 0 ? history[history.length - 1] : null;
    const interrupted = (path: string, epoch: number, batch: number, step: number) =>
      new RunInterrupted(dir.path, path, epoch, batch, step, signal?.reason);

    trainingStarted = true;
    try {
      for (let epoch = trainer.position().epoch + 1; epoch <= config.epochs; epoch++) {
        const epochStart = performance.now() - progress.seconds * 1000;
        session.takeMaskUpdates();
        const order = dataset.train.epochOrder(session.dataOrderRng(epoch), true);
        for (let b = progress.batch; b < stepsPerEpoch; b++) {
          const batch = dataset.train.batch(batchIndices(order, b, config.batchSize), session.augmentRng(epoch, b));
          let result;
          try {
            session.model.setRandomKey(session.dropoutKey(epoch, b));
            result = trainer.step(batch);
          } finally {
            batch.inputs.dispose();
            batch.labels.dispose();
          }
          for (const update of session.takeMaskUpdates()) progress.updates.add(update);
          progress.lossSum += result.loss;
          progress.steps++;
          progress.batch = b + 1;
          progress.learningRate = result.learningRate;
          observer.onStep?.({ step: result.step, epoch, loss: result.loss });
          if (signal && options.holdAtStep === result.step) await holdUntilAborted(signal, dir.file(HOLD_MARKER));
          // Let signal handlers run between steps (the training loop is synchronous otherwise).
          await yieldToEventLoop();
          if (signal?.aborted && b + 1 < stepsPerEpoch) {
            progress.seconds = (performance.now() - epochStart) / 1000;
            saved = await checkpoint('signal');
            logger.info(`interrupted: saved ${basename(saved.path)} at epoch ${epoch}, batch ${b + 1}/${stepsPerEpoch}, step ${result.step}`);
            throw interrupted(saved.path, epoch, b + 1, result.step);
          }
        }
        const trainLoss = progress.lossSum / progress.steps;
        const pruneRate = trainer.pruneRate;
        const validation =
          dataset.validation && validationOrder
            ? trainer.evaluate(
                splitBatches(dataset.validation, validationOrder, config.testBatchSize, evalLimit, session.validationRng(epoch)),
              )
            : null;
        const test = trainer.evaluate(splitBatches(dataset.test, testOrder, config.testBatchSize, evalLimit));
        trainer.endEpoch({
          trainLoss,
          ...(validation ? { validationLoss: validation.loss, validationAccuracy: validation.accuracy } : {}),
          testLoss: test.loss,
          testAccuracy: test.accuracy,
        });
        for (const update of session.takeMaskUpdates()) progress.updates.add(update);
        const layers = session.layerMetrics();
        const totalActive = layers.reduce((acc, l) => acc + l.active, 0);
        const metrics: EpochMetrics = {
          epoch,
          step: trainer.position().step,
          trainLoss,
          validationLoss: validation?.loss ?? null,
          validationAccuracy: validation?.accuracy ?? null,
          testLoss: test.loss,
          testAccuracy: test.accuracy,
          learningRate: progress.learningRate,
          pruneRate,
          totalActive,
          density: totalActive / maskedWeights,
          layers,
          maskUpdates: progress.updates.updates,
          redistribution: progress.updates.summary(),
          epochSeconds: (performance.now() - epochStart) / 1000,
        };
        last = metrics;
        history.push(metrics);
        progress = newEpochProgress(progress.learningRate);
        // Checkpoint first, then the metrics line: if the checkpoint cannot be written, metrics.jsonl still
        // matches the last good checkpoint.
        saved = await checkpoint('epoch-end');
        dir.appendMetrics(metrics);
        observer.onEpoch?.(metrics, startInfo);
        logger.info(
          `epoch ${epoch}/${config.epochs} loss ${metrics.trainLoss.toFixed(4)} test acc ${(100 * test.accuracy).toFixed(2)}% density ${metrics.density.toFixed(4)}`,
        );
        dir.flushLog();
        if (signal?.aborted && epoch < config.epochs) {
          logger.info(`interrupted: saved ${basename(saved.path)} at the end of epoch ${epoch}`);
          throw interrupted(saved.path, epoch + 1, 0, metrics.step);
        }
      }
    } finally {
      session.dispose();
    }

    if (!last) throw new SparseLearningError('E_ENGINE_STATE', `run ${dir.path} has no completed epoch`);
    const results = runResults(session, last, record());
    dir.writeResults(results);
    observer.onFinish?.(results);
    return results;
  } catch (error) {
    if (error instanceof RunInterrupted) throw error;
    logger.error(error instanceof Error ? error.message : String(error));
    const coded = isSparseLearningError(error) ? error : outOfMemoryError(error, config);
    if (coded) throw withKept(coded, dir, saved, config, trainingStarted);
    throw error;
  } finally {
    try {
      dir.closeLog();
    } catch {
      // A failed log write must not hide the run's own error.
    }
    await lock.release();
  }
}
