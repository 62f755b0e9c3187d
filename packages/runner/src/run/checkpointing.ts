import {
  assertCompatible,
  captureTensors,
  restoreVariables,
  variableShapesOf,
  type CheckpointData,
  type JsonValue,
  type LoadedCheckpoint,
} from '@sparse-learning/checkpoint';
import { SparseLearningError, isStatefulStrategy, type RngState, type SparseTrainerState, type StatefulStrategy } from '@sparse-learning/core';
import type { ExperimentConfig } from '../config/schema.js';
import { RUNNER_VERSION } from '../version.js';
import { epochProgressFromJson, epochProgressToJson, type EpochProgress } from './epoch-progress.js';
import type { ExperimentSession, RunSession } from './session.js';
import type { EpochMetrics } from './metrics.js';
import { configIdentity } from './run-identity.js';
import { decodeState, encodeState } from './state-codec.js';


/** The stateful parts of a session by a stable key (`prune:<id>`, `growth:<id>`, ..., `transform:<i>:<id>`). */
export function statefulParts(session: RunSession): [string, StatefulStrategy][] {
  const { composition, plan } = session;
  const parts: [string, unknown][] = [
    [`prune:${composition.prune.id}`, composition.prune],
    [`growth:${composition.growth.id}`, composition.growth],
    [`redistribution:${composition.redistribution.id}`, composition.redistribution],
    ...plan.gradientTransforms.map((t, i): [string, unknown] => [`transform:${i}:${t.id}`, t]),
  ];
  if (composition.distribution) parts.push([`distribution:${composition.distribution.id}`, composition.distribution]);
  return parts.filter((p): p is [string, StatefulStrategy] => isStatefulStrategy(p[1]));
}

/** Run facts a checkpoint records besides the engine state (the checkpoint's `extra`). */
export interface RunRecord {
  readonly origins: Readonly<Record<string, string>>;
  readonly backend: { readonly name: string; readonly reason: string };
  readonly plugins: readonly { readonly specifier: string; readonly resolved: string }[];
  /** Total wall-clock seconds of training before this checkpoint, over every session of the run. */
  readonly elapsedSeconds: number;
  readonly startedAt: string;
}

/** Why a checkpoint was written. */
export type CheckpointReason = 'epoch-end' | 'signal';

/** Everything the runner reads back from a checkpoint's `extra`. */
export interface ResumeExtra extends RunRecord {
  readonly reason: CheckpointReason;
  /** True once every epoch is done (the final checkpoint). */
  readonly complete: boolean;
  /** The epoch in progress (`batch > 0` only for a mid-epoch checkpoint). */
  readonly progress: EpochProgress;
  /** `Masking.baselineNonzero` (the float target count, docs/algorithm.md#the-mask-update), or null for dense runs. */
  readonly baselineNonzero: number | null;
  /** `createModel` options that rebuild the model (for `export`). */
  readonly modelOptions: { readonly inputShape: readonly number[]; readonly numClasses: number };
  readonly runnerVersion: string;
  /** The run's identity (`configIdentity` of its configuration); absent in checkpoints of older versions. */
  readonly configHash?: string;
  /**
   * Present when the checkpoint holds a compact sparse session's state (issue 9, ./sparse-compact-checkpoint.ts):
   * its format, version and layer layout. Absent: the dense form (weights, masks, dense optimizer slots).
   */
  readonly sparseState?: CompactStateRecord;
}

/** The layout record of a compact checkpoint (see ./sparse-compact-checkpoint.ts). */
export interface CompactStateRecord {
  readonly format: 'compact-mlp';
  readonly version: number;
  readonly layers: readonly {
    readonly weightName: string;
    readonly biasName: string | null;
    readonly in: number;
    readonly out: number;
    readonly relu: boolean;
  }[];
}

/**
 * Snapshots a run: weights (batch-norm statistics included), masks, optimizer slots (dense: momentum of zero
 * weights included), the trainer state (step, epoch, prune rate, growth controller and its history, the
 * `mask-update` and `noise` streams), the states of the stateful strategies, the position inside the epoch,
 * the metrics history and the resolved configuration. The data-order and augmentation streams are pure
 * functions of (seed, epoch, batch) and need no state; their current states are recorded for inspection, as
 * are those of the initialisation streams (`mask-init`, `preset-init`; masks and signs are restored directly).
 */
export function captureRunState(
  session: ExperimentSession,
  args: {
    readonly history: readonly EpochMetrics[];
    readonly progress: EpochProgress;
    readonly reason: CheckpointReason;
    readonly record: RunRecord;
  },
): CheckpointData {
  const { trainer, masking, model, optimizer } = session;
  const trainerState = trainer.getState();
  const position = trainer.position();
  const masks: Record<string, Uint8Array> = {};
  if (masking) {
    const read = masking.readMasks();
    masking.names.forEach((name, i) => (masks[name] = read[i]));
  }
  const baselineNonzero = masking ? masking.baselineNonzero : null;
  return {
    ...checkpointParts(session, trainerState, position, args, { baselineNonzero }),
    tensors: captureTensors(model.variables, masks, optimizer.getState()),
  };
}

/**
 * The parts of a checkpoint that both session forms (dense-backed and compact, ./sparse-compact-checkpoint.ts)
 * write the same way: counters, trainer state, the RNG streams, the stateful strategies' states, the metrics
 * history and the run record (`extra`, with `extraRecord` merged in). The caller adds its tensors.
 */
