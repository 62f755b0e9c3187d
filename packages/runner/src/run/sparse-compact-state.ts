/**
 * The type of a compact sparse session (issue 9; built by ./sparse-compact-session.ts, checkpointed by
 * ./sparse-compact-checkpoint.ts): in its own file so that neither of those imports the other for it.
 */
import type { SparseTrainerState } from '@sparse-learning/core';
import type { SparseMlpLayerSpec, SparseMlpTrainer } from '@sparse-learning/backend-native';
import type { DenseChainSpec } from '@sparse-learning/models';
import type { ExecutionChoice } from './execution-types.js';
import type { RunSession } from './session.js';

/** A session whose sparse layers exist only in compact form (./sparse-compact-session.ts). */
export interface CompactSession extends RunSession {
  readonly kind: 'compact';
  readonly spec: DenseChainSpec;
  readonly choice: ExecutionChoice;
  /** The compact layers (initial draw, or a checkpoint's after a restore; the trainer's once it runs). */
  layers: SparseMlpLayerSpec[];
  /** The float target count of active weights (docs/algorithm.md#the-mask-update). */
  baselineNonzero: number;
  /** True when mask updates run on the compact arrays (dense form too large for dense views). */
  readonly compactUpdates: boolean;
  /** The trainer once the run is bound (null before). */
  trainer: SparseMlpTrainer | null;
  /**
   * The books of the dense session a dense initial draw came from (its trainer's fresh state: counters, prune
   * rate, streams), which the sparse trainer starts from; null for a compact draw (the trainer's own fresh state).
   */
  readonly initialState: SparseTrainerState | null;
  /** A checkpoint's trainer books and open window buffers, restored before the trainer is bound. */
  restored: { readonly state: SparseTrainerState; readonly window: Readonly<Record<string, Float32Array>> } | null;
}

