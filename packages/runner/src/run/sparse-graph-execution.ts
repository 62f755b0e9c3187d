/**
 * The sparse execution of a CNN with batch norm, residual blocks and dropout (issue 9): the zoo's WideResNets
 * and any model of the graph form ({@link graphStructure}), trained by backend-native's `SparseGraphTrainer`
 * — the model's own graph on the native backend, every Conv2D on its compact active weights, the other
 * parameters by the session's optimizer. It starts from the session's state (model, masks, optimizer momentum,
 * trainer books — fresh or restored from a checkpoint of either execution) and writes the conv weights, masks,
 * momentum and books back at every epoch end and before every checkpoint, so metrics, checkpoints, resume and
 * export see the same session as after a masked run. That is the `--sparse-state dense` form; by default a run
 * of this form gets the compact graph session (./sparse-compact-graph.ts), which builds its trainer with
 * {@link sparseGraphTrainerOf} and then releases the session's dense conv state instead of writing it back.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Logger, SparseLearningError } from '@sparse-learning/core';
import {
  SparseGraphTrainer,
  loadNativeAddon,
  sparseConvFromDense,
  sparseConvOpAddonOf,
  type SparseGraphConvSpec,
  type SparseGraphParamSpec,
} from '@sparse-learning/backend-native';
import type { Execution, ExecutionChoice, RunTrainer } from './execution-types.js';
import { graphStructure } from './graph-structure.js';
import type { ExperimentSession } from './session.js';
import { type DenseLayerState, readSessionState, sparseSgdOf, trainerCoreOptionsOf, writeSessionState } from './sparse-session.js';

/** The `SparseGraphTrainer` of a session's state (fresh or restored from a checkpoint of either execution). */
export function sparseGraphTrainerOf(session: ExperimentSession, logger: Logger, denseGradWindow: number): SparseGraphTrainer {
  const addon = sparseConvOpAddonOf(loadNativeAddon());
  const structure = graphStructure(session.model);
  if (!addon || 'reason' in structure || !session.masking) throw new SparseLearningError('E_ENGINE_STATE', 'sparse graph execution chosen without its prerequisites');
  const state = readSessionState(session);
  const denseMomentum: Record<string, Float32Array> = {};
  const convs: SparseGraphConvSpec[] = structure.convs.map((info) => {
    const weight = state.values(info.weightName);
    const momentum = state.momentum(info.weightName);
    if (momentum) denseMomentum[info.weightName] = momentum;
    const mask = state.mask(info.weightName);
    const layer = sparseConvFromDense(weight, mask ?? new Uint8Array(weight.length).fill(1), info.kh, info.kw, info.inChannels, info.outChannels, { momentum });
    return { weightName: info.weightName, layer, geometry: info.geometry, needsInputGradient: info.needsInputGradient, masked: mask !== null };
  });
  const variables = new Map(session.model.variables.map((v) => [v.name, v.variable]));
  const params: SparseGraphParamSpec[] = structure.params.map((name) => ({ name, variable: variables.get(name)!, mask: state.mask(name) }));
  const sparse = new SparseGraphTrainer({
    ...trainerCoreOptionsOf(session, logger, denseGradWindow),
    addon,
    backendName: tf.getBackend(),
    nodes: structure.nodes,
    output: structure.output,
    convs,
    params,
    optimizer: session.optimizer,
    sgd: sparseSgdOf(session),
    maskedOrder: session.masking.names,
    denseMomentum,
  });
  // Continue the trainer's counters and random streams (fresh or restored from a checkpoint).
  sparse.setState(session.trainer.getState());
  const active = sparse.activeCounts().reduce((a, b) => a + b, 0);
  logger.info(
    `sparse execution: ${convs.length} sparse convs in the model's graph (batch norm, residual adds, dropout as on the masked path), ${active} active weights, ${(sparse.bytes() / 2 ** 20).toFixed(1)} MiB compact, dense-gradient window ${denseGradWindow} steps`,
  );
  return sparse;
}

/** See the module comment. */
export class SparseGraphExecution implements Execution {
  readonly trainer: RunTrainer;
  private readonly sparse: SparseGraphTrainer;

  /** The sparse trainer (profiling: its conv ops' timings). */
  get graphTrainer(): SparseGraphTrainer {
    return this.sparse;
  }

  constructor(
    private readonly session: ExperimentSession,
    readonly choice: ExecutionChoice,
    logger: Logger,
    denseGradWindow: number,
  ) {
    this.sparse = sparseGraphTrainerOf(session, logger, denseGradWindow);
    const sparse = this.sparse;
    const session_ = session;
    this.trainer = {
      position: () => sparse.position(),
      get pruneRate() {
        return sparse.pruneRate;
      },
      // Tensor batches straight to the graph (it runs on the model's backend).
      step: (batch) => sparse.step(batch),
      evaluate: (batches) => sparse.evaluate(batches),
      endEpoch: (metrics) => {
        const event = sparse.endEpoch(metrics);
        this.syncMasks();
        session_.trainer.setState(sparse.getState());
        return event;
      },
    };
  }

  /** Writes conv weights, masks, momentum (all parameters') and counters into the session. */
  sync(): void {
    const convViews = this.sparse.convs.map((_, i) => this.sparse.convView(i));
    const layers: DenseLayerState[] = convViews.map((v) => ({ weightName: v.weightName, weight: v.weight, momentum: v.momentum, biasName: null, bias: null, biasMomentum: null }));
    // The optimizer trained the other parameters in place; their momentum is listed so the optimizer's state
    // (rewritten as a whole) keeps it.
    for (const p of this.sparse.params) {
      const t = this.session.optimizer.momentumOf(p.name);
      if (!t) continue;
      layers.push({ weightName: p.name, weight: Float32Array.from(p.variable.dataSync()), momentum: Float32Array.from(t.dataSync()), biasName: null, bias: null, biasMomentum: null });
      t.dispose();
    }
    writeSessionState(this.session, this.sparse, layers);
    this.setMasks(convViews.map((v) => [v.weightName, v.mask]));
  }

  private syncMasks(): void {
    this.setMasks(this.sparse.convs.map((c, i) => [c.weightName, this.sparse.convView(i).mask]));
  }

  private setMasks(convMasks: readonly (readonly [string, Uint8Array])[]): void {
    const masking = this.session.masking!;
    const byName = new Map(convMasks);
    masking.setMasks(masking.names.map((name) => byName.get(name) ?? this.sparse.paramMask(name)!));
  }

  compactBytes(): number {
    return this.sparse.bytes();
  }

  /** Unregisters the trainer's sparse conv ops and frees its tensors (the session keeps the model). */
  dispose(): void {
    this.sparse.dispose();
  }
}

