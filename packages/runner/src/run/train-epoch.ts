import { basename } from 'node:path';
import { batchIndices } from '@sparse-learning/datasets';
import { HOLD_MARKER } from './run-directory.js';
import { holdUntilAborted, yieldToEventLoop } from './run-controls.js';
import { RunInterrupted } from './run-failure.js';
import type { ActiveRun } from './run-start.js';
import type { ExperimentSession } from './session.js';

/**
 * The training pass of one epoch (docs/algorithm.md#the-mask-update loop): the epoch's shuffled mini-batches
 * from `run.progress.batch` on (a resumed epoch skips the batches already done without drawing: data order
 * and augmentation are pure functions of (seed, epoch, batch)), one trainer step each, folding losses and
 * mask updates into `run.progress`.
 *
 * After every step it yields to the event loop, so a signal handler can run; when the run's signal has
 * aborted and batches remain, it saves a checkpoint and throws {@link RunInterrupted}. A signal after the
 * last batch lets the epoch close normally (an epoch-end mask update may need the last step's gradients).
 *
 * @param epochStart `performance.now()` at the start of the epoch, minus the seconds a resumed epoch had spent
 */
export async function trainEpoch(run: ActiveRun, epoch: number, epochStart: number): Promise<void> {
  const { session, trainer, config, options, observer, dir, logger } = run;
  const { signal } = options;
  const { dataset, stepsPerEpoch } = session;
  const progress = run.progress;
  session.takeMaskUpdates();
  const order = dataset.train.epochOrder(session.dataOrderRng(epoch), true);
  for (let b = progress.batch; b < stepsPerEpoch; b++) {
    const indices = batchIndices(order, b, config.batchSize);
    let result;
    if (trainer.stepOn) {
      // The trainer assembles the batch itself (the sparse execution: plain arrays, no tensors).
      if ('model' in session) (session as ExperimentSession).model.setRandomKey(session.dropoutKey(epoch, b));
      result = trainer.stepOn(dataset.train, indices, session.augmentRng(epoch, b));
    } else {
      const batch = dataset.train.batch(indices, session.augmentRng(epoch, b));
      try {
        if ('model' in session) (session as ExperimentSession).model.setRandomKey(session.dropoutKey(epoch, b));
        result = trainer.step(batch);
      } finally {
        batch.inputs.dispose();
        batch.labels.dispose();
      }
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
      const saved = await run.checkpoint('signal');
      logger.info(`interrupted: saved ${basename(saved.path)} at epoch ${epoch}, batch ${b + 1}/${stepsPerEpoch}, step ${result.step}`);
      throw new RunInterrupted(dir.path, saved.path, epoch, b + 1, result.step, signal.reason);
    }
  }
}
