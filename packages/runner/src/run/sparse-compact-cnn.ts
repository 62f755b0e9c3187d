/**
 * A sparse CNN run that trains without the dense TF.js model (issue 9): LeNet-5-Caffe, or any model of conv +
 * ReLU [+ 2×2 max pool] stages and Dense layers, in sparse execution with `--sparse-state auto` (the default).
 *
 * The session starts as the dense session (its model, masks and streams drawn as the masked run draws them),
 * so a resumed run restores its checkpoint there exactly as before; when the execution is bound, before the
 * first step, the `SparseCnnTrainer` is built from that state (./sparse-cnn-execution.ts) and the dense model,
 * masks, optimizer and trainer are disposed. From then on the compact layers are the run's only state: no
 * write-back at epoch ends, metrics from the trainer's active counts.
 *
 * Checkpoints keep the dense form a `--sparse-state dense` run writes — each layer's dense view (weights, mask,
 * the momentum the masked path would hold), materialised from the compact layers at the checkpoint only: the
 * same file, so resume (in either execution and either form) and `export` work as before, and LeNet-5's dense
 * form is 1.7 MB. `--sparse-state dense` keeps the dense model beside the trainer (the earlier form).
 */
import type { CapturedVariable, CheckpointData } from '@sparse-learning/checkpoint';
import { MOMENTUM_BUFFER_SLOT, type Logger } from '@sparse-learning/core';
import type { SparseCnnTrainer } from '@sparse-learning/backend-native';
import { checkpointParts, restoreRunState } from './checkpointing.js';
import type { Execution, ExecutionChoice } from './execution-types.js';
import type { LayerMetrics } from './metrics.js';
import type { ActiveRun, RunStartContext } from './run-start.js';
import { startRunWith } from './run-start.js';
import type { ExperimentSession, RunSession } from './session.js';
import { sparseCnnTrainerOf } from './sparse-cnn-execution.js';
import { denseFormOfCheckpoint } from './sparse-compact-checkpoint.js';
import { runTrainerOf } from './sparse-session.js';

/** A sparse CNN session whose dense form is released once its trainer is bound (see the module comment). */
export interface CompactCnnSession extends RunSession {
  readonly kind: 'compact-cnn';
  readonly choice: ExecutionChoice;
  /** The dense session the initial state (or a checkpoint) is read from; null once the trainer is bound. */
  dense: ExperimentSession | null;
  /** The trainer once bound (null before). */
  trainer: SparseCnnTrainer | null;
}

/**
 * What a compact session keeps of its dense session's bookkeeping once the dense tensors are released (shapes,
 * masked names and sizes, the optimizer id, the baseline count): checkpoints and metrics are written from it
 * (shared with the graph form, ./sparse-compact-graph.ts).
 */
export interface DenseRecord {
  readonly shapes: ReadonlyMap<string, readonly number[]>;
  readonly masked: ReadonlySet<string>;
  readonly sizes: ReadonlyMap<string, number>;
  readonly optimizerId: string;
  baselineNonzero: number;
}

/** The {@link DenseRecord} of `dense` (read before anything is released). */
export function denseRecordOf(dense: ExperimentSession): DenseRecord {
  return {
    shapes: new Map(dense.model.variables.map((v) => [v.name, [...v.variable.shape]])),
    masked: new Set(dense.masking?.names ?? []),
    sizes: new Map((dense.masking?.counts() ?? []).map((c) => [c.name, c.size])),
    optimizerId: dense.optimizer.id,
    baselineNonzero: dense.masking?.baselineNonzero ?? 0,
  };
}

/**
 * The run facts and streams a compact session takes over from its dense session (configuration, data, plan,
 * counts, random streams, events): everything of a {@link RunSession} but its metrics and its disposal.
 */
export function compactSessionFieldsOf(dense: ExperimentSession): Omit<RunSession, 'layerMetrics' | 'dispose'> {
  const states = dense.initRngStates();
  return {
    config: dense.config,
    backend: dense.backend,
    dataset: dense.dataset,
    plan: dense.plan,
    composition: dense.composition,
    stepsPerEpoch: dense.stepsPerEpoch,
    totalSteps: dense.totalSteps,
    maskedWeights: dense.maskedWeights,
    totalParameters: dense.totalParameters,
    rng: dense.rng,
    initRngStates: () => states,
    dataOrderRng: (epoch) => dense.dataOrderRng(epoch),
    augmentRng: (epoch, batch) => dense.augmentRng(epoch, batch),
    validationRng: (epoch) => dense.validationRng(epoch),
    dropoutKey: (epoch, batch) => dense.dropoutKey(epoch, batch),
    events: dense.events,
    takeMaskUpdates: () => dense.takeMaskUpdates(),
  };
}

