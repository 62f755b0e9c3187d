/**
 * A truly sparse session whose memory follows the active weights, not the dense shape (issue 9): for a ReLU
 * MLP in sparse execution it never builds the TF.js model, the dense masks or the optimizer's dense slots.
 * The structure comes from the model definition (`denseChainSpec`), the initial topology is drawn directly in
 * compact form (./sparse-compact-init.ts), training, evaluation, metrics, checkpoints (./sparse-compact-checkpoint.ts),
 * `results.json` and `export` all work from the compact layers.
 *
 * When it is used (`--sparse-state`): `auto` (default) and `compact` for every ReLU MLP that sparse execution
 * trains (`--execution sparse`, or `auto` choosing sparse); `dense` never (the dense TF.js model beside the
 * compact layers, the form of earlier versions). How its initial state is drawn depends on the dense size of
 * the masked weights: up to {@link COMPACT_STATE_MIN_DENSE_BYTES} the dense session draws it exactly as the
 * masked run does (model init, masks, init hooks: the same random numbers), it is compacted once and the
 * dense tensors are released ({@link compactFromDense}) — so `--execution sparse` still equals the masked run
 * at a full dense-gradient window, and equals `--sparse-state dense` bit for bit; above it the topology is
 * drawn in compact form (./sparse-compact-init.ts: the same distributions, other random numbers), because the
 * dense form may not fit.
 *
 * Mask updates run through the unchanged `MaskUpdater` on dense views materialised only then (and only what
 * `requires` asks for), up to {@link COMPACT_DENSE_VIEW_MAX_BYTES} of dense weights; above it SET's update
 * (prune by the SET rule, random growth in place) runs on the compact arrays (./sparse-compact-set.ts), and
 * other strategies keep dense views as long as those fit in half the machine's memory — beyond that the run
 * fails before training with `E_CONFIG_INVALID` naming the model, its dense size and the strategies that work.
 */
import { totalmem } from 'node:os';
import { SparseLearningError, StepLrSchedule, type LearningRateSchedule, type Logger } from '@sparse-learning/core';
import { SparseMlpTrainer, loadNativeAddon, nnzOf, sparseAddonOf, sparseLayerFromDense, type SparseMlpLayerSpec } from '@sparse-learning/backend-native';
import { denseChainSpec, type DenseChainSpec } from '@sparse-learning/models';
import { ArrayBatcher } from './array-batches.js';
import { checkLayersPopulated } from './run-identity.js';
import { captureCompactRunState, restoreCompactRunState } from './sparse-compact-checkpoint.js';
import type { CompactSession } from './sparse-compact-state.js';
import { drawCompactInit } from './sparse-compact-init.js';
import { CompactSetUpdate } from './sparse-compact-set.js';
import { SPARSE_AUTO_MAX_DENSITY, chooseExecution, mlpStructure, sparseStructure } from './sparse-execution.js';
import { compactCnnSessionOf, type CompactCnnSession } from './sparse-compact-cnn.js';
import { compactGraphSessionOf, type CompactGraphSession } from './sparse-compact-graph.js';
import type { ExperimentConfig } from '../config/schema.js';
import type { ExecutionChoice, Execution } from './execution-types.js';
import type { RunStartContext, ActiveRun } from './run-start.js';
import { startRunWith } from './run-start.js';
import { readSessionState, runTrainerOf, sparseSgdOf } from './sparse-session.js';
import { composeSessionBase, finishDenseSession, sessionStreams, type ExperimentSession, type PrepareExperimentOptions, type SessionBase } from './session.js';

/**
 * Up to this dense float32 size of the masked weights (1 GiB) a compact session draws its initial state in
 * dense form, as the masked run does, then compacts it; above it the draw is compact (the dense form may not fit).
 */
export const COMPACT_STATE_MIN_DENSE_BYTES = 2 ** 30;
/**
 * Above this dense float32 size of the masked weights (1 GiB) SET's mask update runs on the compact arrays;
 * other strategies keep dense views while those fit ({@link DENSE_VIEW_FACTOR}).
 */
export const COMPACT_DENSE_VIEW_MAX_BYTES = 2 ** 30;
/** Bytes a dense-view mask update and its window hold per byte of float32 dense weights (estimate, see the decision). */
export const DENSE_VIEW_FACTOR = 5;
/** Values of `--sparse-state`. */
export const SPARSE_STATE_IDS = ['auto', 'dense', 'compact'] as const;

