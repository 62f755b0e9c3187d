/**
 * A sparse run of the graph form (issue 9: WideResNets, VGG — batch norm, residual adds, dropout) whose dense
 * per-conv state is released once its `SparseGraphTrainer` is bound, so that the memory of its conv filters
 * follows the active weights (`--sparse-state auto`, the default). Designed after the compact CNN session
 * (./sparse-compact-cnn.ts), whose pieces it reuses.
 *
 * The session starts as the dense session (model, masks, streams drawn as the masked run draws them), so a
 * resumed run restores its checkpoint there exactly as before. When the execution is bound, before the first
 * step, the trainer is built from that state (./sparse-graph-execution.ts) and what is dense and per-conv is
 * released ({@link releaseDenseConvState}): the conv filter variables (the graph's conv nodes run the trainer's
 * sparse conv ops, never the tfjs Conv2D layers), the masking's masks (byte arrays and float32 tensors; the
 * classifier's mask lives in the trainer), the optimizer's momentum slots of the conv filters and the dense
 * trainer's buffers. What the graph still runs on stays in the model and is trained as before: batch-norm γ/β
 * and running statistics, conv biases, the classifier (its mask in the trainer, its momentum in the optimizer),
 * the dropout layers and their keyed stream. Nothing is written back at epoch ends; metrics come from the
 * trainer's active counts.
 *
 * Checkpoints keep the dense form a `--sparse-state dense` run writes (docs/algorithm.md#the-mask-update: the
 * same weights, masks and momentum): the conv filters' dense views (weights, masks, the momentum the masked
 * path would hold) are materialised from the compact layers at the checkpoint only and not kept; the other
 * variables and slots are read from the model and optimizer. So `--resume` (in either execution and either
 * form) and `export` work as before, and the run equals `--sparse-state dense` bit for bit (only where the
 * state lives changes, not the float order). The dense-gradient window's buffers (dense filter gradients and
 * momentum for growth) exist during the window by design and are freed after the update, as before.
 */
import * as tf from '@tensorflow/tfjs-core';
import { captureTensors, type CapturedVariable, type CheckpointData } from '@sparse-learning/checkpoint';
import { MOMENTUM_BUFFER_SLOT, type Logger } from '@sparse-learning/core';
import type { SparseGraphTrainer } from '@sparse-learning/backend-native';
import type { ZooModel } from '@sparse-learning/models';
import { checkpointParts, restoreRunState } from './checkpointing.js';
import type { Execution, ExecutionChoice } from './execution-types.js';
import type { LayerMetrics } from './metrics.js';
import type { ActiveRun, RunStartContext } from './run-start.js';
import { startRunWith } from './run-start.js';
import type { ExperimentSession, RunSession } from './session.js';
import { type DenseRecord, activeLayerMetrics, compactSessionFieldsOf, denseRecordOf } from './sparse-compact-cnn.js';
import { denseFormOfCheckpoint } from './sparse-compact-checkpoint.js';
import { sparseGraphTrainerOf } from './sparse-graph-execution.js';

/** A sparse graph-form session whose dense per-conv state is released once its trainer is bound (see the module comment). */
export interface CompactGraphSession extends RunSession {
  readonly kind: 'compact-graph';
  readonly choice: ExecutionChoice;
  /**
   * The dense session: whole until the trainer is bound (a checkpoint is restored into it), then only what the
   * graph still runs on (the model without its conv filters, the optimizer with the other parameters' slots).
   */
  readonly dense: ExperimentSession;
  /** The model, whose non-conv layers are the graph's nodes (the run loop keys its dropout per batch). */
  readonly model: ZooModel;
  /** The trainer once bound (null before). */
  trainer: SparseGraphTrainer | null;
}

const sessionRecords = new WeakMap<CompactGraphSession, DenseRecord>();

/** The compact graph session over `dense` (a fresh dense session of the graph form whose execution was chosen sparse). */
export function compactGraphSessionOf(dense: ExperimentSession, choice: ExecutionChoice): CompactGraphSession {
  const record = denseRecordOf(dense);
  const session: CompactGraphSession = {
    kind: 'compact-graph',
    choice: { ...choice, reason: `${choice.reason}; compact state: the conv filters, their masks and momentum are released once the trainer is built` },
    dense,
    model: dense.model,
    trainer: null,
    ...compactSessionFieldsOf(dense),
    layerMetrics: (): LayerMetrics[] => {
      const trainer = session.trainer;
      if (!trainer) return dense.layerMetrics();
      return activeLayerMetrics(record, [...record.masked], trainer.activeCounts());
    },
    dispose: () => {
      session.trainer = null;
      dense.dispose();
    },
  };
  sessionRecords.set(session, record);
  return session;
}

/**
 * Releases the dense per-conv state of `dense` once `trainer` holds it in compact form: the conv filter
 * variables' tensors, the masking's masks and mask tensors, the optimizer's slots of the conv filters and the
 * dense trainer's buffers (see the module comment). Returns the bytes of TF.js tensors released.
 */
