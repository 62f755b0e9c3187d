/**
 * One engine, two executions (issue 9): `masked` trains with core's `SparseTrainer` on dense tensors times
 * masks (the faithful default), `sparse` trains the same experiment with `@sparse-learning/backend-native`'s
 * {@link SparseMlpTrainer} (ReLU MLPs) or `SparseCnnTrainer` (conv + ReLU [+ 2×2 pool] stages, then Dense
 * layers: LeNet-5-Caffe) — compact active weights, native forward/backward/SGD — and `auto` picks sparse where
 * it is faster (below the measured crossover density of that model's form, BENCHMARKS.md) and says why.
 *
 * Both executions share the session: the same model initialisation, initial masks, strategies (unchanged
 * plugin API), schedules, trigger and random streams. The sparse one writes its weights, masks, momentum and
 * counters back into the session's model/masking/optimizer/trainer at every epoch end and before every
 * checkpoint, so metrics, checkpoints, resume (in either execution) and export work unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Logger, SparseLearningError } from '@sparse-learning/core';
import {
  SparseMlpTrainer,
  loadNativeAddon,
  sparseCnnAddonOf,
  maskOf,
  nnzOf,
  scatterDense,
  nativeTensorAccess,
  sparseAddonOf,
  sparseConvOpAddonOf,
  sparseLayerFromDense,
  type SparseMlpLayerSpec,
} from '@sparse-learning/backend-native';
import type { ZooModel } from '@sparse-learning/models';
import { ArrayBatcher } from './array-batches.js';
import type { ExperimentSession } from './session.js';
import type { Execution, ExecutionChoice, ExecutionRequest, RunTrainer } from './execution-types.js';
import { cnnStructure } from './cnn-structure.js';
import { SparseCnnExecution } from './sparse-cnn-execution.js';
import { graphStructure } from './graph-structure.js';
import { SparseGraphExecution } from './sparse-graph-execution.js';
import { readSessionState, runTrainerOf, sparseSgdOf, trainerCoreOptionsOf, writeSessionState } from './sparse-session.js';

export { EXECUTION_IDS } from './execution-types.js';
export type { Execution, ExecutionChoice, ExecutionRequest, RunTrainer } from './execution-types.js';

/**
 * Densities at or below which `auto` chooses sparse execution for an MLP: a density where the sparse step won in
 * every measured run (BENCHMARKS.md, "Truly sparse training", `npm run bench -- --sparse`, set-mlp, SET, median
 * step in CPU time, sparse / masked): 2026-12-07 at commit `039fa69` 0.73 at 30 %, 0.88 at 35 %, 0.99 at 40 %
 * (crossover 40.5 %); the same day at commit `0f3de8b`, with a faster masked step (70.6 vs 90 ms), 0.84 at 30 %,
 * 1.00 at 35 %, 1.11 at 40 % (crossover 35.1 %). 0.4 would sit on the crossover; 0.3 wins in both.
 */
export const SPARSE_AUTO_MAX_DENSITY = 0.3;

/**
 * Densities at or below which `auto` chooses sparse execution for a CNN of conv stages and Dense layers
 * (LeNet-5-Caffe). Measured (BENCHMARKS.md, issue 9, `npm run bench -- --sparse --cnn`; one thread, process CPU
 * time): the sparse LeNet-5 step costs 0.35 / 0.60 / 0.77 / 1.12 of the masked step at 10 / 20 / 30 / 50 %
 * (crossover ≈ 43 %), and a whole epoch (the 64-step dense-gradient window, the mask update) gains about 3/4 of
 * the step ratio (5 %: step 4.2×, epoch 3.2×); 0.2 keeps sparse clearly ahead.
 */
export const SPARSE_AUTO_MAX_DENSITY_CNN = 0.2;

/** The form sparse execution runs a model in, or why it cannot. */
export type SparseForm = { readonly kind: 'mlp' | 'cnn' | 'graph'; readonly weights: readonly string[] };

/**
 * A measured limit of `auto` for CNNs of the graph form (batch norm, residual blocks, dropout): sparse execution
 * at densities up to `limit` for the zoo models whose id starts with `family`.
 */
export interface GraphAutoLimit {
  /** Model id prefix the limit applies to (`wrn-`, `vgg-`, `alexnet-`). */
  readonly family: string;
  /** The largest density measured where the sparse step beat the masked one on one and on two threads. */
  readonly limit: number;
  /** The models the bench measured (the others of the family share their layer types and shapes). */
  readonly measuredOn: string;
}