export type { CompactSession } from './sparse-compact-state.js';

/** Dense float32 bytes of the masked (weight) tensors of `spec`. */
export function denseWeightBytes(spec: DenseChainSpec): number {
  return spec.layers.reduce((acc, l) => acc + 4 * l.inFeatures * l.outFeatures, 0);
}

const gib = (bytes: number) => `${(bytes / 2 ** 30).toFixed(1)} GiB`;

function invalid(message: string, details: Record<string, unknown>): SparseLearningError {
  return new SparseLearningError('E_CONFIG_INVALID', message, details);
}

/**
 * Whether the run gets a compact session, and why (null: the dense session). Throws `E_CONFIG_INVALID` when
 * `--sparse-state compact` cannot be honoured, or when a compact session would need dense views it cannot hold.
 */
export function compactStateDecision(base: SessionBase): CompactDecision | null {
  const { config, composition, plan } = base;
  const requested = config.sparseState;
  const spec = denseChainSpec(config.model, { inputShape: base.dataset.inputShape, numClasses: base.dataset.numClasses });
  const bytes = spec ? denseWeightBytes(spec) : 0;
  // A dense session holds weights, gradients and momentum (4 bytes each) and a mask (1 byte) per dense position.
  const denseSession = (13 / 4) * bytes;
  const refuseDense = (why: string) => {
    if (denseSession <= totalmem()) return;
    throw invalid(
      `model '${config.model}' needs about ${gib(denseSession)} for ${why} (dense weights, gradients, momentum and masks), more than this machine's ${gib(totalmem())}; train it with --execution sparse (compact state, --preset set)`,
      { model: config.model, denseBytes: bytes, execution: config.execution, sparseState: requested, valid: ['--execution sparse --sparse-state auto|compact'] },
    );
  };
  if (config.execution === 'masked') {
    if (requested === 'compact') throw invalid("--sparse-state compact needs sparse execution; use --execution sparse (or auto), or --sparse-state auto", { sparseState: requested, valid: ['auto', 'dense'] });
    refuseDense('masked training');
    return null;
  }
  if (requested === 'dense') {
    refuseDense('sparse execution in dense state (--sparse-state dense)');
    return null;
  }
  if (!spec) {
    if (requested === 'compact') {
      throw invalid(`--sparse-state compact runs ReLU MLPs (lenet300-100, set-mlp, er-mlp-<width>); model '${config.model}' is not one`, { model: config.model, valid: ['lenet300-100', 'set-mlp', 'er-mlp-<width>'] });
    }
    return null;
  }
  // The dense form fits: the session draws it as the masked run does and compacts it (compactFromDense).
  const denseInit = bytes <= COMPACT_STATE_MIN_DENSE_BYTES;
  const blocker =
    !sparseAddonOf(loadNativeAddon())
      ? 'the native addon with sparse kernels is not built (npm run build:native -w @sparse-learning/backend-native)'
      : config.optimizer !== 'sgd'
        ? `optimizer '${config.optimizer}' (sparse execution implements SGD)`
        : plan.sparsity === 'dense' || !composition.distribution
          ? `preset '${config.preset}' trains dense (no masks)`
          : plan.gradientTransforms.length > 0
            ? `preset '${config.preset}' rewrites dense gradients every step (gradient transforms)`
            : composition.initHooks.length > 0 && !denseInit
              ? `preset '${config.preset}' runs init hooks on dense masks`
              : null;
  const why = `model '${config.model}' needs ${gib(bytes)} in dense float32 form`;
  if (blocker) {
    // A dense session names the blocker itself (chooseExecution: --execution sparse fails, auto trains masked).
    if (requested === 'compact' || !denseInit) {
      throw invalid(`${why}; compact sparse state is not possible: ${blocker}`, { model: config.model, denseBytes: bytes });
    }
    return null;
  }
  if (config.execution === 'auto' && config.density > SPARSE_AUTO_MAX_DENSITY && bytes <= COMPACT_STATE_MIN_DENSE_BYTES) return null;
  let compactUpdates = false;
  if (bytes > COMPACT_DENSE_VIEW_MAX_BYTES && composition.maskUpdater) {
    const requires = [...composition.maskUpdater.requires];
    const growthOptions = (composition.growth as { options?: { exactCount?: boolean; excludeJustPruned?: boolean } }).options ?? {};
    const setLike =
      composition.prune.id === 'set' &&
      composition.growth.id === 'random' &&
      growthOptions.exactCount === true &&
      growthOptions.excludeJustPruned === true &&
      composition.redistribution.id === 'uniform' &&
      plan.maskUpdater.regrowth === 'in-place' &&
      requires.length === 0;
    // SET's update runs on the compact arrays; any other strategy needs dense views at each update (and its
    // dense-gradient window), which must fit: about five float32 dense forms (weights, masks, the window's
    // momentum and gradient, the updater's copies), at most half the machine's memory.
    const viewBytes = DENSE_VIEW_FACTOR * bytes;
    if (setLike) compactUpdates = true;
    else if (viewBytes > totalmem() / 2) {
      const chosen = `prune '${composition.prune.id}', growth '${composition.growth.id}', redistribution '${composition.redistribution.id}'${requires.length ? ` (they need dense ${requires.join(' and ')})` : ''}`;
      throw invalid(
        `${why}: its dense views at a mask update (about ${gib(viewBytes)}) do not fit in half of this machine's ${gib(totalmem())}, and ${chosen} cannot update masks in compact form. Strategies that work at this size: --preset set (SET prune, random growth in place, no redistribution)`,
        { model: config.model, denseBytes: bytes, prune: composition.prune.id, growth: composition.growth.id, redistribution: composition.redistribution.id, valid: ['--preset set'] },
      );
    }
  }
  const state = requested === 'compact' ? '--sparse-state compact' : denseInit ? `dense form ${gib(bytes)}, drawn as the masked run draws it, then compacted` : `${why}, above the ${gib(COMPACT_STATE_MIN_DENSE_BYTES)} of a dense initial draw`;
  const reason =
    config.execution === 'sparse'
      ? `requested (compact state: ${state}; no dense tensors)`
      : `auto: sparse because '${config.model}' is a ReLU MLP in compact state (${state}; no dense tensors)`;
  return { spec, choice: { requested: config.execution, execution: 'sparse', reason }, compactUpdates, denseInit };
}