/** Per-layer metrics of the masked layers from a trainer's active counts (`names[i]` has `counts[i]`). */
export function activeLayerMetrics(record: DenseRecord, names: readonly string[], counts: readonly number[]): LayerMetrics[] {
  return names
    .map((name, i) => ({ name, active: counts[i] }))
    .filter(({ name }) => record.masked.has(name))
    .map(({ name, active }) => {
      const size = record.sizes.get(name)!;
      return { name, size, active, density: active / size };
    });
}

/** The compact CNN session over `dense` (a fresh dense session whose execution was chosen sparse). */
export function compactCnnSessionOf(dense: ExperimentSession, choice: ExecutionChoice): CompactCnnSession {
  const record = denseRecordOf(dense);
  const session: CompactCnnSession = {
    kind: 'compact-cnn',
    choice: { ...choice, reason: `${choice.reason}; compact state: the dense model is released once the trainer is built` },
    dense,
    trainer: null,
    ...compactSessionFieldsOf(dense),
    layerMetrics: (): LayerMetrics[] => {
      if (session.dense) return session.dense.layerMetrics();
      const trainer = session.trainer!;
      return activeLayerMetrics(record, trainer.weightNames, trainer.activeCounts());
    },
    dispose: () => {
      session.dense?.dispose();
      session.dense = null;
      session.trainer = null;
    },
  };
  sessionRecords.set(session, record);
  return session;
}

const sessionRecords = new WeakMap<CompactCnnSession, DenseRecord>();

/**
 * The sparse execution of a compact CNN session: builds the trainer from the (fresh or restored) dense session,
 * then releases the dense session (exported for tests).
 */
export function bindCompactCnn(session: CompactCnnSession, choice: ExecutionChoice, logger: Logger): Execution {
  const dense = session.dense!;
  const record = sessionRecords.get(session)!;
  const trainer = sparseCnnTrainerOf(dense, logger, session.config.denseGradWindow);
  // A restored checkpoint may carry another baseline than the fresh draw.
  record.baselineNonzero = dense.masking?.baselineNonzero ?? record.baselineNonzero;
  session.trainer = trainer;
  session.dense = null;
  dense.dispose();
  logger.info('compact state: the dense model, masks and optimizer are released; checkpoints materialise dense views of the compact layers');
  return {
    choice,
    trainer: runTrainerOf({ trainer: null }, trainer, () => {}),
    // The compact layers are the state: nothing to write back.
    sync: () => {},
    compactBytes: () => trainer.bytes(),
  };
}

/**
 * The checkpoint of a compact CNN session: the dense form `captureRunState` writes for the same run in
 * `--sparse-state dense` (weights, masks and momentum from the trainer's dense views, biases, the trainer books).
 */
export function captureCompactCnnRunState(session: CompactCnnSession, args: Parameters<typeof checkpointParts>[3]): CheckpointData {
  const trainer = session.trainer!;
  const record = sessionRecords.get(session)!;
  const withMomentum = session.config.momentum > 0;
  const variables: Record<string, CapturedVariable> = {};
  const masks: Record<string, Uint8Array> = {};
  const slots: Record<string, Record<string, Float32Array>> = {};
  for (let i = 0; i < trainer.weightNames.length; i++) {
    const view = trainer.denseView(i);
    variables[view.weightName] = { shape: [...record.shapes.get(view.weightName)!], dtype: 'float32', values: view.weight };
    if (record.masked.has(view.weightName)) masks[view.weightName] = view.mask;
    if (withMomentum) slots[view.weightName] = { [MOMENTUM_BUFFER_SLOT]: view.momentum };
    if (view.biasName && view.bias) {
      variables[view.biasName] = { shape: [...record.shapes.get(view.biasName)!], dtype: 'float32', values: view.bias };
      if (withMomentum && view.biasMomentum) slots[view.biasName] = { [MOMENTUM_BUFFER_SLOT]: view.biasMomentum };
    }
  }
  // The model's variable order, as captureTensors writes it.
  const ordered: Record<string, CapturedVariable> = {};
  for (const name of record.shapes.keys()) if (variables[name]) ordered[name] = variables[name];
  const state = trainer.getState();
  return {
    ...checkpointParts(session, state, trainer.position(), args, { baselineNonzero: record.baselineNonzero }),
    tensors: { variables: ordered, masks, optimizer: { id: record.optimizerId, iterations: trainer.completedSteps, slots } },
  };
}

/** `startRun` for a compact CNN session: restore into its dense session, bind (releasing it), checkpoint in dense form. */
export function startCompactCnnRun(session: CompactCnnSession, context: RunStartContext): ActiveRun {
  const { config } = context.options;
  return startRunWith(session, context, {
    choice: session.choice,
    restore: (resume) => restoreRunState(session.dense!, denseFormOfCheckpoint(resume, config.momentum > 0), config),
    bind: (choice, logger) => bindCompactCnn(session, choice, logger),
    capture: (args) => captureCompactCnnRunState(session, args),
  });
}
