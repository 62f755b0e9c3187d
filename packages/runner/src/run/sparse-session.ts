/**
 * What the two sparse executions (an MLP's and a CNN's, issue 9) share in their dealings with the session:
 * reading its dense state once at the start (weights, masks, optimizer momentum — fresh or restored from a
 * checkpoint of either execution), the trainer-core options the session's configuration dictates, the run
 * loop's trainer surface over a sparse trainer, and writing the compact state back into the session's model,
 * optimizer and trainer books (at every epoch end and before every checkpoint), so that metrics, checkpoints,
 * resume and export see the same session as after a masked run.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type LearningRateSchedule, type Logger, MOMENTUM_BUFFER_SLOT, StepLrSchedule } from '@sparse-learning/core';
import type { SparseTrainerCore, SparseTrainerCoreOptions, ArrayBatch, SparseStepResult } from '@sparse-learning/backend-native';
import { mapIterable, toArrayBatch } from './array-batches.js';
import type { RunTrainer } from './execution-types.js';
import type { ExperimentSession, RunSession } from './session.js';

/** The session's dense state, read on demand (each value copied once, as a plain array). */
export interface SessionDenseState {
  /** The values of variable `name`. */
  values(name: string): Float32Array;
  /** The mask of variable `name`, or null when it is not masked. */
  mask(name: string): Uint8Array | null;
  /** The optimizer's momentum buffer of `name`, or null (no name, no momentum yet, momentum off). */
  momentum(name: string | null): Float32Array | null;
}

/** Reads the session's weights, masks and momentum (see {@link SessionDenseState}). */
export function readSessionState(session: ExperimentSession): SessionDenseState {
  const variables = new Map(session.model.variables.map((v) => [v.name, v.variable]));
  const masking = session.masking;
  const read = masking ? masking.readMasks() : [];
  const masks = new Map((masking?.names ?? []).map((name, i) => [name, read[i]]));
  return {
    values: (name) => Float32Array.from(variables.get(name)!.dataSync()),
    mask: (name) => masks.get(name) ?? null,
    momentum: (name) => {
      if (!name) return null;
      const t = session.optimizer.momentumOf(name);
      if (!t) return null;
      const values = Float32Array.from(t.dataSync());
      t.dispose();
      return values;
    },
  };
}

/**
 * The trainer-core options of the session's configuration: SGD is left to the trainer; schedules, trigger,
 * random streams, counts and the mask updater are the ones core's `SparseTrainer` got.
 */
export function trainerCoreOptionsOf(session: ExperimentSession, logger: Logger, denseGradWindow: number): SparseTrainerCoreOptions {
  const { config, masking } = session;
  return {
    maskUpdater: session.composition.maskUpdater,
    baselineNonzero: masking!.baselineNonzero,
    pruneRateSchedule: session.plan.pruneRateSchedule,
    // The schedule core's SparseTrainer got (the composition's when it provides one, else the runner's StepLR).
    learningRateSchedule:
      (session.composition as { readonly learningRateSchedule?: LearningRateSchedule }).learningRateSchedule ??
      new StepLrSchedule({ initial: config.lr, stepSize: config.decayFrequency, gamma: 0.1, steppedBeforeEachBatch: true }),
    trigger: session.plan.trigger,
    rng: session.rng,
    epochs: config.epochs,
    stepsPerEpoch: session.stepsPerEpoch,
    denseGradWindow,
    events: session.events,
    logger,
  };
}

/** The SGD options of the session's configuration (PyTorch semantics; Nesterov only with momentum). */
export function sparseSgdOf(session: RunSession): { momentum: number; nesterov: boolean; weightDecay: number } {
  const { config } = session;
  return { momentum: config.momentum, nesterov: config.nesterov && config.momentum > 0, weightDecay: config.l2 };
}

/** A sparse trainer as the run loop drives it. */
type SparseTrainerLike = SparseTrainerCore & {
  step(batch: ArrayBatch): SparseStepResult;
  evaluate(batches: Iterable<ArrayBatch>): { loss: number; accuracy: number };
};

/**
 * The run loop's trainer surface over `sparse`. At each epoch end the masks (which the epoch's metrics read)
 * and the books go back to the session at once (`syncMasks`); weights and momentum follow before the
 * checkpoint (the execution's `sync`).
 */
export function runTrainerOf(
  session: { readonly trainer: { setState(state: ReturnType<SparseTrainerCore['getState']>): void } | null },
  sparse: SparseTrainerLike,
  syncMasks: () => void,
): RunTrainer {
  return {
    position: () => sparse.position(),
    get pruneRate() {
      return sparse.pruneRate;
    },
    step: (batch) => sparse.step(toArrayBatch(batch)),
    evaluate: (batches) => sparse.evaluate(mapIterable(batches, toArrayBatch)),
    endEpoch: (metrics) => {
      const event = sparse.endEpoch(metrics);
      syncMasks();
      session.trainer?.setState(sparse.getState());
      return event;
    },
  };
}

/** One layer's state in the model's layout, as {@link writeSessionState} writes it. */
export interface DenseLayerState {
  readonly weightName: string;
  readonly weight: Float32Array;
  /** The momentum the masked path would hold. */
  readonly momentum: Float32Array;
  readonly biasName: string | null;
  readonly bias: Float32Array | null;
  readonly biasMomentum: Float32Array | null;
}

/**
 * Writes weights, momentum (when the run has momentum) and the trainer books into the session's model,
 * optimizer and trainer; the masks are the caller's (they change at other times).
 */
export function writeSessionState(session: ExperimentSession, sparse: SparseTrainerCore, layers: Iterable<DenseLayerState>): void {
  const variables = new Map(session.model.variables.map((v) => [v.name, v.variable]));
  const slots: Record<string, Record<string, Float32Array>> = {};
  const withMomentum = session.config.momentum > 0;
  tf.tidy(() => {
    for (const layer of layers) {
      const weight = variables.get(layer.weightName)!;
      weight.assign(tf.tensor(layer.weight, weight.shape, 'float32'));
      if (withMomentum) slots[layer.weightName] = { [MOMENTUM_BUFFER_SLOT]: layer.momentum };
      if (layer.biasName && layer.bias) {
        const bias = variables.get(layer.biasName)!;
        bias.assign(tf.tensor(layer.bias, bias.shape, 'float32'));
        if (withMomentum && layer.biasMomentum) slots[layer.biasName] = { [MOMENTUM_BUFFER_SLOT]: layer.biasMomentum };
      }
    }
  });
  const state = session.optimizer.getState();
  session.optimizer.setState({ id: state.id, iterations: sparse.completedSteps, slots });
  session.trainer.setState(sparse.getState());
}