/**
 * Where `auto` takes the graph form sparse: per model family, the largest density of the bench's grid (2, 5,
 * 10, 20 %) at which the sparse step was faster than the masked step on one and on two threads, so sparse stays
 * clearly ahead below it (BENCHMARKS.md, "Graph-form crossovers", `npm run bench -- --sparse-graph --model=<id>`,
 * batch 32, median wall step, sparse / masked):
 * - WideResNets: WRN-16-8, 0.33 / 0.52 / 0.80 / 1.35 at 2 / 5 / 10 / 20 % on one thread, 0.41 / 0.60 / 0.87 /
 *   1.52 on two (2026-12-07, commit `915db71`); crossover ≈ 15 % and ≈ 13 %.
 * - VGG (2026-12-07, commit `adf5da3` + the bench's `--model=`): VGG16-D 0.43 / 0.69 / 1.04 / 1.90 (one thread),
 *   0.44 / 0.71 / 1.10 / 1.71 (two); VGG-like 0.42 / 0.67 / 1.12 / 2.03 and 0.44 / 0.67 / 1.03 / 1.82; VGG16-C
 *   0.48 / 0.70 / 1.09 / 1.81 and 0.56 / 0.79 / 1.17 / 1.89; crossover ≈ 8–10 %.
 * - AlexNet (same day): AlexNet-s 0.59 / 0.93 / 1.45 / 2.64 (one thread), 0.60 / 0.79 / 1.18 / 1.88 (two), and
 *   again 0.59 / 0.94 / 1.48 / 2.62 and 0.53 / 0.72 / 1.15 / 1.84; AlexNet-b 0.56 / 0.84 / 1.38 / 2.31 and
 *   0.54 / 0.75 / 1.12 / 1.80; crossover ≈ 6–7 % on one thread, so 0.05 is a thin margin there.
 */
export const SPARSE_AUTO_GRAPH_LIMITS: readonly GraphAutoLimit[] = [
  { family: 'wrn-', limit: 0.1, measuredOn: 'wrn-16-8' },
  { family: 'vgg-', limit: 0.05, measuredOn: 'vgg-d, vgg-like, vgg-c' },
  { family: 'alexnet-', limit: 0.05, measuredOn: 'alexnet-s, alexnet-b' },
];

/** The measured `auto` limit for a graph-form model, or null when its family was never measured. */
export function graphAutoLimit(modelId: string): GraphAutoLimit | null {
  return SPARSE_AUTO_GRAPH_LIMITS.find((l) => modelId.startsWith(l.family)) ?? null;
}

/** Which sparse trainer fits `model` (an MLP, conv stages then Dense layers, or the graph form), else why none does. */
export function sparseStructure(model: ZooModel): SparseForm | { reason: string } {
  const mlp = mlpStructure(model);
  if (!('reason' in mlp)) return { kind: 'mlp', weights: mlp.layers.map((l) => l.weightName) };
  const cnn = cnnStructure(model);
  if (!('reason' in cnn)) return { kind: 'cnn', weights: [...cnn.convs.map((c) => c.weightName), ...cnn.dense.map((d) => d.weightName)] };
  const graph = graphStructure(model);
  // Every masked weight of the graph form is a sparse conv filter or a densely trained (masked) parameter.
  if (!('reason' in graph)) return { kind: 'graph', weights: [...graph.convs.map((c) => c.weightName), ...graph.params] };
  // A model with convolutions is judged as a CNN; one without as an MLP.
  const hasConv = model.layersModel.layers.some((l) => l.getClassName() === 'Conv2D');
  return { reason: hasConv ? `${cnn.reason}; as a graph: ${graph.reason}` : mlp.reason };
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
  // The configured density, not the drawn one: a Bernoulli draw at `--density 0.05` holds 0.05 ± a few 1e-4, and
  // the choice must not flip with the seed at a limit the user is likely to ask for.
  const density = session.config.density;
  const structure = sparseStructure(session.model);
  const kind = 'kind' in structure ? structure.kind : 'mlp';
  const graphLimit = kind === 'graph' ? graphAutoLimit(session.config.model) : null;
  const form =
    kind === 'graph'
      ? 'a CNN with batch norm / residual blocks (sparse convs in the model graph)'
      : kind === 'cnn'
        ? 'a CNN of conv + ReLU [+ pool] stages and Dense layers'
        : 'a ReLU MLP';
  // Graph-form models differ in cost profile (pooling, wide classifiers, 1×1 convs): `auto` uses the crossover
  // measured for the model's family and leaves unmeasured ones masked.
  if (kind === 'graph' && !graphLimit) {
    const measured = SPARSE_AUTO_GRAPH_LIMITS.map((l) => `${l.family}*`).join(', ');
    return {
      requested,
      execution: 'masked',
      reason: `auto: masked because the sparse/masked crossover of ${form} was not measured for '${session.config.model}' (measured: ${measured}; use --execution sparse to train it sparse)`,
    };
  }
  const limit = graphLimit ? graphLimit.limit : kind === 'cnn' ? SPARSE_AUTO_MAX_DENSITY_CNN : SPARSE_AUTO_MAX_DENSITY;
  if (density > limit) {
    return {
      requested,
      execution: 'masked',
      reason: `auto: masked because density ${density.toFixed(3)} > ${limit} for ${form} (above the measured crossover, dense kernels win)`,
    };
  }
  return {
    requested,
    execution: 'sparse',
    reason: `auto: sparse because '${session.config.model}' is ${form} at density ${density.toFixed(3)} <= ${limit} (measured crossover) and the native sparse kernels are built`,
  };
}

