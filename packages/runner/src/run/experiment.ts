import * as tf from '@tensorflow/tfjs-core';
import {
  AdamOptimizer,
  type Rng,
  Masking,
  SgdOptimizer,
  SparseTrainer,
  StepLrSchedule,
  createRng,
  fanOutEventSink,
  nullEventSink,
  silentLogger,
  type EventSink,
  type Logger,
  type MaskUpdateEvent,
  type SparseOptimizer,
} from '@sparse-learning/core';
import type { BackendChoice } from '@sparse-learning/backend-native';
import { loadDataset, type Dataset } from '@sparse-learning/datasets';
import { createModel, type ZooModel } from '@sparse-learning/models';
import type { Container } from 'inversify';
import type { ExperimentConfig } from '../config/schema.js';
import { checkStrategyIds, composeExperiment, createRootContainer, type Composition } from '../composition/compose.js';
import { loadPlugin, type LoadedPlugin } from '../composition/plugin-loader.js';
import { getPreset } from '../presets/index.js';
import type { PresetPlan } from '../presets/preset.js';
import { activateBackend } from './backend.js';
import { identityOrder, splitBatches } from './batches.js';
import type { EpochMetrics, LayerMetrics, LayerRedistribution, RunResults } from './metrics.js';
import { RunDirectory } from './run-directory.js';

/** Progress callbacks of one run (the CLI renders them; library code never prints). */
export interface RunObserver {
  onBackend?(choice: BackendChoice): void;
  onStart?(info: RunStartInfo): void;
  onStep?(info: { readonly step: number; readonly epoch: number; readonly loss: number }): void;
  onEpoch?(metrics: EpochMetrics, info: RunStartInfo): void;
  onFinish?(results: RunResults): void;
}

/** What a run is about to do. */
export interface RunStartInfo {
  readonly runDir: string;
  readonly label: string;
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
}

/** Options of {@link runExperiment}. */
export interface RunExperimentOptions {
  readonly config: ExperimentConfig;
  /** Where each configuration field came from (recorded in `config.json`). */
  readonly origins?: Readonly<Record<string, string>>;
  /** The run directory (created if needed). */
  readonly outDir: string;
  readonly logger?: Logger;
  /** Receives every engine event (steps, mask updates, epochs). */
  readonly events?: EventSink;
  readonly observer?: RunObserver;
  /** Root container to create the experiment's child container under (default: a fresh one). */
  readonly root?: Container;
  /** Plugins already loaded; default: load `config.plugins` relative to `cwd`. */
  readonly plugins?: readonly LoadedPlugin[];
  readonly cwd?: string;
}

