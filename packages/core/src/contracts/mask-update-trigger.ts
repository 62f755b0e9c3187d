/** Where training is, as a trigger sees it. */
export interface TrainingPosition {
  /** Completed optimizer steps (mini-batches) over the whole run. */
  readonly step: number;
  /** Completed epochs (1-based after the first epoch ends; 0 during epoch 1). */
  readonly epoch: number;
  /** Total epochs `E` of the run. */
  readonly epochs: number;
  readonly stepsPerEpoch: number;
}

/**
 * Decides when the prune–redistribute–regrow cycle runs (docs/algorithm.md#when-masks-change). The default fires at the end of every
 * epoch except the last (E − 1 updates); alternatives fire every k steps between bounds (RigL, DeepR).
 */
export interface MaskUpdateTrigger {
  readonly id: string;
  /** Called after every optimizer step (after masking and schedule stepping). */
  afterStep(position: TrainingPosition): boolean;
  /** Called after the last step of every epoch (position.epoch already counts the finished epoch). */
  afterEpoch(position: TrainingPosition): boolean;
}
