/**
 * One engine, two executions (issue 9): `masked` trains with core's `SparseTrainer` on dense tensors times
 * masks (the faithful default), `sparse` trains the same experiment with `@sparse-learning/backend-native`'s
 * {@link SparseMlpTrainer} — compact active weights, native forward/backward/SGD — and `auto` picks sparse
 * where it is faster (a ReLU MLP below the measured crossover density, BENCHMARKS.md) and says why.
 *
 * Both executions share the session: the same model initialisation, initial masks, strategies (unchanged
 * plugin API), schedules, trigger and random streams. The sparse one writes its weights, masks, momentum and
 * counters back into the session's model/masking/optimizer/trainer at every epoch end and before every
 * checkpoint, so metrics, checkpoints, resume (in either execution) and export work unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  type Batch,
  type LearningRateSchedule,
  type Logger,
  type MaskUpdateEvent,
  type Rng,
  SparseLearningError,
  StepLrSchedule,
  MOMENTUM_BUFFER_SLOT,
} from '@sparse-learning/core';
import {
  SparseMlpTrainer,
  loadNativeAddon,
  maskOf,
  nnzOf,
  scatterDense,
  sparseAddonOf,
  sparseLayerFromDense,
  type ArrayBatch,
  type SparseMlpLayerSpec,
} from '@sparse-learning/backend-native';
import type { DataSplit } from '@sparse-learning/datasets';
import type { ZooModel } from '@sparse-learning/models';
import { ArrayBatcher } from './array-batches.js';
import type { ExperimentSession } from './session.js';

/** Values of `--execution`. */
export const EXECUTION_IDS = ['masked', 'sparse', 'auto'] as const;
export type ExecutionRequest = (typeof EXECUTION_IDS)[number];

/**
 * Densities at or below which `auto` chooses sparse execution for an MLP: the measured crossover, rounded down
 * to a whole percent (BENCHMARKS.md, "Truly sparse training", `npm run bench -- --sparse` of 2026-12-07 at
 * commit `039fa69`, set-mlp, SET, median step in CPU time: sparse / masked = 0.73 at 30 %, 0.88 at 35 %, 0.99 at
 * 40 %, 1.13 at 45 %; interpolated crossover 40.5 %).
 */
export const SPARSE_AUTO_MAX_DENSITY = 0.4;

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
  /**
   * Optional: one step on the examples `indices` of `split`, the batch assembled by the trainer itself (the
   * sparse execution: plain arrays, no batch tensors). The run loop prefers it to `step`.
   */
  stepOn?(split: DataSplit, indices: ArrayLike<number>, rng: Rng): { readonly step: number; readonly loss: number; readonly learningRate: number };
  /** Optional: `evaluate` over one pass of `split` (identity order, at most `limit` batches), no batch tensors. */
  evaluateSplit?(split: DataSplit, batchSize: number, limit: number, rng?: Rng): { readonly loss: number; readonly accuracy: number };
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

/** One Dense layer of an MLP model. */
interface MlpLayerInfo {
  readonly weightName: string;
  readonly biasName: string | null;
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly relu: boolean;
}

/**
 * The Dense layers of `model` when it is a plain MLP (`Input → [Flatten] → (Dense → ReLU)* → Dense`, linear
 * Dense activations), else why not.
 */
export function mlpStructure(model: ZooModel): { layers: MlpLayerInfo[] } | { reason: string } {
  const layers: MlpLayerInfo[] = [];
  const all = model.layersModel.layers;
  for (let i = 0; i < all.length; i++) {
    const layer = all[i];
    const kind = layer.getClassName();
    if (kind === 'InputLayer' || (kind === 'Flatten' && layers.length === 0)) continue;
    if (kind === 'ReLU') {
      const last = layers[layers.length - 1];
      if (!last || last.relu) return { reason: `layer '${layer.name}' (ReLU) does not follow a Dense layer` };
      layers[layers.length - 1] = { ...last, relu: true };
      continue;
    }
    if (kind !== 'Dense') return { reason: `model '${model.id}' has a ${kind} layer ('${layer.name}'); sparse execution runs Dense/ReLU MLPs` };
    const config = layer.getConfig() as { activation?: string; units?: number };
    if (config.activation && config.activation !== 'linear') {
      return { reason: `Dense layer '${layer.name}' has a fused '${config.activation}' activation` };
    }
    const weight = model.variables.find((v) => v.name === `${layer.name}.weight`);
    const bias = model.variables.find((v) => v.name === `${layer.name}.bias`);
    if (!weight || weight.variable.shape.length !== 2) return { reason: `Dense layer '${layer.name}' has no '${layer.name}.weight' variable` };
    const [inFeatures, outFeatures] = weight.variable.shape;
    const previous = layers[layers.length - 1];
    if (previous && previous.outFeatures !== inFeatures) return { reason: `Dense layer '${layer.name}' is not chained to the previous one` };
    layers.push({ weightName: weight.name, biasName: bias?.name ?? null, inFeatures, outFeatures, relu: false });
  }
  if (layers.length === 0) return { reason: `model '${model.id}' has no Dense layer` };
  if (layers[layers.length - 1].relu) return { reason: 'the last Dense layer must output logits (no ReLU)' };
  return { layers };
}