/** What {@link compactStateDecision} decided for a compact session. */
export interface CompactDecision {
  readonly spec: DenseChainSpec;
  readonly choice: ExecutionChoice;
  readonly compactUpdates: boolean;
  /** True when the initial state is drawn in dense form, as the masked run draws it, then compacted. */
  readonly denseInit: boolean;
}

/**
 * Composes a run's session: the compact sparse session of an MLP when {@link compactStateDecision} says so
 * (drawn compact, or drawn dense and compacted), the compact CNN session of a sparse CNN run
 * (./sparse-compact-cnn.ts) or of a sparse graph-form run (./sparse-compact-graph.ts), else the dense one
 * (`prepareExperiment`).
 */
export async function prepareRunSession(options: PrepareExperimentOptions): Promise<ExperimentSession | CompactSession | CompactCnnSession | CompactGraphSession> {
  const base = await composeSessionBase(options);
  const decision = compactStateDecision(base);
  if (!decision) return compactConvSessionOrDense(base.config, finishDenseSession(base));
  if (!decision.denseInit) return prepareCompactSession(base, decision);
  // Drawn as the masked run draws it; the execution is chosen on that session, as for a dense-state run.
  const dense = finishDenseSession(base);
  const choice = chooseOrDispose(dense, base.config.execution);
  const structure = mlpStructure(dense.model);
  if (choice.execution === 'masked' || 'reason' in structure) return dense;
  return compactFromDense(base, dense, decision, structure.layers);
}

/** {@link chooseExecution}, releasing the session when it throws (`--execution sparse` that cannot run). */
function chooseOrDispose(dense: ExperimentSession, requested: ExperimentConfig['execution']): ExecutionChoice {
  try {
    return chooseExecution(dense, requested);
  } catch (error) {
    dense.dispose();
    throw error;
  }
}

/**
 * A sparse CNN run with `--sparse-state auto` gets the compact CNN session (./sparse-compact-cnn.ts: the dense
 * model released once the trainer is built), a sparse run of the graph form the compact graph session
 * (./sparse-compact-graph.ts: the conv filters, their masks and momentum released); every other dense session
 * stays as it is.
 */
