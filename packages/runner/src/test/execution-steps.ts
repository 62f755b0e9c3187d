import { batchIndices } from '@sparse-learning/datasets';
import type { Execution } from '../run/execution-types.js';
import type { ExperimentSession } from '../run/experiment.js';

/**
 * The training steps of epoch `epoch` of `s` through `execution`, taken as the run loop takes them (the epoch's
 * data order, augmentation and dropout keys by epoch and batch; batch tensors disposed after each step); returns
 * their losses. `afterStep` runs after every step (e.g. to record the tensor count). Tests that compare the
 * masked and sparse executions (issue 9) train with it, then close the epoch themselves.
 */
export function trainEpochSteps(s: ExperimentSession, execution: Execution, epoch: number, afterStep?: () => void): number[] {
  const losses: number[] = [];
  const order = s.dataset.train.epochOrder(s.dataOrderRng(epoch), true);
  for (let b = 0; b < s.stepsPerEpoch; b++) {
    const batch = s.dataset.train.batch(batchIndices(order, b, s.config.batchSize), s.augmentRng(epoch, b));
    try {
      s.model.setRandomKey(s.dropoutKey(epoch, b));
      losses.push(execution.trainer.step(batch).loss);
    } finally {
      batch.inputs.dispose();
      batch.labels.dispose();
    }
    afterStep?.();
  }
  return losses;
}