/** Decides masked or sparse execution for a composed session. Throws `E_CONFIG_INVALID` when `sparse` cannot run. */
export function chooseExecution(session: ExperimentSession, requested: ExecutionRequest): ExecutionChoice {
  if (requested === 'masked') return { requested, execution: 'masked', reason: 'requested (dense tensors × masks, the faithful path)' };
  const blocker = sparseBlocker(session);
  if (requested === 'sparse') {
    if (blocker) {
      throw new SparseLearningError('E_CONFIG_INVALID', `--execution sparse is not possible here: ${blocker}; use --execution masked (or auto)`, {
        execution: requested,
        valid: ['masked', 'auto'],
      });
    }
    return { requested, execution: 'sparse', reason: 'requested (compact active weights, native kernels)' };
  }
  if (blocker) return { requested, execution: 'masked', reason: `auto: masked because ${blocker}` };
  const density = session.masking?.totalDensity ?? 1;
  if (density > SPARSE_AUTO_MAX_DENSITY) {
    return {
      requested,
      execution: 'masked',
      reason: `auto: masked because density ${density.toFixed(3)} > ${SPARSE_AUTO_MAX_DENSITY} (above the measured crossover, dense GEMMs win)`,
    };
  }
  return {
    requested,
    execution: 'sparse',
    reason: `auto: sparse because '${session.config.model}' is a ReLU MLP at density ${density.toFixed(3)} <= ${SPARSE_AUTO_MAX_DENSITY} (measured crossover) and the native sparse kernels are built`,
  };
}

function sparseBlocker(session: ExperimentSession): string | null {
  if (!sparseAddonOf(loadNativeAddon())) return 'the native addon with sparse kernels is not built (npm run build:native -w @sparse-learning/backend-native)';
  if (session.config.optimizer !== 'sgd') return `optimizer '${session.config.optimizer}' (sparse execution implements SGD)`;
  if (!session.masking) return `preset '${session.config.preset}' trains dense (no masks)`;
  if ((session.plan.gradientTransforms ?? []).length > 0) return `preset '${session.config.preset}' rewrites dense gradients every step (gradient transforms)`;
  const structure = mlpStructure(session.model);
  if ('reason' in structure) return structure.reason;
  const weights = new Set(structure.layers.map((l) => l.weightName));
  const stray = session.masking.names.find((n) => !weights.has(n));
  if (stray) return `masked variable '${stray}' is not a Dense weight`;
  return null;
}

/** Binds the chosen execution to the session (after a resume has restored it). */
export function createExecution(session: ExperimentSession, choice: ExecutionChoice, logger: Logger, denseGradWindow: number): Execution {
  if (choice.execution === 'masked') return { choice, trainer: session.trainer, sync: () => {} };
  return new SparseExecution(session, choice, logger, denseGradWindow);
}

const toArrayBatch = (batch: Batch): ArrayBatch => ({
  x: batch.inputs.dataSync() as Float32Array,
  labels: batch.labels.dtype === 'int32' ? (batch.labels.dataSync() as Int32Array) : Int32Array.from(batch.labels.dataSync()),
});

/** The sparse execution of one session (see the module comment). */
class SparseExecution implements Execution {
  readonly trainer: RunTrainer;
  private readonly sparse: SparseMlpTrainer;
  /** The compact layers whose masks the session holds (a mask update replaces layer objects). */
  private syncedLayers: readonly SparseMlpLayerSpec['layer'][] = [];