export function releaseDenseConvState(dense: ExperimentSession, trainer: SparseGraphTrainer): number {
  const before = tf.memory().numBytes;
  const convNames = new Set(trainer.convs.map((c) => c.weightName));
  // The optimizer keeps the slots of the parameters it still trains (restored as pending values, materialised
  // with the same numbers at their next update); the conv filters' momentum lives in the compact layers.
  const state = dense.optimizer.getState();
  dense.optimizer.setState({ ...state, slots: Object.fromEntries(Object.entries(state.slots).filter(([name]) => !convNames.has(name))) });
  dense.masking?.dispose();
  dense.trainer.dispose();
  for (const v of dense.model.variables) {
    // The engine drops the filter's data and registration; the Conv2D layer's LayerVariable still points at
    // the variable object and disposes it with the model (a no-op then). Nothing reads it again in this run:
    // the graph's conv nodes run the trainer's sparse conv ops, and checkpoints are written from the trainer.
    if (convNames.has(v.name)) tf.engine().disposeVariable(v.variable);
  }
  return before - tf.memory().numBytes;
}

/**
 * The sparse execution of a compact graph session: builds the trainer from the (fresh or restored) dense
 * session, then releases its dense per-conv state (exported for tests).
 */
export function bindCompactGraph(session: CompactGraphSession, choice: ExecutionChoice, logger: Logger): Execution {
  const { dense } = session;
  const record = sessionRecords.get(session)!;
  const trainer = sparseGraphTrainerOf(dense, logger, session.config.denseGradWindow);
  // A restored checkpoint may carry another baseline than the fresh draw.
  record.baselineNonzero = dense.masking?.baselineNonzero ?? record.baselineNonzero;
  session.trainer = trainer;
  const released = releaseDenseConvState(dense, trainer);
  logger.info(
    `compact state: the conv filters, their masks and momentum are released (${(released / 2 ** 20).toFixed(1)} MiB of tensors); checkpoints materialise dense views of the compact layers`,
  );
  return {
    choice,
    trainer: {
      position: () => trainer.position(),
      get pruneRate() {
        return trainer.pruneRate;
      },
      // Tensor batches straight to the graph (it runs on the model's backend).
      step: (batch) => trainer.step(batch),
      evaluate: (batches) => trainer.evaluate(batches),
      // The compact layers are the state: nothing to write back.
      endEpoch: (metrics) => trainer.endEpoch(metrics),
    },
    sync: () => {},
    compactBytes: () => trainer.bytes(),
    dispose: () => trainer.dispose(),
  };
}

/**
 * The checkpoint of a compact graph session: the dense form `captureRunState` writes for the same run in
 * `--sparse-state dense` after its write-back — every model variable in the model's order (conv filters from
 * the trainer's dense views), the masks in the masking's order, the momentum slots of the conv filters (the
 * masked path's buffer) then of the other parameters, the trainer books.
 */
export function captureCompactGraphRunState(session: CompactGraphSession, args: Parameters<typeof checkpointParts>[3]): CheckpointData {
  const trainer = session.trainer!;
  const record = sessionRecords.get(session)!;
  const { model, optimizer } = session.dense;
  const views = new Map(trainer.convs.map((c, i) => [c.weightName, trainer.convView(i)]));
  const kept = captureTensors(
    model.variables.filter((v) => !views.has(v.name)),
    {},
    null,
  ).variables;
  const variables: Record<string, CapturedVariable> = {};
  for (const { name } of model.variables) {
    const view = views.get(name);
    variables[name] = view ? { shape: [...record.shapes.get(name)!], dtype: 'float32', values: view.weight } : kept[name];
  }
  const masks: Record<string, Uint8Array> = {};
  for (const name of record.masked) masks[name] = views.get(name)?.mask ?? trainer.paramMask(name)!;
  const slots: Record<string, Record<string, Float32Array>> = {};
  if (session.config.momentum > 0) {
    for (const [name, view] of views) slots[name] = { [MOMENTUM_BUFFER_SLOT]: view.momentum };
    for (const p of trainer.params) {
      const t = optimizer.momentumOf(p.name);
      if (!t) continue;
      slots[p.name] = { [MOMENTUM_BUFFER_SLOT]: Float32Array.from(t.dataSync()) };
      t.dispose();
    }
  }
  return {
    ...checkpointParts(session, trainer.getState(), trainer.position(), args, { baselineNonzero: record.baselineNonzero }),
    tensors: { variables, masks, optimizer: { id: record.optimizerId, iterations: trainer.completedSteps, slots } },
  };
}

/** `startRun` for a compact graph session: restore into its dense session, bind (releasing the conv state), checkpoint in dense form. */
export function startCompactGraphRun(session: CompactGraphSession, context: RunStartContext): ActiveRun {
  const { config } = context.options;
  return startRunWith(session, context, {
    choice: session.choice,
    restore: (resume) => restoreRunState(session.dense, denseFormOfCheckpoint(resume, config.momentum > 0), config),
    bind: (choice, logger) => bindCompactGraph(session, choice, logger),
    capture: (args) => captureCompactGraphRunState(session, args),
  });
}
