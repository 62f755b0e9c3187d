/**
 * The sparse execution of a convolutional session (issue 9): LeNet-5-Caffe and any model of conv + ReLU
 * [+ 2×2 max pool] stages followed by Dense layers ({@link cnnStructure}) trained by backend-native's
 * `SparseCnnTrainer` on compact active weights. It starts from the session's state (model, masks, optimizer
 * momentum, trainer books — fresh or restored from a checkpoint of either execution) and writes its weights,
 * masks, momentum and books back at every epoch end and before every checkpoint, so metrics, checkpoints,
 * resume and export see the same session as after a masked run.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type LearningRateSchedule, type Logger, MOMENTUM_BUFFER_SLOT, SparseLearningError, StepLrSchedule } from '@sparse-learning/core';
import {
  SparseCnnTrainer,
  channelMajorRows,
  loadNativeAddon,
  sparseCnnAddonOf,
  sparseConvFromDense,
  sparseLayerFromDense,
  type SparseCnnConvSpec,
  type SparseMlpLayerSpec,
} from '@sparse-learning/backend-native';
import { mapIterable, toArrayBatch } from './array-batches.js';
import { cnnStructure } from './cnn-structure.js';
import type { Execution, ExecutionChoice, RunTrainer } from './execution-types.js';
import type { ExperimentSession } from './session.js';

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
    const addon = sparseCnnAddonOf(loadNativeAddon());
    const structure = cnnStructure(session.model);
    if (!addon || 'reason' in structure || !session.masking) throw new SparseLearningError('E_ENGINE_STATE', 'sparse CNN execution chosen without its prerequisites');
    const { config, masking, optimizer } = session;
    const variables = new Map(session.model.variables.map((v) => [v.name, v.variable]));
    const read = masking.readMasks();
    const masks = new Map(masking.names.map((name, i) => [name, read[i]]));
    const data = (name: string) => Float32Array.from(variables.get(name)!.dataSync());
    const momentumOf = (name: string | null): Float32Array | null => {
      if (!name) return null;
      const t = optimizer.momentumOf(name);
      if (!t) return null;
      const values = Float32Array.from(t.dataSync());
      t.dispose();
      return values;
    };
    const denseMomentum: Record<string, Float32Array> = {};
    const convs: SparseCnnConvSpec[] = structure.convs.map((info) => {
      const weight = data(info.weightName);
      const momentum = momentumOf(info.weightName);
      if (momentum) denseMomentum[info.weightName] = momentum;
      const mask = masks.get(info.weightName) ?? null;
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
      const mask = masks.get(info.weightName) ?? null;
      const layer = sparseLayerFromDense(rows(weight), rows(mask ?? new Uint8Array(weight.length).fill(1)), info.inFeatures, info.outFeatures, {
        bias,
        biasMom: bias ? (momentumOf(info.biasName) ?? new Float32Array(bias.length)) : null,
        momentum: momentum ? rows(momentum) : null,
        relu: info.relu,
      });
      return { weightName: info.weightName, biasName: info.biasName, layer, masked: mask !== null };
    });
    this.sparse = new SparseCnnTrainer({
      addon,
      convs,
      dense,
      maxBatch: config.batchSize,
      sgd: { momentum: config.momentum, nesterov: config.nesterov && config.momentum > 0, weightDecay: config.l2 },
      flatten: 'nhwc',
      maskUpdater: session.composition.maskUpdater,
      baselineNonzero: masking.baselineNonzero,
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
      denseMomentum,
      events: session.events,
      logger,
    });
    // Continue the trainer's counters and random streams (fresh or restored from a checkpoint).
    this.sparse.setState(session.trainer.getState());
    const active = this.sparse.activeCounts().reduce((a, b) => a + b, 0);
    logger.info(
      `sparse execution: ${convs.length} conv stages + ${dense.length} Dense layers, ${active} active weights, ${(this.sparse.bytes() / 2 ** 20).toFixed(1)} MiB compact, dense-gradient window ${denseGradWindow} steps`,
    );
    const sparse = this.sparse;
    this.trainer = {
      position: () => sparse.position(),
      get pruneRate() {
        return sparse.pruneRate;
      },
      step: (batch) => sparse.step(toArrayBatch(batch)),
      evaluate: (batches) => sparse.evaluate(mapIterable(batches, toArrayBatch)),
      endEpoch: (metrics) => {
        const event = sparse.endEpoch(metrics);
        // The epoch's metrics read the masks; weights and momentum follow before the checkpoint (sync()).
        this.syncMasks();
        session.trainer.setState(sparse.getState());
        return event;
      },
    };
  }

  /** Writes weights, masks, momentum and counters into the session's model, masking, optimizer and trainer. */
  sync(): void {
    const { session, sparse } = this;
    const variables = new Map(session.model.variables.map((v) => [v.name, v.variable]));
    const slots: Record<string, Record<string, Float32Array>> = {};
    const withMomentum = session.config.momentum > 0;
    tf.tidy(() => {
      sparse.weightNames.forEach((_, i) => {
        const view = sparse.denseView(i);
        const weight = variables.get(view.weightName)!;
        weight.assign(tf.tensor(view.weight, weight.shape, 'float32'));
        if (withMomentum) slots[view.weightName] = { [MOMENTUM_BUFFER_SLOT]: view.momentum };
        if (view.biasName && view.bias) {
          const bias = variables.get(view.biasName)!;
          bias.assign(tf.tensor(view.bias, bias.shape, 'float32'));
          if (withMomentum && view.biasMomentum) slots[view.biasName] = { [MOMENTUM_BUFFER_SLOT]: view.biasMomentum };
        }
      });
    });
    this.syncMasks();
    const state = session.optimizer.getState();
    session.optimizer.setState({ id: state.id, iterations: sparse.completedSteps, slots });
    session.trainer.setState(sparse.getState());
  }

  /** Writes the current masks into the session's masking. */
  private syncMasks(): void {
    const masking = this.session.masking!;
    const names = this.sparse.weightNames;
    masking.setMasks(masking.names.map((name) => this.sparse.denseView(names.indexOf(name)).mask));
  }

  compactBytes(): number {
    return this.sparse.bytes();
  }
}