  constructor(
    private readonly session: ExperimentSession,
    readonly choice: ExecutionChoice,
    logger: Logger,
    denseGradWindow: number,
  ) {
    const addon = sparseAddonOf(loadNativeAddon());
    const structure = mlpStructure(session.model);
    if (!addon || 'reason' in structure || !session.masking) throw new SparseLearningError('E_ENGINE_STATE', 'sparse execution chosen without its prerequisites');
    const { config, masking, optimizer } = session;
    const variables = new Map(session.model.variables.map((v) => [v.name, v.variable]));
    const read = masking.readMasks();
    const masks = new Map(masking.names.map((name, i) => [name, read[i]]));
    const momentumOf = (name: string | null): Float32Array | null => {
      if (!name) return null;
      const t = optimizer.momentumOf(name);
      if (!t) return null;
      const data = Float32Array.from(t.dataSync());
      t.dispose();
      return data;
    };
    const denseMomentum: Record<string, Float32Array> = {};
    const layers: SparseMlpLayerSpec[] = structure.layers.map((info) => {
      const weight = Float32Array.from(variables.get(info.weightName)!.dataSync());
      const bias = info.biasName ? Float32Array.from(variables.get(info.biasName)!.dataSync()) : null;
      const momentum = momentumOf(info.weightName);
      if (momentum) denseMomentum[info.weightName] = momentum;
      const mask = masks.get(info.weightName) ?? null;
      const biasMom = bias ? (momentumOf(info.biasName) ?? new Float32Array(bias.length)) : null;
      const layer = sparseLayerFromDense(weight, mask ?? new Uint8Array(weight.length).fill(1), info.inFeatures, info.outFeatures, {
        bias,
        biasMom,
        momentum,
        relu: info.relu,
      });
      return { weightName: info.weightName, biasName: info.biasName, layer, masked: mask !== null };
    });
    this.sparse = new SparseMlpTrainer({
      addon,
      layers,
      maxBatch: Math.max(config.batchSize, config.testBatchSize),
      sgd: { momentum: config.momentum, nesterov: config.nesterov && config.momentum > 0, weightDecay: config.l2 },
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
    logger.info(`sparse execution: ${layers.length} Dense layers, ${active} active weights, ${(this.sparse.bytes() / 2 ** 20).toFixed(1)} MiB compact, dense-gradient window ${denseGradWindow} steps`);
    const sparse = this.sparse;
    const batcher = new ArrayBatcher();
    this.trainer = {
      position: () => sparse.position(),
      get pruneRate() {
        return sparse.pruneRate;
      },
      step: (batch) => sparse.step(toArrayBatch(batch)),
      evaluate: (batches) => sparse.evaluate(mapIterable(batches, toArrayBatch)),
      stepOn: (split, indices, rng) => sparse.step(batcher.fill(split, indices, rng)),
      evaluateSplit: (split, batchSize, limit, rng) => sparse.evaluate(batcher.pass(split, batchSize, limit, rng)),
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
      sparse.layers.forEach((spec, i) => {
        const w = variables.get(spec.weightName)!;
        w.assign(tf.tensor(scatterDense(spec.layer, spec.layer.vals), w.shape, 'float32'));
        if (withMomentum) slots[spec.weightName] = { [MOMENTUM_BUFFER_SLOT]: sparse.denseMomentumOf(i) };
        if (spec.biasName && spec.layer.bias) {
          const b = variables.get(spec.biasName)!;
          b.assign(tf.tensor(spec.layer.bias, b.shape, 'float32'));
          if (withMomentum && spec.layer.biasMom) slots[spec.biasName] = { [MOMENTUM_BUFFER_SLOT]: spec.layer.biasMom.slice() };
        }
      });
    });
    this.syncMasks();
    const state = session.optimizer.getState();
    session.optimizer.setState({ id: state.id, iterations: sparse.completedSteps, slots });
    session.trainer.setState(sparse.getState());
  }

  /** Writes the current masks into the session's masking, unless it holds them already (epoch end, then checkpoint). */
  private syncMasks(): void {
    const current = this.sparse.layers.map((s) => s.layer);
    if (current.length === this.syncedLayers.length && current.every((layer, i) => layer === this.syncedLayers[i])) return;
    this.syncedLayers = current;
    const masking = this.session.masking!;
    const byName = new Map(this.sparse.layers.map((s) => [s.weightName, s.layer]));
    masking.setMasks(masking.names.map((name) => maskOf(byName.get(name)!)));
  }

  compactBytes(): number {
    return this.sparse.bytes();
  }

  /** Active weights per layer now. */
  activeCounts(): number[] {
    return this.sparse.layers.map((s) => nnzOf(s.layer));
  }
}

function* mapIterable<A, B>(items: Iterable<A>, f: (a: A) => B): Generator<B> {
  for (const item of items) yield f(item);
}
