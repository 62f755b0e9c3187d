import type { MaskUpdateEvent } from '@sparse-learning/core';
import type { JsonValue } from '@sparse-learning/checkpoint';
import { SparseLearningError } from '@sparse-learning/core';
import type { LayerRedistribution } from './metrics.js';

/**
 * The mask updates of one epoch folded as they happen: per-layer removed/regrown totals and the last update's
 * redistribution shares. Folding (instead of keeping the events) lets a mid-epoch checkpoint carry the epoch's
 * updates so far in a few numbers, and a resumed epoch report exactly what an uninterrupted one would.
 */
export class UpdateSummary {
  private count = 0;
  private names: string[] = [];
  private shares: number[] = [];
  private removed: number[] = [];
  private regrown: number[] = [];

  get updates(): number {
    return this.count;
  }

  add(event: MaskUpdateEvent): void {
    this.count++;
    this.names = event.layers.map((l) => l.name);
    this.shares = event.layers.map((l) => (Number.isFinite(l.share) ? l.share : 0));
    event.layers.forEach((layer, i) => {
      this.removed[i] = (this.removed[i] ?? 0) + layer.removed;
      this.regrown[i] = (this.regrown[i] ?? 0) + layer.regrown;
    });
  }

  /** Per-layer summary (the last update's layers), or null when no update ran this epoch. */
  summary(): LayerRedistribution[] | null {
    if (this.count === 0) return null;
    return this.names.map((name, i) => ({ name, share: this.shares[i], removed: this.removed[i] ?? 0, regrown: this.regrown[i] ?? 0 }));
  }

  toJSON(): JsonValue {
    return { count: this.count, names: this.names, shares: this.shares, removed: this.removed, regrown: this.regrown };
  }

  static fromJSON(value: unknown): UpdateSummary {
    const v = value as { count?: unknown; names?: unknown; shares?: unknown; removed?: unknown; regrown?: unknown } | null;
    const numbers = (x: unknown) => Array.isArray(x) && x.every((n) => typeof n === 'number');
    if (!v || typeof v.count !== 'number' || !Array.isArray(v.names) || !numbers(v.shares) || !numbers(v.removed) || !numbers(v.regrown)) {
      throw new SparseLearningError('E_CHECKPOINT_INVALID', `checkpoint holds a malformed mask-update summary: ${JSON.stringify(value)}`);
    }
    const s = new UpdateSummary();
    s.count = v.count;
    s.names = [...(v.names as string[])];
    s.shares = [...(v.shares as number[])];
    s.removed = [...(v.removed as number[])];
    s.regrown = [...(v.regrown as number[])];
    return s;
  }
}

/** Where a run stands inside an epoch: what a mid-epoch checkpoint must carry to finish the epoch identically. */
export interface EpochProgress {
  /** Training batches of the epoch already done (the next batch index). */
  batch: number;
  /** Sum of the done batches' losses (a double; JSON round-trips it exactly). */
  lossSum: number;
  steps: number;
  /** Learning rate of the last done batch. */
  learningRate: number;
  /** Wall-clock seconds spent in this epoch so far (timings only; never compared). */
  seconds: number;
  updates: UpdateSummary;
}

/** A fresh epoch. */
export function newEpochProgress(learningRate: number): EpochProgress {
  return { batch: 0, lossSum: 0, steps: 0, learningRate, seconds: 0, updates: new UpdateSummary() };
}

/** JSON form of {@link EpochProgress} for the checkpoint's `extra`. */
export function epochProgressToJson(p: EpochProgress): JsonValue {
  return { batch: p.batch, lossSum: p.lossSum, steps: p.steps, learningRate: p.learningRate, seconds: p.seconds, updates: p.updates.toJSON() };
}

/** Reverses {@link epochProgressToJson}. @throws `E_CHECKPOINT_INVALID` when malformed. */
export function epochProgressFromJson(value: unknown): EpochProgress {
  const v = value as Partial<Record<keyof EpochProgress, unknown>> | null;
  if (
    !v ||
    !Number.isInteger(v.batch) ||
    typeof v.lossSum !== 'number' ||
    !Number.isInteger(v.steps) ||
    typeof v.learningRate !== 'number' ||
    typeof v.seconds !== 'number'
  ) {
    throw new SparseLearningError('E_CHECKPOINT_INVALID', `checkpoint holds a malformed epoch position: ${JSON.stringify(value)}`);
  }
  return {
    batch: v.batch as number,
    lossSum: v.lossSum,
    steps: v.steps as number,
    learningRate: v.learningRate,
    seconds: v.seconds,
    updates: UpdateSummary.fromJSON(v.updates),
  };
}
