import { rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { saveCheckpoint, type FsOps, type LoadedCheckpoint } from '@sparse-learning/checkpoint';
import {
  SparseLearningError,
  isSparseLearningError,
  type Rng,
  type RngState,
  Masking,
  SparseTrainer,
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
import { batchIndices, loadDataset, type Dataset } from '@sparse-learning/datasets';
import { createModel, type ZooModel } from '@sparse-learning/models';
import type { Container } from 'inversify';
import type { ExperimentConfig } from '../config/schema.js';
import { checkStrategyIds, composeExperiment, createRootContainer, type Composition, type RunPlan, describeChoices } from '../composition/compose.js';
import { loadPlugin, type LoadedPlugin } from '../composition/plugin-loader.js';
import { activateBackend } from './backend.js';
import { identityOrder, splitBatches } from './batches.js';
import { captureRunState, historyOf, restoreRunState, type CheckpointReason, type ResumeExtra, type RunRecord } from './checkpointing.js';
import { newEpochProgress } from './epoch-progress.js';
import { chooseExecution, createExecution, type ExecutionChoice } from './sparse-execution.js';
import type { EpochMetrics, LayerMetrics, RunResults } from './metrics.js';
import { HOLD_MARKER, RunDirectory } from './run-directory.js';
import { claimRunDirectory } from './run-dir-guard.js';
import { checkLayersPopulated, configIdentity } from './run-identity.js';

/** Progress callbacks of one run (the CLI renders them; library code never prints). */
export interface RunObserver {
  onBackend?(choice: BackendChoice): void;
  /** Masked or sparse execution, and why (issue 9). */
  onExecution?(choice: ExecutionChoice): void;
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
  /** Where a resumed run continues (completed epochs, batch inside the next epoch, completed steps). */
  readonly resumedAt?: { readonly epoch: number; readonly batch: number; readonly step: number };
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
  /**
   * Continue from this checkpoint (see `loadResumePoint`): `config` must be the checkpoint's and `outDir` its
   * run directory.
   */
  readonly resume?: LoadedCheckpoint;
  /**
   * Aborting it stops the run after the current step: a checkpoint is saved and {@link RunInterrupted} thrown
   * (the CLI aborts on SIGINT/SIGTERM).
   */
  readonly signal?: AbortSignal;
  /** Checkpoint options: how many files to keep (default 2) and file-system overrides (failure injection in tests). */
  readonly checkpoint?: { readonly keep?: number; readonly fs?: Partial<FsOps> };
  /**
   * Testing aid (the CLI reads `SPARSE_LEARNING_HOLD_AT_STEP`): after optimizer step `n`, write
   * `<outDir>/.hold` and wait until `signal` aborts (ignored without a `signal`), so a test can kill or interrupt
   * the process at a known step.
   */
  readonly holdAtStep?: number;
  /**
   * `--force`: write a new run into a directory that already holds one, replacing that run's own files
   * (other files are kept). Without it such a directory is `E_RUN_EXISTS` (see `checkRunDirectory`).
   */
  readonly overwrite?: boolean;
  /** Warnings about the configuration (e.g. a preset overriding a flag), recorded in `config.json`. */
  readonly configWarnings?: readonly string[];
  /** The command holding the run directory's lock, for `E_RUN_LOCKED` messages (default `train`). */
  readonly command?: string;
}

/** A logger that also keeps every line for `run.log`. */
function teeLogger(inner: Logger, dir: RunDirectory): Logger {
  const at = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, data?: Record<string, unknown>) => {
    dir.log(`${new Date().toISOString()} ${level} ${message}${data ? ` ${JSON.stringify(data)}` : ''}`);
    // Warnings and errors reach the disk at once: they explain a crash that may follow.
    if (level === 'warn' || level === 'error') dir.flushLog();
    inner[level](message, data);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
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

/**
 * Thrown by {@link runExperiment} when its `signal` aborted the run: the current step was finished and a
 * checkpoint saved, from which `sparse-learning train --resume <runDir>` continues exactly. Not a failure.
 */
export class RunInterrupted extends Error {
  override readonly name = 'RunInterrupted';

  constructor(
    readonly runDir: string,
    readonly checkpoint: string,
    readonly epoch: number,
    readonly batch: number,
    readonly step: number,
    readonly reason: unknown,
  ) {
    super(`run interrupted at step ${step} (epoch ${epoch}, batch ${batch}); checkpoint ${checkpoint}`);
  }
}

/** The checkpoint last written by a run, for error messages. */
interface SavedPoint {
  readonly path: string;
  readonly epoch: number;
  readonly step: number;
}

const yieldToEventLoop = () => new Promise<void>((resolveYield) => setImmediate(resolveYield));

/** Waits (polling, so signal handlers run) until `signal` aborts; used by {@link RunExperimentOptions.holdAtStep}. */
async function holdUntilAborted(signal: AbortSignal, marker: string): Promise<void> {
  writeFileSync(marker, `${process.pid}\n`);
  while (!signal.aborted) await new Promise((r) => setTimeout(r, 10));
  rmSync(marker, { force: true });
}

/**
 * Describes what a failed run leaves behind and appends it to a coded error (same code and details, plus
 * `kept`): nothing that was written before the failure is touched.
 */
function withKept(
  error: SparseLearningError,
  dir: RunDirectory,
  saved: SavedPoint | null,
  config: ExperimentConfig,
  trainingStarted: boolean,
): SparseLearningError {
  // A failure before the first step (data, backend, composition) has nothing to report beyond itself.
  if (!trainingStarted && !saved) return error;
  const epochs = dir.metricsCount;
  const kept = saved
    ? `kept the last good checkpoint ${basename(saved.path)} (epoch ${saved.epoch}, step ${saved.step}) and the metrics of ${epochs} epoch${epochs === 1 ? '' : 's'} in ${dir.path}`
    : `no epoch had finished, so there is no checkpoint yet (run directory ${dir.path})`;
  const base = error.message.replace(/^\[[A-Z_]+\] /, '');
  const hint =
    error.code === 'E_NON_FINITE'
      ? `training diverged: ${base}; try a smaller --lr (it is ${config.lr}) in a new run`
      : base;
  return new SparseLearningError(error.code, `${hint} — ${kept}`, { ...error.details, kept: saved ? { ...saved, epochs } : null }, { cause: error });
}

/**
 * Trains one experiment end to end and writes its run directory (spec §1.12 loop, §4): composes it with
 * {@link prepareExperiment}, then trains `epochs` epochs of (at most `maxBatches`) shuffled mini-batches.
 * After every epoch it evaluates the validation and test splits (at most `maxEvalBatches`, default
 * `maxBatches`, batches), closes the epoch (the mask update runs there for epoch-triggered presets), saves a
 * checkpoint (`@sparse-learning/checkpoint`: atomic, versioned, checksummed, the last two kept) and appends one
 * line to `metrics.jsonl`. The reported test error is the last epoch's (no best-validation selection, spec §4.1).
 *
 * With `resume` it continues from that checkpoint instead of step 0: the same batches in the same order
 * (data order is a pure function of (seed, epoch); a mid-epoch checkpoint skips the batches already done),
 * so the final weights, masks and metrics equal those of an uninterrupted run, bit for bit, on the same
 * backend. When `signal` aborts, the current step finishes, a checkpoint is saved and {@link RunInterrupted}
 * is thrown. A failure (non-finite loss, broken plugin, failed write) is rethrown with what was kept.
 */
export async function runExperiment(options: RunExperimentOptions): Promise<RunResults> {
  const { config, resume, signal } = options;
  const startedAt = new Date();
  const started = performance.now();
  const observer = options.observer ?? {};
  const plugins = options.plugins ?? (await Promise.all(config.plugins.map((p) => loadPlugin(p, options.cwd))));
  await checkStrategyIds(config, plugins);
  // One process per run directory, and a new run never replaces an earlier one unless asked (--force).
  const lock = await claimRunDirectory(options.outDir, {
    resuming: resume !== undefined,
    overwrite: options.overwrite,
    command: options.command ?? (resume ? 'train --resume' : 'train'),
    logger: options.logger,
  });
  const dir = new RunDirectory(options.outDir, { keepLog: resume !== undefined });
  const logger = teeLogger(options.logger ?? silentLogger, dir);
  let saved: SavedPoint | null = resume ? { path: resume.path, epoch: resume.epoch, step: resume.step } : null;
  const history: EpochMetrics[] = resume ? historyOf(resume) : [];
  let trainingStarted = false;

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
    const { backend, dataset, plan, stepsPerEpoch, totalSteps, maskedWeights } = session;
    // Issue 9: the same session trained masked (dense × masks) or truly sparse (compact, native).
    const executionChoice = chooseExecution(session, config.execution);
    logger.info(`execution ${executionChoice.execution}: ${executionChoice.reason}`);
    observer.onExecution?.(executionChoice);
    const pluginRecord = plugins.map((p) => ({ specifier: p.specifier, resolved: p.resolved }));
    let progress = newEpochProgress(config.lr);
    let previous: ResumeExtra | null = null;
    if (resume) {
      previous = restoreRunState(session, resume, config);
      progress = previous.progress;
      if (previous.backend.name !== backend.backend) {
        logger.warn(
          `resuming on backend '${backend.backend}' but the run was trained on '${previous.backend.name}': results may differ from an uninterrupted run in the last bits (use --backend ${previous.backend.name} for a bit-exact resume)`,
        );
      }
      dir.resetMetrics(history);
      dir.recordResume({
        fromCheckpoint: basename(resume.path),
        epoch: resume.epoch,
        step: resume.step,
        batchInEpoch: progress.batch,
        backend: { name: backend.backend, reason: backend.reason },
        at: startedAt.toISOString(),
      });
      logger.info(`resumed from ${basename(resume.path)}: epoch ${resume.epoch + 1}, batch ${progress.batch}/${stepsPerEpoch}, step ${resume.step}`);
    } else {
      dir.writeConfig({
        config,
        configHash: configIdentity(config),
        ...(options.configWarnings?.length ? { warnings: options.configWarnings } : {}),
        dataset: { numClasses: dataset.numClasses, inputShape: dataset.inputShape },
        origins: options.origins ?? {},
        backend: { name: backend.backend, reason: backend.reason },
        plugins: pluginRecord,
        plan: { sparsity: plan.sparsity, maskUpdater: plan.maskUpdater, trigger: plan.trigger.id, pruneRateSchedule: plan.pruneRateSchedule.id },
        // Every plugin of the run with its complete, validated options (defaults filled in).
        strategies: describeChoices(session.composition.choices),
        execution: executionChoice,
        stepsPerEpoch,
        totalSteps,
        tfjs: tf.version_core,
        node: process.version,
        createdAt: startedAt.toISOString(),
      });
    }
    const execution = createExecution(session, executionChoice, logger, config.denseGradWindow);
    const trainer = execution.trainer;
    const record = (): RunRecord => ({
      origins: previous?.origins ?? options.origins ?? {},
      // The backend that trained the run so far; a resume on another backend is recorded in config.json.
      backend: previous?.backend ?? { name: backend.backend, reason: backend.reason },
      plugins: pluginRecord,
      elapsedSeconds: (previous?.elapsedSeconds ?? 0) + (performance.now() - started) / 1000,
      startedAt: previous?.startedAt ?? startedAt.toISOString(),
    });
    const checkpoint = async (reason: CheckpointReason): Promise<SavedPoint> => {
      execution.sync();
      const data = captureRunState(session, { history, progress, reason, record: record() });
      const written = await saveCheckpoint(dir.path, data, { keep: options.checkpoint?.keep ?? 2, logger, fs: options.checkpoint?.fs });
      return { path: written.path, epoch: data.epoch, step: data.step };
    };

    const startInfo: RunStartInfo = {
      runDir: dir.path,
      label: runLabel(config),
      epochs: config.epochs,
      stepsPerEpoch,
      totalSteps,
      ...(resume ? { resumedAt: { epoch: resume.epoch, batch: progress.batch, step: resume.step } } : {}),
    };
    observer.onStart?.(startInfo);
    logger.info(`training ${startInfo.label}: ${config.epochs} epochs × ${stepsPerEpoch} steps`, { runDir: dir.path });

    const evalLimit = config.maxEvalBatches ?? config.maxBatches ?? Number.POSITIVE_INFINITY;
    const testOrder = identityOrder(dataset.test.size);
    const validationOrder = dataset.validation ? identityOrder(dataset.validation.size) : null;
    let last: EpochMetrics | null = history.length > 0 ? history[history.length - 1] : null;
    const interrupted = (path: string, epoch: number, batch: number, step: number) =>
      new RunInterrupted(dir.path, path, epoch, batch, step, signal?.reason);

    trainingStarted = true;
    try {
      for (let epoch = trainer.position().epoch + 1; epoch <= config.epochs; epoch++) {
        const epochStart = performance.now() - progress.seconds * 1000;
        session.takeMaskUpdates();
        const order = dataset.train.epochOrder(session.dataOrderRng(epoch), true);
        for (let b = progress.batch; b < stepsPerEpoch; b++) {
          const batch = dataset.train.batch(batchIndices(order, b, config.batchSize), session.augmentRng(epoch, b));
          let result;
          try {
            session.model.setRandomKey(session.dropoutKey(epoch, b));
            result = trainer.step(batch);
          } finally {
            batch.inputs.dispose();
            batch.labels.dispose();
          }
          for (const update of session.takeMaskUpdates()) progress.updates.add(update);
          progress.lossSum += result.loss;
          progress.steps++;
          progress.batch = b + 1;
          progress.learningRate = result.learningRate;
          observer.onStep?.({ step: result.step, epoch, loss: result.loss });
          if (signal && options.holdAtStep === result.step) await holdUntilAborted(signal, dir.file(HOLD_MARKER));
          // Let signal handlers run between steps (the training loop is synchronous otherwise).
          await yieldToEventLoop();
          if (signal?.aborted && b + 1 < stepsPerEpoch) {
            progress.seconds = (performance.now() - epochStart) / 1000;
            saved = await checkpoint('signal');
            logger.info(`interrupted: saved ${basename(saved.path)} at epoch ${epoch}, batch ${b + 1}/${stepsPerEpoch}, step ${result.step}`);
            throw interrupted(saved.path, epoch, b + 1, result.step);
          }
        }
        const trainLoss = progress.lossSum / progress.steps;
        const pruneRate = trainer.pruneRate;
        const validation =
          dataset.validation && validationOrder
            ? trainer.evaluate(
                splitBatches(dataset.validation, validationOrder, config.testBatchSize, evalLimit, session.validationRng(epoch)),
              )
            : null;
        const test = trainer.evaluate(splitBatches(dataset.test, testOrder, config.testBatchSize, evalLimit));
        trainer.endEpoch({
          trainLoss,
          ...(validation ? { validationLoss: validation.loss, validationAccuracy: validation.accuracy } : {}),
          testLoss: test.loss,
          testAccuracy: test.accuracy,
        });
        for (const update of session.takeMaskUpdates()) progress.updates.add(update);
        const layers = session.layerMetrics();
        const totalActive = layers.reduce((acc, l) => acc + l.active, 0);
        const metrics: EpochMetrics = {
          epoch,
          step: trainer.position().step,
          trainLoss,
          validationLoss: validation?.loss ?? null,
          validationAccuracy: validation?.accuracy ?? null,
          testLoss: test.loss,
          testAccuracy: test.accuracy,
          learningRate: progress.learningRate,
          pruneRate,
          totalActive,
          density: totalActive / maskedWeights,
          layers,
          maskUpdates: progress.updates.updates,
          redistribution: progress.updates.summary(),
          epochSeconds: (performance.now() - epochStart) / 1000,
        };
        last = metrics;
        history.push(metrics);
        progress = newEpochProgress(progress.learningRate);
        // Checkpoint first, then the metrics line: if the checkpoint cannot be written, metrics.jsonl still
        // matches the last good checkpoint.
        saved = await checkpoint('epoch-end');
        dir.appendMetrics(metrics);
        observer.onEpoch?.(metrics, startInfo);
        logger.info(
          `epoch ${epoch}/${config.epochs} loss ${metrics.trainLoss.toFixed(4)} test acc ${(100 * test.accuracy).toFixed(2)}% density ${metrics.density.toFixed(4)}`,
        );
        dir.flushLog();
        if (signal?.aborted && epoch < config.epochs) {
          logger.info(`interrupted: saved ${basename(saved.path)} at the end of epoch ${epoch}`);
          throw interrupted(saved.path, epoch + 1, 0, metrics.step);
        }
      }
    } finally {
      session.dispose();
    }

    if (!last) throw new SparseLearningError('E_ENGINE_STATE', `run ${dir.path} has no completed epoch`);
    const final = last;
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
      seconds: record().elapsedSeconds,
      startedAt: record().startedAt,
      finishedAt: new Date().toISOString(),
    };
    dir.writeResults(results);
    observer.onFinish?.(results);
    return results;
  } catch (error) {
    if (error instanceof RunInterrupted) throw error;
    logger.error(error instanceof Error ? error.message : String(error));
    if (isSparseLearningError(error)) throw withKept(error, dir, saved, config, trainingStarted);
    throw error;
  } finally {
    try {
      dir.closeLog();
    } catch {
      // A failed log write must not hide the run's own error.
    }
    await lock.release();
  }
}