function compactConvSessionOrDense(config: ExperimentConfig, dense: ExperimentSession): ExperimentSession | CompactCnnSession | CompactGraphSession {
  if (config.execution === 'masked' || config.sparseState !== 'auto') return dense;
  const structure = sparseStructure(dense.model);
  if (!('kind' in structure) || structure.kind === 'mlp') return dense;
  const choice = chooseOrDispose(dense, config.execution);
  if (choice.execution !== 'sparse') return dense;
  return structure.kind === 'cnn' ? compactCnnSessionOf(dense, choice) : compactGraphSessionOf(dense, choice);
}

/**
 * The compact session of a dense session's fresh initial state (`--sparse-state auto|compact` when the dense
 * form fits): its weights, masks, baseline count, init streams and trainer books become compact layers, and the
 * dense model, masks, optimizer and trainer are disposed before the first step. Training then follows the
 * dense-state sparse execution bit for bit (same layers, same streams, same books).
 */
export function compactFromDense(
  base: SessionBase,
  dense: ExperimentSession,
  decision: CompactDecision,
  infos: readonly { weightName: string; biasName: string | null; inFeatures: number; outFeatures: number; relu: boolean }[],
): CompactSession {
  try {
    const state = readSessionState(dense);
    const layers: SparseMlpLayerSpec[] = infos.map((info) => {
      const weight = state.values(info.weightName);
      const bias = info.biasName ? state.values(info.biasName) : null;
      const mask = state.mask(info.weightName);
      const layer = sparseLayerFromDense(weight, mask ?? new Uint8Array(weight.length).fill(1), info.inFeatures, info.outFeatures, {
        bias,
        biasMom: bias ? new Float32Array(bias.length) : null,
        momentum: null,
        relu: info.relu,
      });
      return { weightName: info.weightName, biasName: info.biasName, layer, masked: mask !== null };
    });
    const initRngStates = dense.initRngStates();
    const session = compactSessionOf(base, decision, {
      layers,
      baselineNonzero: dense.masking!.baselineNonzero,
      maskedWeights: dense.maskedWeights,
      totalParameters: dense.totalParameters,
      initRngStates: () => initRngStates,
      initialState: dense.trainer.getState(),
    });
    const active = layers.reduce((a, s) => a + nnzOf(s.layer), 0);
    base.logger.info(
      `compact sparse session: ${layers.length} Dense layers, ${active} active weights drawn as the masked run draws them (dense form ${gib(4 * dense.maskedWeights)}, released before training); mask updates on dense views materialised at each update`,
    );
    return session;
  } finally {
    dense.dispose();
  }
}

/** The compact session of {@link compactStateDecision}'s decision (the initial topology drawn in compact form). */
export function prepareCompactSession(base: SessionBase, decision: CompactDecision): CompactSession {
  const { config } = base;
  const { spec } = decision;
  const initRng = base.rng.fork('compact-init');
  const init = drawCompactInit(spec, config.densityDistribution, config.density, initRng);
  // As the dense session: every layer needs an active weight.
  checkLayersPopulated(
    init.layers.map((s) => ({ name: s.weightName, size: s.layer.in * s.layer.out, active: nnzOf(s.layer) })),
    config.density,
    config.densityDistribution,
  );
  const maskedWeights = spec.layers.reduce((a, l) => a + l.inFeatures * l.outFeatures, 0);
  const totalParameters = maskedWeights + spec.layers.reduce((a, l) => a + (l.bias ? l.outFeatures : 0), 0);
  const session = compactSessionOf(base, decision, {
    layers: init.layers,
    baselineNonzero: init.baselineNonzero,
    maskedWeights,
    totalParameters,
    initRngStates: () => ({ 'compact-init': initRng.getState() }),
    initialState: null,
  });
  const active = init.layers.reduce((a, s) => a + nnzOf(s.layer), 0);
  base.logger.info(
    `compact sparse session: ${spec.layers.length} Dense layers, ${active} active weights drawn in compact form (${config.densityDistribution}), dense form ${gib(4 * maskedWeights)} not allocated; mask updates ${decision.compactUpdates ? 'on the compact arrays' : `on dense views materialised at each update (${gib(4 * maskedWeights)} of weights)`}`,
  );
  return session;
}

