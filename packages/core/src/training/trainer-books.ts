import { SparseLearningError } from '../errors.js';
import type { ControllerState } from '../mask-update/types.js';
import { type Rng, type RngState, rngFromState } from '../rng.js';

/** Serialisable trainer state for checkpoints (model weights, masks and optimizer state are saved separately). */
export interface SparseTrainerState {
  readonly step: number;
  readonly epoch: number;
  readonly pruneRate: number;
  readonly controller: ControllerState;
  readonly rng: { readonly maskUpdate: RngState; readonly noise: RngState };
}

/**
 * The books every trainer keeps between steps — position in the schedules, current prune rate, the growth
 * controller (docs/algorithm.md#the-mask-update, step g) and the two random streams — in one shape, so the
 * masked trainer and the sparse execution write and restore checkpoints the same way.
 */
export interface TrainerBooks {
  readonly step: number;
  readonly epoch: number;
  readonly pruneRate: number;
  readonly controller: ControllerState;
  readonly maskRng: Rng;
  readonly noiseRng: Rng;
}

/** The checkpoint form of a trainer's books (the controller's history copied, the streams' states read). */
export function trainerStateOf(books: TrainerBooks): SparseTrainerState {
  return {
    step: books.step,
    epoch: books.epoch,
    pruneRate: books.pruneRate,
    controller: { adjustedGrowth: books.controller.adjustedGrowth, adjustments: [...books.controller.adjustments] },
    rng: { maskUpdate: books.maskRng.getState(), noise: books.noiseRng.getState() },
  };
}

/**
 * Checks a checkpointed trainer state (`E_CHECKPOINT_INVALID` for a negative or fractional step or epoch) and
 * rebuilds the books from it. The streams are rebuilt rather than re-seeded: a stream's seed, which its forks
 * derive from, is part of its identity.
 */
export function trainerBooksFrom(state: SparseTrainerState): TrainerBooks {
  if (!Number.isInteger(state.step) || state.step < 0 || !Number.isInteger(state.epoch) || state.epoch < 0) {
    throw new SparseLearningError(
      'E_CHECKPOINT_INVALID',
      `trainer state has step ${state.step} and epoch ${state.epoch}; both must be integers >= 0`,
    );
  }
  return {
    step: state.step,
    epoch: state.epoch,
    pruneRate: state.pruneRate,
    controller: { adjustedGrowth: state.controller.adjustedGrowth, adjustments: [...state.controller.adjustments] },
    maskRng: rngFromState(state.rng.maskUpdate),
    noiseRng: rngFromState(state.rng.noise),
  };
}
