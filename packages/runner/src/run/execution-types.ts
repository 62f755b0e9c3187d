/**
 * The types of the two executions (issue 9): what `--execution` accepts, what was chosen and why, and the
 * trainer surface the run loop drives (core's `SparseTrainer`, or a sparse trainer's adapter).
 */
import type { Batch, MaskUpdateEvent, Rng } from '@sparse-learning/core';
import type { DataSplit } from '@sparse-learning/datasets';

/** Values of `--execution`. */
export const EXECUTION_IDS = ['masked', 'sparse', 'auto'] as const;
export type ExecutionRequest = (typeof EXECUTION_IDS)[number];

/** What was chosen, and why (printed by the CLI, recorded in `config.json`). */
export interface ExecutionChoice {
  readonly requested: ExecutionRequest;
  readonly execution: 'masked' | 'sparse';
  readonly reason: string;
}

/** The trainer surface the run loop uses (core's `SparseTrainer` has it; so does the sparse adapter). */
export interface RunTrainer {
  position(): { readonly step: number; readonly epoch: number };
  readonly pruneRate: number;
  step(batch: Batch): { readonly step: number; readonly loss: number; readonly learningRate: number };
  evaluate(batches: Iterable<Batch>): { readonly loss: number; readonly accuracy: number };
  endEpoch(metrics?: Readonly<Record<string, number>>): MaskUpdateEvent | null;
  /**
   * Optional: one step on the examples `indices` of `split`, the batch assembled by the trainer itself (the
   * sparse execution: plain arrays, no batch tensors). The run loop prefers it to `step`.
   */
  stepOn?(split: DataSplit, indices: ArrayLike<number>, rng: Rng): { readonly step: number; readonly loss: number; readonly learningRate: number };
  /** Optional: `evaluate` over one pass of `split` (identity order, at most `limit` batches), no batch tensors. */
  evaluateSplit?(split: DataSplit, batchSize: number, limit: number, rng?: Rng): { readonly loss: number; readonly accuracy: number };
}

/** An execution bound to a session. */
export interface Execution {
  readonly choice: ExecutionChoice;
  readonly trainer: RunTrainer;
  /** Writes the execution's state into the session (no-op for masked). */
  sync(): void;
  /** Bytes of the sparse execution's compact layers and dense-window buffers (sparse only). */
  compactBytes?(): number;
  /**
   * Releases what the execution holds besides the session (the graph form's registered sparse conv ops and
   * tensors); called once when the run ends, before the session is disposed.
   */
  dispose?(): void;
}