/** A compact session of `base` over initial compact layers (drawn compact, or compacted from a dense draw). */
function compactSessionOf(
  base: SessionBase,
  decision: CompactDecision,
  init: Pick<CompactSession, 'layers' | 'baselineNonzero' | 'maskedWeights' | 'totalParameters' | 'initRngStates' | 'initialState'>,
): CompactSession {
  const session: CompactSession = {
    kind: 'compact',
    spec: decision.spec,
    choice: decision.choice,
    compactUpdates: decision.compactUpdates,
    ...init,
    trainer: null,
    restored: null,
    config: base.config,
    backend: base.backend,
    dataset: base.dataset,
    plan: base.plan,
    composition: base.composition,
    stepsPerEpoch: base.stepsPerEpoch,
    totalSteps: base.totalSteps,
    rng: base.rng,
    ...sessionStreams(base),
    events: base.events,
    // The masked layers, as the dense session's masking reports them.
    layerMetrics: () =>
      (session.trainer?.layers ?? session.layers)
        .filter((s) => s.masked)
        .map((s) => {
          const size = s.layer.in * s.layer.out;
          const active = nnzOf(s.layer);
          return { name: s.weightName, size, active, density: active / size };
        }),
    dispose: () => {
      session.trainer = null;
      session.layers = [];
    },
  };
  return session;
}

/**
 * The sparse execution over a compact session (trainer built after a restore, so it starts from the checkpoint's
 * state; otherwise from the dense draw's books, or fresh). Exported for `npm run bench -- --sparse`, which drives
 * it as a run does.
 */
export function bindCompact(session: CompactSession, choice: ExecutionChoice, logger: Logger): Execution {
  const addon = sparseAddonOf(loadNativeAddon());
  if (!addon) throw new SparseLearningError('E_ENGINE_STATE', 'compact sparse session without the sparse kernels');
  const { config, composition, plan } = session;
  const { restored } = session;
  const trainer = new SparseMlpTrainer({
    maskUpdater: composition.maskUpdater,
    baselineNonzero: session.baselineNonzero,
    pruneRateSchedule: plan.pruneRateSchedule,
    learningRateSchedule:
      (composition as { readonly learningRateSchedule?: LearningRateSchedule }).learningRateSchedule ??
      new StepLrSchedule({ initial: config.lr, stepSize: config.decayFrequency, gamma: 0.1, steppedBeforeEachBatch: true }),
    trigger: plan.trigger,
    rng: session.rng,
    epochs: config.epochs,
    stepsPerEpoch: session.stepsPerEpoch,
    // Compact mask updates read no dense information: no window (a window covering the run would keep dense momentum).
    denseGradWindow: session.compactUpdates ? 0 : config.denseGradWindow,
    events: session.events,
    logger,
    addon,
    layers: session.layers,
    maxBatch: Math.max(config.batchSize, config.testBatchSize),
    sgd: sparseSgdOf(session),
    ...(session.compactUpdates ? { compactMaskUpdate: new CompactSetUpdate() } : {}),
  });
  // Continue the counters and random streams (fresh, or restored from a checkpoint) and any open window.
  if (restored) {
    trainer.setState(restored.state);
    trainer.restoreLayers(session.layers.map((s) => s.layer), restored.window);
  } else if (session.initialState) trainer.setState(session.initialState);
  session.trainer = trainer;
  const active = trainer.activeCounts().reduce((a, b) => a + b, 0);
  logger.info(`sparse execution (compact state): ${session.layers.length} Dense layers, ${active} active weights, ${(trainer.bytes() / 2 ** 20).toFixed(1)} MiB compact`);
  const batcher = new ArrayBatcher();
  return {
    choice,
    trainer: {
      ...runTrainerOf({ trainer: null }, trainer, () => {}),
      stepOn: (split, indices, rng) => trainer.step(batcher.fill(split, indices, rng)),
      evaluateSplit: (split, batchSize, limit, rng) => trainer.evaluate(batcher.pass(split, batchSize, limit, rng)),
    },
    // The compact layers are the state: nothing to write back.
    sync: () => {},
    compactBytes: () => trainer.bytes(),
  };
}

/** `startRun` for a compact session: restore from a compact (or convertible dense-form) checkpoint, bind, checkpoint compactly. */
export function startCompactRun(session: CompactSession, context: RunStartContext): ActiveRun {
  return startRunWith(session, context, {
    choice: session.choice,
    restore: (resume) => restoreCompactRunState(session, resume, context.options.config),
    bind: (choice, logger) => bindCompact(session, choice, logger),
    capture: (args) => captureCompactRunState(session, args),
  });
}
