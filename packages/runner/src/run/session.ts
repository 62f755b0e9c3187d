import {
  Masking,
  SparseTrainer,
  createRng,
  fanOutEventSink,
  nullEventSink,
  silentLogger,
  type EventSink,
  type Logger,
  type MaskUpdateEvent,
  type Rng,
  type RngState,
  type SparseOptimizer,
} from '@sparse-learning/core';
import type { BackendChoice } from '@sparse-learning/backend-native';
import { loadDataset, type Dataset } from '@sparse-learning/datasets';
import { createModel, type ZooModel } from '@sparse-learning/models';
import type { Container } from 'inversify';
import { checkStrategyIds, composeExperiment, createRootContainer, type Composition, type RunPlan } from '../composition/compose.js';
import { loadPlugin, type LoadedPlugin } from '../composition/plugin-loader.js';
import type { ExperimentConfig } from '../config/schema.js';
import { activateBackend } from './backend.js';
import type { LayerMetrics } from './metrics.js';
import { checkLayersPopulated } from './run-identity.js';

/**
 * What every session of a run has, whichever form its state takes: the configuration, data, composition,
 * sizes, random streams and events. {@link ExperimentSession} adds the dense TF.js model, masks, optimizer and
 * trainer; a compact sparse session (./sparse-compact-session.ts, issue 9) adds compact layers instead.
 */
export interface RunSession {
  readonly config: ExperimentConfig;
  readonly backend: BackendChoice;
  readonly dataset: Dataset;
  readonly plan: RunPlan;
  readonly composition: Composition;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  /** Elements of the prunable tensors (the density denominator). */
  readonly maskedWeights: number;
  /** Elements of every trainable parameter. */
  readonly totalParameters: number;
  /** The run's root random stream (seeded by `config.seed`). */
  readonly rng: Rng;
  /** States of the streams used once at initialisation (`mask-init`, `preset-init`), after their draws. */
  initRngStates(): Record<string, RngState>;
  /**
   * The stream that shuffles epoch `epoch` (1-based): forked from the seed by label, so the data order is a
   * pure function of (seed, epoch) and a resumed epoch replays the same batches.
   */
  dataOrderRng(epoch: number): Rng;
  /** The augmentation stream of one training batch: a pure function of (seed, epoch, batch index). */
  augmentRng(epoch: number, batch: number): Rng;
  /**
   * The augmentation stream of epoch `epoch`'s validation pass (docs/algorithm.md#recipes: the official validation subset
   * is drawn from the training dataset object, so it gets the training crop/flip): a pure function of
   * (seed, epoch), so validation metrics are reproducible and equal after a resume.
   */
  validationRng(epoch: number): Rng;
  /**
   * The dropout key of one training batch (`<seed>/dropout/<epoch>/<batch>`), set on the model before the
   * step: dropout masks are a pure function of the position, so a run resumed mid-epoch draws the same ones.
   */
  dropoutKey(epoch: number, batch: number): string;
  /** The sink the trainer emits to (mask updates reach {@link RunSession.takeMaskUpdates} through it). */
  readonly events: EventSink;
  /** The mask updates emitted since the last {@link RunSession.takeMaskUpdates}. */
  takeMaskUpdates(): MaskUpdateEvent[];
  /** Per-layer sizes, active counts and densities now. */
  layerMetrics(): LayerMetrics[];
  /** Releases the session's tensors and buffers. */
  dispose(): void;
}

/** Everything composed for one experiment in dense form, before the first step: what `runExperiment` trains. */
export interface ExperimentSession extends RunSession {
  readonly model: ZooModel;
  readonly masking: Masking | null;
  readonly optimizer: SparseOptimizer;
  readonly trainer: SparseTrainer;
}

/** The parts of a session composed before the model is built (see {@link composeSessionBase}). */
export interface SessionBase {
  readonly config: ExperimentConfig;
  readonly logger: Logger;
  readonly backend: BackendChoice;
  readonly dataset: Dataset;
  readonly composition: Composition;
  readonly plan: RunPlan;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  readonly rng: Rng;
  readonly events: EventSink;
  /** The mask updates {@link SessionBase.events} collected. */
  readonly updates: MaskUpdateEvent[];
}

/** The random streams and event plumbing every session shares, from its base. */
export function sessionStreams(base: SessionBase) {
  const { config, rng, updates } = base;
  return {
    dataOrderRng: (epoch: number) => rng.fork(`data-order/${epoch}`),
    augmentRng: (epoch: number, batch: number) => rng.fork(`augment/${epoch}/${batch}`),
    validationRng: (epoch: number) => rng.fork(`validation-augment/${epoch}`),
    dropoutKey: (epoch: number, batch: number) => `${config.seed}/dropout/${epoch}/${batch}`,
    takeMaskUpdates: () => updates.splice(0, updates.length),
  };
}

/** Options of {@link prepareExperiment}. */
export interface PrepareExperimentOptions {
  readonly config: ExperimentConfig;
  readonly logger?: Logger;
  readonly events?: EventSink;
  readonly root?: Container;
  readonly plugins?: readonly LoadedPlugin[];
  readonly cwd?: string;
  /** Called once the backend is active (before the data is loaded). */
  readonly onBackend?: (choice: BackendChoice) => void;
}

