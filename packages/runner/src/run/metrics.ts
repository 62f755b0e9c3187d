/** One layer's size and active count at an epoch end. */
export interface LayerMetrics {
  readonly name: string;
  readonly size: number;
  readonly active: number;
  readonly density: number;
}

/** One layer's part in the mask updates of an epoch (redistribution share of the last update, totals of all). */
export interface LayerRedistribution {
  readonly name: string;
  /** Normalised redistribution share `v_i` of the epoch's last mask update (docs/algorithm.md#the-mask-update). */
  readonly share: number;
  /** Weights removed by all updates of the epoch. */
  readonly removed: number;
  /** Weights regrown by all updates of the epoch. */
  readonly regrown: number;
}

/**
 * One line of `metrics.jsonl`: everything measured at the end of an epoch (after its mask update, if any).
 * Accuracies are fractions in [0, 1]; `null` where a split does not exist.
 */
export interface EpochMetrics {
  readonly epoch: number;
  /** Optimizer steps completed so far. */
  readonly step: number;
  /** Mean training loss over the epoch's mini-batches. */
  readonly trainLoss: number;
  readonly validationLoss: number | null;
  readonly validationAccuracy: number | null;
  readonly testLoss: number;
  readonly testAccuracy: number;
  /** Learning rate of the epoch's last mini-batch. */
  readonly learningRate: number;
  /** Prune rate `p` after the epoch's last mini-batch (the one an end-of-epoch update uses). */
  readonly pruneRate: number;
  /** Active weights over all masked tensors (all prunable weights for a dense run). */
  readonly totalActive: number;
  readonly density: number;
  readonly layers: readonly LayerMetrics[];
  /** Mask updates run during this epoch. */
  readonly maskUpdates: number;
  /** Redistribution of this epoch's updates, or null when none ran. */
  readonly redistribution: readonly LayerRedistribution[] | null;
  /** Wall-clock seconds of the epoch (training + mask update + evaluation). */
  readonly epochSeconds: number;
}

/** `results.json`: the outcome of one run. */
export interface RunResults {
  readonly preset: string;
  readonly model: string;
  readonly dataset: string;
  readonly density: number;
  readonly seed: number;
  readonly backend: { readonly name: string; readonly reason: string };
  readonly epochs: number;
  readonly steps: number;
  /** Last-epoch test accuracy (the paper reports the final model, no best-validation selection). */
  readonly testAccuracy: number;
  /** `1 − testAccuracy`. */
  readonly testError: number;
  readonly validationAccuracy: number | null;
  readonly trainLoss: number;
  readonly totalActive: number;
  readonly finalDensity: number;
  readonly maskedWeights: number;
  readonly totalParameters: number;
  readonly seconds: number;
  readonly startedAt: string;
  readonly finishedAt: string;
}
