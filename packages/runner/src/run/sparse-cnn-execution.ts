/**
 * The sparse execution of a convolutional session (issue 9): LeNet-5-Caffe and any model of conv + ReLU
 * [+ 2×2 max pool] stages followed by Dense layers ({@link cnnStructure}) trained by backend-native's
 * `SparseCnnTrainer` on compact active weights. It starts from the session's state (model, masks, optimizer
 * momentum, trainer books — fresh or restored from a checkpoint of either execution) and writes its weights,
 * masks, momentum and books back at every epoch end and before every checkpoint, so metrics, checkpoints,
 * resume and export see the same session as after a masked run.
 */
import { type Logger, SparseLearningError } from '@sparse-learning/core';
import {
  SparseCnnTrainer,
  channelMajorRows,
  loadNativeAddon,
  sparseCnnAddonOf,
  sparseConvFromDense,
  sparseLayerFromDense,
  type SparseCnnConvSpec,
  type SparseCnnDenseView,
  type SparseMlpLayerSpec,
} from '@sparse-learning/backend-native';
import { cnnStructure } from './cnn-structure.js';
import type { Execution, ExecutionChoice, RunTrainer } from './execution-types.js';
import type { ExperimentSession } from './session.js';
import { readSessionState, runTrainerOf, sparseSgdOf, trainerCoreOptionsOf, writeSessionState } from './sparse-session.js';

/**
 * The `SparseCnnTrainer` of a session's state (model, masks, optimizer momentum, trainer books — fresh or
 * restored from a checkpoint): what {@link SparseCnnExecution} trains, and what a compact CNN session
 * (./sparse-compact-cnn.ts) keeps after releasing the dense session.
 */
export function sparseCnnTrainerOf(session: ExperimentSession, logger: Logger, denseGradWindow: number): SparseCnnTrainer {
  const addon = sparseCnnAddonOf(loadNativeAddon());
  const structure = cnnStructure(session.model);
  if (!addon || 'reason' in structure || !session.masking) throw new SparseLearningError('E_ENGINE_STATE', 'sparse CNN execution chosen without its prerequisites');
  const state = readSessionState(session);
  const data = state.values;
  const momentumOf = state.momentum;
  const denseMomentum: Record<string, Float32Array> = {};
  const convs: SparseCnnConvSpec[] = structure.convs.map((info) => {
    const weight = data(info.weightName);
    const momentum = momentumOf(info.weightName);
    if (momentum) denseMomentum[info.weightName] = momentum;
    const mask = state.mask(info.weightName);
    const layer = sparseConvFromDense(weight, mask ?? new Uint8Array(weight.length).fill(1), info.kh, info.kw, info.inChannels, info.outChannels, {
      bias: data(info.biasName),
      momentum,
      relu: true,
    });
    const biasMom = momentumOf(info.biasName) ?? undefined;
    return { weightName: info.weightName, biasName: info.biasName, layer, inH: info.inH, inW: info.inW, padding: info.padding, stride: info.stride, pool: info.pool, masked: mask !== null, biasMom };
  });
  const { c, h, w } = structure.flatten;
  const dense: SparseMlpLayerSpec[] = structure.dense.map((info, l) => {
    // tfjs-layers flattens NHWC; the sparse kernels read channel-major rows: reorder the first kernel once.
    const rows = <T extends Float32Array | Uint8Array>(a: T): T => (l === 0 ? channelMajorRows(a, c, h, w, info.outFeatures) : a);
    const weight = data(info.weightName);
    const bias = info.biasName ? data(info.biasName) : null;
    const momentum = momentumOf(info.weightName);
    if (momentum) denseMomentum[info.weightName] = momentum;
    const mask = state.mask(info.weightName);
    const layer = sparseLayerFromDense(rows(weight), rows(mask ?? new Uint8Array(weight.length).fill(1)), info.inFeatures, info.outFeatures, {
      bias,
      biasMom: bias ? (momentumOf(info.biasName) ?? new Float32Array(bias.length)) : null,
      momentum: momentum ? rows(momentum) : null,
      relu: info.relu,
    });
    return { weightName: info.weightName, biasName: info.biasName, layer, masked: mask !== null };
  });
  const sparse = new SparseCnnTrainer({
    ...trainerCoreOptionsOf(session, logger, denseGradWindow),
    addon,
    convs,
    dense,
    maxBatch: session.config.batchSize,
    sgd: sparseSgdOf(session),
    flatten: 'nhwc',
    denseMomentum,
  });
  // Continue the trainer's counters and random streams (fresh or restored from a checkpoint).
  sparse.setState(session.trainer.getState());
  const active = sparse.activeCounts().reduce((a, b) => a + b, 0);
  logger.info(
    `sparse execution: ${convs.length} conv stages + ${dense.length} Dense layers, ${active} active weights, ${(sparse.bytes() / 2 ** 20).toFixed(1)} MiB compact, dense-gradient window ${denseGradWindow} steps`,
  );
  return sparse;
}

/** See the module comment. */
export class SparseCnnExecution implements Execution {
  readonly trainer: RunTrainer;
  private readonly sparse: SparseCnnTrainer;

  constructor(
    private readonly session: ExperimentSession,
    readonly choice: ExecutionChoice,
    logger: Logger,
    denseGradWindow: number,
  ) {
    this.sparse = sparseCnnTrainerOf(session, logger, denseGradWindow);
    const sparse = this.sparse;
    this.trainer = runTrainerOf(session, sparse, () => this.syncMasks());
  }

  /** Writes weights, masks, momentum and counters into the session's model, masking, optimizer and trainer. */
  sync(): void {
    // One dense view per layer serves the weights, momentum and masks alike (each view scatters the whole layer).
    const views = this.denseViews();
    writeSessionState(this.session, this.sparse, views);
    this.setMasks(views);
  }

  /** Writes the current masks into the session's masking. */
  private syncMasks(): void {
    this.setMasks(this.denseViews());
  }

  private denseViews(): SparseCnnDenseView[] {
    return this.sparse.weightNames.map((_, i) => this.sparse.denseView(i));
  }

  private setMasks(views: readonly SparseCnnDenseView[]): void {
    const masking = this.session.masking!;
    const byName = new Map(views.map((v) => [v.weightName, v.mask]));
    masking.setMasks(masking.names.map((name) => byName.get(name)!));
  }

  compactBytes(): number {
    return this.sparse.bytes();
  }
}
