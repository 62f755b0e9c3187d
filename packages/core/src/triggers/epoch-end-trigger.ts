import type { MaskUpdateTrigger, TrainingPosition } from '../contracts/mask-update-trigger.js';

/** Registry id of {@link EpochEndTrigger}. */
export const EPOCH_END_TRIGGER_ID = 'epoch-end';

/**
 * The official schedule of mask updates (docs/algorithm.md#when-masks-change, `main.py`: `if not dense and epoch < epochs:
 * mask.at_end_of_epoch()`): one update after every epoch except the last, i.e. `E − 1` updates for `E`
 * epochs, none before training and none between mini-batches. The default trigger.
 */
export class EpochEndTrigger implements MaskUpdateTrigger {
  readonly id = EPOCH_END_TRIGGER_ID;

  afterStep(_position?: TrainingPosition): boolean {
    return false;
  }

  /** `position.epoch` already counts the finished epoch (1 after the first). */
  afterEpoch(position: TrainingPosition): boolean {
    return position.epoch < position.epochs;
  }
}
