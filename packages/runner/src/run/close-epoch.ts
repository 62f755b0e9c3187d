import { basename } from 'node:path';
import type { Rng } from '@sparse-learning/core';
import type { DataSplit } from '@sparse-learning/datasets';
import { identityOrder, splitBatches } from './batches.js';
import { newEpochProgress } from './epoch-progress.js';
import type { EpochMetrics } from './metrics.js';
import { RunInterrupted } from './run-failure.js';
import type { ActiveRun } from './run-start.js';

/**
 * Closes a trained epoch into its {@link EpochMetrics}: evaluates the validation split (augmented as the
 * official code does, from the epoch's stream) and the test split, at most `maxEvalBatches` (default
 * `maxBatches`) batches each, ends the epoch in the trainer (the mask update runs there for epoch-triggered
 * presets, docs/algorithm.md#the-mask-update) and reads the per-layer densities after it.
 */
export function closeEpoch(run: ActiveRun, epoch: number, epochStart: number): EpochMetrics {
  const { session, trainer, config } = run;
  const { dataset } = session;
  const progress = run.progress;
  const evalLimit = config.maxEvalBatches ?? config.maxBatches ?? Number.POSITIVE_INFINITY;
  const trainLoss = progress.lossSum / progress.steps;
  const pruneRate = trainer.pruneRate;
  // A trainer that assembles its own batches (the sparse execution) evaluates a split without batch tensors.
  const evaluate = (split: DataSplit, rng?: Rng) =>
    trainer.evaluateSplit
      ? trainer.evaluateSplit(split, config.testBatchSize, evalLimit, rng)
      : trainer.evaluate(splitBatches(split, identityOrder(split.size), config.testBatchSize, evalLimit, rng));
  const validation = dataset.validation ? evaluate(dataset.validation, session.validationRng(epoch)) : null;
  const test = evaluate(dataset.test);
  trainer.endEpoch({
    trainLoss,
    ...(validation ? { validationLoss: validation.loss, validationAccuracy: validation.accuracy } : {}),
    testLoss: test.loss,
    testAccuracy: test.accuracy,
  });
  for (const update of session.takeMaskUpdates()) progress.updates.add(update);
  const layers = session.layerMetrics();
  const totalActive = layers.reduce((acc, l) => acc + l.active, 0);
  return {
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
    density: totalActive / session.maskedWeights,
    layers,
    maskUpdates: progress.updates.updates,
    redistribution: progress.updates.summary(),
    epochSeconds: (performance.now() - epochStart) / 1000,
  };
}

/**
 * Books a closed epoch: history, a fresh {@link EpochProgress}, the checkpoint and then the `metrics.jsonl`
 * line — in that order, so that if the checkpoint cannot be written, `metrics.jsonl` still matches the last
 * good checkpoint. When the run's signal has aborted and epochs remain, throws {@link RunInterrupted}.
 */
export async function recordEpoch(run: ActiveRun, metrics: EpochMetrics): Promise<void> {
  const { config, dir, logger, observer, options } = run;
  run.history.push(metrics);
  run.progress = newEpochProgress(run.progress.learningRate);
  const saved = await run.checkpoint('epoch-end');
  dir.appendMetrics(metrics);
  observer.onEpoch?.(metrics, run.startInfo);
  logger.info(
    `epoch ${metrics.epoch}/${config.epochs} loss ${metrics.trainLoss.toFixed(4)} test acc ${(100 * metrics.testAccuracy).toFixed(2)}% density ${metrics.density.toFixed(4)}`,
  );
  dir.flushLog();
  if (options.signal?.aborted && metrics.epoch < config.epochs) {
    logger.info(`interrupted: saved ${basename(saved.path)} at the end of epoch ${metrics.epoch}`);
    throw new RunInterrupted(dir.path, saved.path, metrics.epoch + 1, 0, metrics.step, options.signal.reason);
  }
}
