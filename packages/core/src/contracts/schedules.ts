/**
 * The prune-rate schedule `p(t)` (docs/algorithm.md#the-prune-rate-schedule), stepped once per mini-batch: `t` is the number of completed
 * optimizer steps and `totalSteps = epochs × batchesPerEpoch`. Stateless by design: the value is a pure
 * function of `t`, so a resumed run needs no schedule state besides the step counter.
 */
export interface PruneRateSchedule {
  readonly id: string;
  /** The prune rate after `step` calls of the official `.step()`. */
  rateAt(step: number): number;
}

/**
 * The learning-rate schedule (docs/algorithm.md#recipes), a pure function of the 0-based global mini-batch index. The official
 * StepLR is stepped *before* each batch, so batch `b` uses `lr0 · γ^floor((b + 1) / stepSize)`.
 */
export interface LearningRateSchedule {
  readonly id: string;
  /** The learning rate used by mini-batch `batch` (0-based, counted over the whole run). */
  rateAt(batch: number): number;
}