/** A logger that also keeps every line for `run.log`. */
function teeLogger(inner: Logger, dir: RunDirectory): Logger {
  const at = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, data?: Record<string, unknown>) => {
    dir.log(`${new Date().toISOString()} ${level} ${message}${data ? ` ${JSON.stringify(data)}` : ''}`);
    inner[level](message, data);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function createOptimizer(config: ExperimentConfig): SparseOptimizer {
  if (config.optimizer === 'adam') return new AdamOptimizer({ learningRate: config.lr, weightDecay: config.l2 });
  return new SgdOptimizer({
    learningRate: config.lr,
    momentum: config.momentum,
    nesterov: config.nesterov && config.momentum > 0,
    weightDecay: config.l2,
  });
}

/** Sums the mask updates of one epoch into per-layer removed/regrown counts and the last update's shares. */
function summarizeUpdates(updates: readonly MaskUpdateEvent[]): LayerRedistribution[] | null {
  if (updates.length === 0) return null;
  const last = updates[updates.length - 1];
  return last.layers.map((layer, i) => ({
    name: layer.name,
    share: Number.isFinite(layer.share) ? layer.share : 0,
    removed: updates.reduce((acc, u) => acc + (u.layers[i]?.removed ?? 0), 0),
    regrown: updates.reduce((acc, u) => acc + (u.layers[i]?.regrown ?? 0), 0),
  }));
}

/** A short label for progress lines: `preset model d=… seed=…`. */
export function runLabel(config: ExperimentConfig): string {
  return `${config.preset} ${config.model} d=${config.density} seed=${config.seed}`;
}

/** Everything composed for one experiment, before the first step: what {@link runExperiment} trains. */
export interface ExperimentSession {
  readonly config: ExperimentConfig;
  readonly backend: BackendChoice;
  readonly dataset: Dataset;
  readonly model: ZooModel;
  readonly masking: Masking | null;
  readonly optimizer: SparseOptimizer;
  readonly trainer: SparseTrainer;
  readonly plan: PresetPlan;
  readonly composition: Composition;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  /** Elements of the prunable tensors (the density denominator). */
  readonly maskedWeights: number;
  /** Elements of every trainable parameter. */
  readonly totalParameters: number;
  /** The run's root random stream (seeded by `config.seed`). */
  readonly rng: Rng;
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
 * One seed drives everything through forked streams: `model-init`, `mask-init` (and `data-order`, `augment`
 * in {@link runExperiment}), plus the trainer's own `mask-update` and `noise` streams.
 */
export async function prepareExperiment(options: PrepareExperimentOptions): Promise<ExperimentSession> {
  const { config } = options;
  const logger = options.logger ?? silentLogger;
  const preset = getPreset(config.preset);
  const plugins = options.plugins ?? (await Promise.all(config.plugins.map((p) => loadPlugin(p, options.cwd))));
  // Fail on a bad id before the backend, the data or the disk are touched.
  await checkStrategyIds(config, plugins);

  const backend = await activateBackend(config.backend, config.model);
  logger.info(`backend ${backend.backend}: ${backend.reason}`);
  options.onBackend?.(backend);

  const dataset = await loadDataset(config.dataset, { dataDir: config.dataDir, validSplit: config.validSplit });
  const stepsPerEpoch = Math.min(dataset.train.batchCount(config.batchSize), config.maxBatches ?? Number.POSITIVE_INFINITY);
  const totalSteps = stepsPerEpoch * config.epochs;
  const plan = preset.plan({ config, stepsPerEpoch, totalSteps });
  const root = options.root ?? createRootContainer({ logger, events: options.events });
  const composition = await composeExperiment(root, config, plan, plugins);

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
  if (plan.sparsity !== 'dense' && composition.distribution) {
    masking = new Masking(model.variables);
    masking.initialize(composition.distribution, config.density, rng.fork('mask-init'));
    masking.apply();
    plan.afterInit?.({ masking, prune: composition.prune, rng: rng.fork('preset-init') });
  }
  const optimizer = createOptimizer(config);
  const updates: MaskUpdateEvent[] = [];
  const collect: EventSink = { emit: (event) => void (event.type === 'mask-update' && updates.push(event)) };
  const trainer = new SparseTrainer({
    model,
    optimizer,
    masking,
    maskUpdater: composition.maskUpdater,
    pruneRateSchedule: plan.pruneRateSchedule,
    learningRateSchedule: new StepLrSchedule({
      initial: config.lr,
      stepSize: config.decayFrequency,
      gamma: 0.1,
      steppedBeforeEachBatch: true,
    }),
    trigger: plan.trigger,
    gradientTransforms: plan.gradientTransforms,
    events: fanOutEventSink(collect, options.events ?? nullEventSink),
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

/**
 * Trains one experiment end to end and writes its run directory (spec §1.12 loop, §4): composes it with
 * {@link prepareExperiment}, then trains `epochs` epochs of (at most `maxBatches`) shuffled mini-batches.
 * After every epoch it evaluates the validation and test splits (at most `maxEvalBatches`, default
 * `maxBatches`, batches), closes the epoch (the mask update runs there for epoch-triggered presets) and
 * appends one line to `metrics.jsonl`. The reported test error is the last epoch's (no best-validation
 * selection, spec §4.1).
 */
export async function runExperiment(options: RunExperimentOptions): Promise<RunResults> {
  const { config } = options;
  const startedAt = new Date();
  const started = performance.now();
  const observer = options.observer ?? {};
  const plugins = options.plugins ?? (await Promise.all(config.plugins.map((p) => loadPlugin(p, options.cwd))));
  await checkStrategyIds(config, plugins);
  const dir = new RunDirectory(options.outDir);
  const logger = teeLogger(options.logger ?? silentLogger, dir);

  try {
    const session = await prepareExperiment({
      config,
      logger,
      events: options.events,
      root: options.root,
      plugins,
      cwd: options.cwd,
      onBackend: (choice) => observer.onBackend?.(choice),
    });
    const { backend, dataset, trainer, plan, stepsPerEpoch, totalSteps, maskedWeights, rng } = session;
    dir.writeConfig({
      config,
      origins: options.origins ?? {},
      backend: { name: backend.backend, reason: backend.reason },
      plugins: plugins.map((p) => ({ specifier: p.specifier, resolved: p.resolved })),
      plan: { sparsity: plan.sparsity, maskUpdater: plan.maskUpdater, trigger: plan.trigger.id, pruneRateSchedule: plan.pruneRateSchedule.id },
      stepsPerEpoch,
      totalSteps,
      tfjs: tf.version_core,
      node: process.version,
      createdAt: startedAt.toISOString(),
    });

    const startInfo: RunStartInfo = { runDir: dir.path, label: runLabel(config), epochs: config.epochs, stepsPerEpoch, totalSteps };
    observer.onStart?.(startInfo);
    logger.info(`training ${startInfo.label}: ${config.epochs} epochs × ${stepsPerEpoch} steps`, { runDir: dir.path });

    const dataRng = rng.fork('data-order');
    const augmentRng = rng.fork('augment');
    const evalLimit = config.maxEvalBatches ?? config.maxBatches ?? Number.POSITIVE_INFINITY;
    const testOrder = identityOrder(dataset.test.size);
    const validationOrder = dataset.validation ? identityOrder(dataset.validation.size) : null;
    let last: EpochMetrics | null = null;

    try {
      for (let epoch = 1; epoch <= config.epochs; epoch++) {
        const epochStart = performance.now();
        session.takeMaskUpdates();
        const order = dataset.train.epochOrder(dataRng, true);
        let lossSum = 0;
        let steps = 0;
        let learningRate = config.lr;
        for (const batch of splitBatches(dataset.train, order, config.batchSize, stepsPerEpoch, augmentRng)) {
          const result = trainer.step(batch);
          lossSum += result.loss;
          steps++;
          learningRate = result.learningRate;
          observer.onStep?.({ step: result.step, epoch, loss: result.loss });
        }
        const pruneRate = trainer.pruneRate;
        const validation =
          dataset.validation && validationOrder
            ? trainer.evaluate(splitBatches(dataset.validation, validationOrder, config.testBatchSize, evalLimit))
            : null;
        const test = trainer.evaluate(splitBatches(dataset.test, testOrder, config.testBatchSize, evalLimit));
        trainer.endEpoch({
          trainLoss: lossSum / steps,
          ...(validation ? { validationLoss: validation.loss, validationAccuracy: validation.accuracy } : {}),
          testLoss: test.loss,
          testAccuracy: test.accuracy,
        });
        const updates = session.takeMaskUpdates();
        const layers = session.layerMetrics();
        const totalActive = layers.reduce((acc, l) => acc + l.active, 0);
        const metrics: EpochMetrics = {
          epoch,
          step: trainer.position().step,
          trainLoss: lossSum / steps,
          validationLoss: validation?.loss ?? null,
          validationAccuracy: validation?.accuracy ?? null,
          testLoss: test.loss,
          testAccuracy: test.accuracy,
          learningRate,
          pruneRate,
          totalActive,
          density: totalActive / maskedWeights,
          layers,
          maskUpdates: updates.length,
          redistribution: summarizeUpdates(updates),
          epochSeconds: (performance.now() - epochStart) / 1000,
        };
        last = metrics;
        dir.appendMetrics(metrics);
        observer.onEpoch?.(metrics, startInfo);
        logger.info(
          `epoch ${epoch}/${config.epochs} loss ${metrics.trainLoss.toFixed(4)} test acc ${(100 * test.accuracy).toFixed(2)}% density ${metrics.density.toFixed(4)}`,
        );
      }
    } finally {
      session.dispose();
    }

    const final = last as EpochMetrics;
    const results: RunResults = {
      preset: config.preset,
      model: config.model,
      dataset: config.dataset,
      density: config.density,
      seed: config.seed,
      backend: { name: backend.backend, reason: backend.reason },
      epochs: config.epochs,
      steps: final.step,
      testAccuracy: final.testAccuracy,
      testError: 1 - final.testAccuracy,
      validationAccuracy: final.validationAccuracy,
      trainLoss: final.trainLoss,
      totalActive: final.totalActive,
      finalDensity: final.density,
      maskedWeights,
      totalParameters: session.totalParameters,
      seconds: (performance.now() - started) / 1000,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
    };
    dir.writeResults(results);
    observer.onFinish?.(results);
    return results;
  } catch (error) {
    logger.error(error instanceof Error ? error.message : String(error));
    throw error;
  } finally {
    try {
      dir.flushLog();
    } catch {
      // A failed log write must not hide the run's own error.
    }
  }
}