/**
 * Composes one experiment without training it: checks the strategy ids (before touching backend, data or
 * disk), activates the backend, loads the dataset (official split), builds the model with seeded
 * initialisation, composes the preset's strategies through the composition root, draws and applies the
 * initial masks, and builds the optimizer, schedules and {@link SparseTrainer}.
 *
 * One seed drives everything through forked streams: `model-init`, `mask-init`, `preset-init`,
 * `data-order/<epoch>`, `augment/<epoch>/<batch>`, `validation-augment/<epoch>`, the dropout key
 * `dropout/<epoch>/<batch>`, plus the trainer's own `mask-update` and `noise` streams.
 */
export async function prepareExperiment(options: PrepareExperimentOptions): Promise<ExperimentSession> {
  return finishDenseSession(await composeSessionBase(options));
}

/**
 * The first half of {@link prepareExperiment}: strategy ids checked, backend active, dataset loaded,
 * strategies composed, root stream and event sink made — everything but the model and its state.
 */
export async function composeSessionBase(options: PrepareExperimentOptions): Promise<SessionBase> {
  const { config } = options;
  const logger = options.logger ?? silentLogger;
  const plugins = options.plugins ?? (await Promise.all(config.plugins.map((p) => loadPlugin(p, options.cwd))));
  // Fail on a bad id before the backend, the data or the disk are touched.
  await checkStrategyIds(config, plugins);

  const backend = await activateBackend(config.backend, config.model);
  logger.info(`backend ${backend.backend}: ${backend.reason}`);
  options.onBackend?.(backend);

  const dataset = await loadDataset(config.dataset, {
    dataDir: config.dataDir,
    validSplit: config.validSplit,
    ...(config.numClasses === undefined ? {} : { numClasses: config.numClasses }),
  });
  const augmented = (split: { readonly size: number; readonly augment: boolean }) => `${split.size}${split.augment ? ' (augmented)' : ''}`;
  logger.info(
    `data ${dataset.id} from ${dataset.source}: train ${augmented(dataset.train)}, validation ` +
      `${dataset.validation ? augmented(dataset.validation) : 'none'}, test ${dataset.test.size}`,
  );
  const stepsPerEpoch = Math.min(dataset.train.batchCount(config.batchSize), config.maxBatches ?? Number.POSITIVE_INFINITY);
  const totalSteps = stepsPerEpoch * config.epochs;
  const root = options.root ?? createRootContainer({ logger, events: options.events });
  const composition = await composeExperiment(root, config, plugins, { stepsPerEpoch, totalSteps });
  const { plan } = composition;

  const rng = createRng(config.seed);
  const updates: MaskUpdateEvent[] = [];
  const collect: EventSink = { emit: (event) => void (event.type === 'mask-update' && updates.push(event)) };
  const events = fanOutEventSink(collect, options.events ?? nullEventSink);
  return { config, logger, backend, dataset, composition, plan, stepsPerEpoch, totalSteps, rng, events, updates };
}

/** The second half of {@link prepareExperiment}: the dense model, initial masks, optimizer and trainer. */
export function finishDenseSession(base: SessionBase): ExperimentSession {
  const { config, logger, dataset, composition, plan, stepsPerEpoch, rng } = base;
  const sessionEvents = base.events;
  const model = createModel(config.model, {
    seed: `${config.seed}/model-init`,
    inputShape: dataset.inputShape,
    numClasses: dataset.numClasses,
  });
  const prunableVariables = model.variables.filter((v) => v.prunable);
  const maskedWeights = prunableVariables.reduce((acc, v) => acc + v.variable.size, 0);
  const totalParameters = model.variables.filter((v) => v.trainable).reduce((acc, v) => acc + v.variable.size, 0);

  let masking: Masking | null = null;
  const maskInitRng = rng.fork('mask-init');
  const presetInitRng = rng.fork('preset-init');
  if (plan.sparsity !== 'dense' && composition.distribution) {
    masking = new Masking(model.variables);
    masking.initialize(composition.distribution, config.density, maskInitRng);
    checkLayersPopulated(masking.counts(), config.density, config.densityDistribution);
    masking.apply();
    composition.runInitHooks(masking, presetInitRng);
  }
  const optimizer = composition.optimizer;
  const trainer = new SparseTrainer({
    model,
    optimizer,
    masking,
    maskUpdater: composition.maskUpdater,
    pruneRateSchedule: plan.pruneRateSchedule,
    learningRateSchedule: composition.learningRateSchedule,
    trigger: plan.trigger,
    gradientTransforms: plan.gradientTransforms,
    events: sessionEvents,
    logger,
    rng,
    epochs: config.epochs,
    stepsPerEpoch,
  });

  return {
    config,
    backend: base.backend,
    dataset,
    model,
    masking,
    optimizer,
    trainer,
    plan,
    composition,
    stepsPerEpoch,
    totalSteps: base.totalSteps,
    maskedWeights,
    totalParameters,
    rng,
    initRngStates: () => ({ 'mask-init': maskInitRng.getState(), 'preset-init': presetInitRng.getState() }),
    ...sessionStreams(base),
    events: sessionEvents,
    layerMetrics: () =>
      masking
        ? masking.counts().map((c) => ({ name: c.name, size: c.size, active: c.active, density: c.density }))
        : prunableVariables.map((v) => ({ name: v.name, size: v.variable.size, active: v.variable.size, density: 1 })),
    dispose: () => {
      trainer.dispose();
      optimizer.dispose();
      masking?.dispose();
      model.dispose();
    },
  };
}

