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

/** Everything composed for one experiment, before the first step: what `runExperiment` trains. */
export interface ExperimentSession {
  readonly config: ExperimentConfig;
  readonly backend: BackendChoice;
  readonly dataset: Dataset;
  readonly model: ZooModel;
  readonly masking: Masking | null;
  readonly optimizer: SparseOptimizer;
  readonly trainer: SparseTrainer;
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
  /** The sink the trainer emits to (mask updates reach {@link ExperimentSession.takeMaskUpdates} through it). */
  readonly events: EventSink;
  /** The mask updates emitted since the last {@link ExperimentSession.takeMaskUpdates}. */
  takeMaskUpdates(): MaskUpdateEvent[];
  /** Per-layer sizes, active counts and densities now. */
  layerMetrics(): LayerMetrics[];
  /** Releases the model, optimizer, masks and trainer tensors. */
  dispose(): void;
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
  const updates: MaskUpdateEvent[] = [];
  const collect: EventSink = { emit: (event) => void (event.type === 'mask-update' && updates.push(event)) };
  const sessionEvents = fanOutEventSink(collect, options.events ?? nullEventSink);
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
    backend,
    dataset,
    model,
    masking,
    optimizer,
    trainer,
    plan,
    composition,
    stepsPerEpoch,
    totalSteps,
    maskedWeights,
    totalParameters,
    rng,
    initRngStates: () => ({ 'mask-init': maskInitRng.getState(), 'preset-init': presetInitRng.getState() }),
    dataOrderRng: (epoch) => rng.fork(`data-order/${epoch}`),
    augmentRng: (epoch, batch) => rng.fork(`augment/${epoch}/${batch}`),
    validationRng: (epoch) => rng.fork(`validation-augment/${epoch}`),
    dropoutKey: (epoch, batch) => `${config.seed}/dropout/${epoch}/${batch}`,
    events: sessionEvents,
    takeMaskUpdates: () => updates.splice(0, updates.length),
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