export function checkpointParts(
  session: RunSession,
  trainerState: SparseTrainerState,
  position: { readonly epoch: number; readonly step: number },
  args: { readonly history: readonly EpochMetrics[]; readonly progress: EpochProgress; readonly reason: CheckpointReason; readonly record: RunRecord },
  extraRecord: Pick<ResumeExtra, 'baselineNonzero'> & Partial<Pick<ResumeExtra, 'sparseState'>>,
): Omit<CheckpointData, 'tensors'> {
  const { config } = session;
  const epochInProgress = position.epoch + 1;
  const rngStates: Record<string, RngState> = {
    ...session.initRngStates(),
    'mask-update': trainerState.rng.maskUpdate,
    noise: trainerState.rng.noise,
    'data-order': session.dataOrderRng(epochInProgress).getState(),
    augment: session.augmentRng(epochInProgress, args.progress.batch).getState(),
  };
  const strategyStates: Record<string, JsonValue> = {};
  for (const [key, part] of statefulParts(session)) strategyStates[key] = encodeState(part.getState());
  const extra: ResumeExtra = {
    ...args.record,
    reason: args.reason,
    complete: position.epoch >= config.epochs,
    progress: args.progress,
    baselineNonzero: extraRecord.baselineNonzero,
    modelOptions: { inputShape: [...session.dataset.inputShape], numClasses: session.dataset.numClasses },
    runnerVersion: RUNNER_VERSION,
    configHash: configIdentity(config),
    ...(extraRecord.sparseState ? { sparseState: extraRecord.sparseState } : {}),
  };
  return {
    modelId: config.model,
    config: encodeState(config),
    epoch: position.epoch,
    step: position.step,
    trainerState: encodeState(trainerState),
    rngStates,
    strategyStates,
    metricsHistory: args.history.map((m) => encodeState(m)),
    extra: encodeState({ ...extra, progress: epochProgressToJson(args.progress) }) as Record<string, JsonValue>,
  };
}

/** The runner's view of a loaded checkpoint's `extra` (validated). */
export function resumeExtraOf(checkpoint: LoadedCheckpoint): ResumeExtra {
  const raw = decodeState(checkpoint.extra as JsonValue) as Record<string, unknown> | undefined;
  if (!raw || typeof raw !== 'object' || !raw.modelOptions || !raw.backend || typeof raw.complete !== 'boolean') {
    throw new SparseLearningError(
      'E_CHECKPOINT_INCOMPATIBLE',
      `checkpoint '${checkpoint.path}' was not written by the sparse-learning runner (its run record is missing)`,
      { path: checkpoint.path },
    );
  }
  return { ...(raw as unknown as ResumeExtra), progress: epochProgressFromJson(raw.progress) };
}

/** The metrics history of a checkpoint (one row per completed epoch). */
export function historyOf(checkpoint: LoadedCheckpoint): EpochMetrics[] {
  return checkpoint.metricsHistory.map((m) => decodeState(m) as EpochMetrics);
}

/**
 * Puts a freshly prepared session into the checkpoint's state: checks compatibility first (model, variable
 * shapes, masked tensors, optimizer, the configuration values that shape the model — every difference is
 * listed), then restores weights bit for bit, masks, `baselineNonzero`, optimizer slots, the trainer state and
 * every stateful strategy.
 *
 * @throws `E_CHECKPOINT_INCOMPATIBLE` listing what differs; `E_CHECKPOINT_INVALID` for a malformed state.
 */
export function restoreRunState(session: ExperimentSession, checkpoint: LoadedCheckpoint, config: ExperimentConfig): ResumeExtra {
  const extra = resumeExtraOf(checkpoint);
  if (extra.sparseState) {
    throw new SparseLearningError(
      'E_CHECKPOINT_INCOMPATIBLE',
      `checkpoint '${checkpoint.path}' holds a compact sparse state (${extra.sparseState.format} v${extra.sparseState.version}: values, indices and slots of the active weights only); resume it in sparse execution with compact state: --execution sparse --sparse-state compact (or auto)`,
      { path: checkpoint.path, sparseState: extra.sparseState.format, valid: ['--execution sparse --sparse-state compact'] },
    );
  }
  const { masking, model, optimizer, trainer } = session;
  assertCompatible(checkpoint, {
    modelId: config.model,
    variableShapes: variableShapesOf(model.variables),
    maskNames: masking ? masking.names : [],
    optimizerId: optimizer.id,
    config: { model: config.model, dataset: config.dataset, preset: config.preset, density: config.density, seed: config.seed },
  });
  const position = trainer.position();
  const parts = statefulParts(session);
  const missing = parts.filter(([key]) => !(key in checkpoint.strategyStates)).map(([key]) => key);
  if (missing.length > 0) {
    throw new SparseLearningError(
      'E_CHECKPOINT_INCOMPATIBLE',
      `checkpoint (epoch ${checkpoint.epoch}, step ${checkpoint.step}) has no state for ${missing.join(', ')}; stored: ${Object.keys(checkpoint.strategyStates).join(', ') || 'none'}`,
      { missing },
    );
  }
  if (position.step !== 0) {
    throw new SparseLearningError('E_ENGINE_STATE', 'a checkpoint can only be restored into a fresh session (step 0)');
  }
  restoreVariables(model.variables, checkpoint.tensors);
  if (masking) {
    masking.setMasks(masking.names.map((name) => checkpoint.tensors.masks[name]));
    if (extra.baselineNonzero !== null) masking.baselineNonzero = extra.baselineNonzero;
  }
  if (checkpoint.tensors.optimizer) optimizer.setState(checkpoint.tensors.optimizer);
  trainer.setState(decodeState(checkpoint.trainerState as JsonValue) as SparseTrainerState);
  for (const [key, part] of parts) part.setState(decodeState(checkpoint.strategyStates[key]));
  return extra;
}