function sparseBlocker(session: ExperimentSession): string | null {
  const addon = loadNativeAddon();
  if (!sparseAddonOf(addon)) return 'the native addon with sparse kernels is not built (npm run build:native -w @sparse-learning/backend-native)';
  if (session.config.optimizer !== 'sgd') return `optimizer '${session.config.optimizer}' (sparse execution implements SGD)`;
  if (!session.masking) return `preset '${session.config.preset}' trains dense (no masks)`;
  if ((session.plan.gradientTransforms ?? []).length > 0) return `preset '${session.config.preset}' rewrites dense gradients every step (gradient transforms)`;
  const structure = sparseStructure(session.model);
  if ('reason' in structure) return structure.reason;
  if (structure.kind === 'cnn' && !sparseCnnAddonOf(addon)) return 'the native addon lacks the sparse convolution kernels (rebuild it: npm run build:native -w @sparse-learning/backend-native)';
  if (structure.kind === 'graph') {
    if (!sparseConvOpAddonOf(addon)) return 'the native addon lacks the sparse convolution op kernels (rebuild it: npm run build:native -w @sparse-learning/backend-native)';
    // The graph form runs the model's own layers: they must run on a native backend (the sparse conv op's home).
    if (!nativeTensorAccess(tf.getBackend())) return `backend '${tf.getBackend()}' is not the native backend (the sparse conv op runs there; use --backend native)`;
  }
  const weights = new Set(structure.weights);
  const stray = session.masking.names.find((n) => !weights.has(n));
  if (stray) return `masked variable '${stray}' is not a ${structure.kind === 'mlp' ? 'Dense' : structure.kind === 'cnn' ? 'conv filter or Dense' : 'trainable'} weight`;
  return null;
}

/** Binds the chosen execution to the session (after a resume has restored it). */
export function createExecution(session: ExperimentSession, choice: ExecutionChoice, logger: Logger, denseGradWindow: number): Execution {
  if (choice.execution === 'masked') return { choice, trainer: session.trainer, sync: () => {} };
  const structure = sparseStructure(session.model);
  if ('kind' in structure && structure.kind === 'cnn') return new SparseCnnExecution(session, choice, logger, denseGradWindow);
  if ('kind' in structure && structure.kind === 'graph') return new SparseGraphExecution(session, choice, logger, denseGradWindow);
  return new SparseExecution(session, choice, logger, denseGradWindow);
}

/** The sparse execution of an MLP session (see the module comment; what both executions share: ./sparse-session.ts). */
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
    const state = readSessionState(session);
    const denseMomentum: Record<string, Float32Array> = {};
    const layers: SparseMlpLayerSpec[] = structure.layers.map((info) => {
      const weight = state.values(info.weightName);
      const bias = info.biasName ? state.values(info.biasName) : null;
      const momentum = state.momentum(info.weightName);
      if (momentum) denseMomentum[info.weightName] = momentum;
      const mask = state.mask(info.weightName);
      const layer = sparseLayerFromDense(weight, mask ?? new Uint8Array(weight.length).fill(1), info.inFeatures, info.outFeatures, {
        bias,
        biasMom: bias ? (state.momentum(info.biasName) ?? new Float32Array(bias.length)) : null,
        momentum,
        relu: info.relu,
      });
      return { weightName: info.weightName, biasName: info.biasName, layer, masked: mask !== null };
    });
    this.sparse = new SparseMlpTrainer({
      ...trainerCoreOptionsOf(session, logger, denseGradWindow),
      addon,
      layers,
      maxBatch: Math.max(session.config.batchSize, session.config.testBatchSize),
      sgd: sparseSgdOf(session),
      denseMomentum,
    });
    // Continue the trainer's counters and random streams (fresh or restored from a checkpoint).
    this.sparse.setState(session.trainer.getState());
    const active = this.sparse.activeCounts().reduce((a, b) => a + b, 0);
    logger.info(`sparse execution: ${layers.length} Dense layers, ${active} active weights, ${(this.sparse.bytes() / 2 ** 20).toFixed(1)} MiB compact, dense-gradient window ${denseGradWindow} steps`);
    const sparse = this.sparse;
    const batcher = new ArrayBatcher();
    this.trainer = {
      ...runTrainerOf(session, sparse, () => this.syncMasks()),
      // The array-batch hooks: batches assembled straight into reused arrays, no batch tensors.
      stepOn: (split, indices, rng) => sparse.step(batcher.fill(split, indices, rng)),
      evaluateSplit: (split, batchSize, limit, rng) => sparse.evaluate(batcher.pass(split, batchSize, limit, rng)),
    };
  }

  /** Writes weights, masks, momentum and counters into the session's model, masking, optimizer and trainer. */
  sync(): void {
    const { sparse } = this;
    writeSessionState(
      this.session,
      sparse,
      sparse.layers.map((spec, i) => ({
        weightName: spec.weightName,
        weight: scatterDense(spec.layer, spec.layer.vals),
        momentum: sparse.denseMomentumOf(i),
        biasName: spec.biasName,
        bias: spec.layer.bias,
        biasMomentum: spec.layer.biasMom ? spec.layer.biasMom.slice() : null,
      })),
    );
    this.syncMasks();
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
