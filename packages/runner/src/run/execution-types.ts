/**
 * The types of the two executions (issue 9): what `--execution` accepts, what was chosen and why, and the
 * trainer surface the run loop drives (core's `SparseTrainer`, or a sparse trainer's adapter).
 */
import type { Batch, MaskUpdateEvent } from '@sparse-learning/core';

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
}

/** An execution bound to a session. */
export interface Execution {
  readonly choice: ExecutionChoice;
  readonly trainer: RunTrainer;
  /** Writes the execution's state into the session (no-op for masked). */
  sync(): void;
  /** Bytes of the sparse execution's compact layers and dense-window buffers (sparse only). */
  compactBytes?(): number;
}
