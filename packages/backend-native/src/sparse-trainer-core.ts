/**
 * What every truly sparse trainer shares (issue 9): the books of core's `SparseTrainer` — step and epoch
 * counters, the learning-rate and prune-rate schedules, the mask-update trigger (docs/algorithm.md#when-masks-change:
 * by default E − 1 epoch-end updates), the controller state, the `mask-update` and `noise` random streams —
 * and the dense-gradient window that feeds momentum/gradient growth (docs/algorithm.md#the-mask-update) during
 * the last K steps before each update. {@link SparseMlpTrainer} and {@link SparseCnnTrainer} extend it and add
 * their native step, their compact layers and their dense views; the mask update itself always runs through
 * the unchanged `MaskUpdater` (the plugins see the same `LayerView`s as on the masked path).
 */
import {
  type ControllerState,
  type EventSink,
  type LearningRateSchedule,
  type Logger,
  type MaskUpdateEvent,
  type MaskUpdateLayerInput,
  type MaskUpdateResult,
  type MaskUpdateTrigger,
  type MaskUpdater,
  type PruneRateSchedule,
  type Rng,
  type SparseTrainerState,
  type TrainingPosition,
  INITIAL_CONTROLLER_STATE,
  SparseLearningError,
  nullEventSink,
  outOfRangeError,
  silentLogger,
  trainerBooksFrom,
  trainerStateOf,
} from '@sparse-learning/core';

/** Default dense-gradient window (steps): μ = 0.9 keeps 0.1 % of older gradients after 64 steps. */
export const DEFAULT_DENSE_GRAD_WINDOW = 64;

/** SGD hyper-parameters (PyTorch semantics, as core's `SgdOptimizer`). */
export interface SparseSgdOptions {
  readonly momentum: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
}

/** Outcome of one sparse trainer step (the fields of core's `StepResult`). */
export interface SparseStepResult {
  readonly step: number;
  readonly epoch: number;
  readonly loss: number;
  readonly learningRate: number;
  readonly pruneRate: number;
  readonly maskUpdate: MaskUpdateEvent | null;
}

/** A batch as plain arrays: `x` row-major (`[batch, inFeatures]`, or NHWC `[batch, h, w, c]`), integer labels. */
export interface ArrayBatch {
  readonly x: Float32Array;
  readonly labels: Int32Array;
}

/** The schedule, trigger and streams a sparse trainer runs on (the same objects core's `SparseTrainer` gets). */
export interface SparseTrainerCoreOptions {
  readonly maskUpdater: MaskUpdater | null;
  /** The density denominator's baseline non-zero count (core `Masking.baselineNonzero`). */
  readonly baselineNonzero: number;
  readonly pruneRateSchedule: PruneRateSchedule;
  readonly learningRateSchedule: LearningRateSchedule;
  readonly trigger: MaskUpdateTrigger;
  readonly rng: Rng;
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  /** Steps before each mask update with dense gradients (default 64; `Infinity` = every step). */
  readonly denseGradWindow?: number;
  readonly events?: EventSink;
  readonly logger?: Logger;
}

/** See the module comment. */
export abstract class SparseTrainerCore {
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  readonly denseGradWindow: number;
  protected readonly maskUpdater: MaskUpdater | null;
  protected readonly baselineNonzero: number;
  protected readonly pruneRateSchedule: PruneRateSchedule;
  protected readonly learningRateSchedule: LearningRateSchedule;
  protected readonly trigger: MaskUpdateTrigger;
  protected readonly events: EventSink;
  protected readonly logger: Logger;
  /** Whether dense momentum/gradients are kept during the window (a strategy reads them, or the window is the run). */
  protected readonly needsDense: boolean;
  /** The window covers every step of the run: the dense momentum then equals the masked path's. */
  protected readonly fullWindow: boolean;
  protected maskRng: Rng;
  protected noiseRng: Rng;
  protected stepCount = 0;
  protected epochCount = 0;
  protected currentPruneRate: number;
  protected controller: ControllerState = INITIAL_CONTROLLER_STATE;

  protected constructor(options: SparseTrainerCoreOptions) {
    if (!Number.isInteger(options.epochs) || options.epochs < 1) throw outOfRangeError('epochs', options.epochs, 'an integer >= 1');
    if (!Number.isInteger(options.stepsPerEpoch) || options.stepsPerEpoch < 1) {
      throw outOfRangeError('stepsPerEpoch', options.stepsPerEpoch, 'an integer >= 1');
    }
    const window = options.denseGradWindow ?? DEFAULT_DENSE_GRAD_WINDOW;
    if (!(window === Number.POSITIVE_INFINITY || (Number.isInteger(window) && window >= 0))) {
      throw outOfRangeError('denseGradWindow', window, 'an integer >= 0 or Infinity');
    }
    this.maskUpdater = options.maskUpdater;
    this.baselineNonzero = options.baselineNonzero;
    this.pruneRateSchedule = options.pruneRateSchedule;
    this.learningRateSchedule = options.learningRateSchedule;
    this.trigger = options.trigger;
    this.epochs = options.epochs;
    this.stepsPerEpoch = options.stepsPerEpoch;
    this.denseGradWindow = window;
    this.events = options.events ?? nullEventSink;
    this.logger = options.logger ?? silentLogger;
    this.maskRng = options.rng.fork('mask-update');
    this.noiseRng = options.rng.fork('noise');
    this.currentPruneRate = this.pruneRateSchedule.rateAt(0);
    const requires = this.maskUpdater?.requires ?? new Set();
    // A window covering the whole run keeps the dense momentum even for strategies that do not read it: on
    // the masked path grown weights inherit the momentum their position accumulated while inactive.
    this.fullWindow = window >= options.epochs * options.stepsPerEpoch;
    this.needsDense = (this.maskUpdater !== null && this.fullWindow) || requires.has('momentum') || requires.has('gradient');
  }

  /** Completed steps / epochs, as core's `SparseTrainer`. */
  position(): TrainingPosition {
    return { step: this.stepCount, epoch: this.epochCount, epochs: this.epochs, stepsPerEpoch: this.stepsPerEpoch };
  }

  get pruneRate(): number {
    return this.currentPruneRate;
  }

  get completedSteps(): number {
    return this.stepCount;
  }

  /** One prune–redistribute–regrow cycle now (each trainer materialises its own dense views). */
  abstract updateMasks(): MaskUpdateEvent;

  /** Closes an epoch (as core's `SparseTrainer.endEpoch`): epoch + 1, `epoch` event, mask update if due. */
  endEpoch(metrics: Readonly<Record<string, number>> = {}): MaskUpdateEvent | null {
    this.epochCount++;
    this.events.emit({ type: 'epoch', epoch: this.epochCount, step: this.stepCount, metrics: { ...metrics } });
    return this.maskUpdater && this.trigger.afterEpoch(this.position()) ? this.updateMasks() : null;
  }

  /** Is step `n` (1-based) one of the last `denseGradWindow` steps before a mask update? */
  inWindow(n: number): boolean {
    if (this.fullWindow) return true;
    const spe = this.stepsPerEpoch;
    for (let s = n; s < n + this.denseGradWindow; s++) {
      if (s > this.epochs * spe) return false;
      const epoch = Math.floor((s - 1) / spe);
      if (this.trigger.afterStep({ step: s, epoch, epochs: this.epochs, stepsPerEpoch: spe })) return true;
      if (s % spe === 0 && this.trigger.afterEpoch({ step: s, epoch: s / spe, epochs: this.epochs, stepsPerEpoch: spe })) return true;
    }
    return false;
  }

  /** Counters, controller and random streams in core's `SparseTrainerState` format (checkpoints). */
  getState(): SparseTrainerState {
    const { stepCount: step, epochCount: epoch, currentPruneRate: pruneRate, controller, maskRng, noiseRng } = this;
    return trainerStateOf({ step, epoch, pruneRate, controller, maskRng, noiseRng });
  }

  /** Restores {@link SparseTrainerCore.getState} (e.g. from a masked run's checkpoint). */
  setState(state: SparseTrainerState): void {
    const books = trainerBooksFrom(state);
    this.stepCount = books.step;
    this.epochCount = books.epoch;
    this.currentPruneRate = books.pruneRate;
    this.controller = books.controller;
    this.maskRng = books.maskRng;
    this.noiseRng = books.noiseRng;
  }

  /** The learning rate of the next step (the schedule as core's `SparseTrainer` steps it). */
  protected nextLearningRate(): number {
    return this.learningRateSchedule.rateAt(this.stepCount);
  }

  /** `E_NON_FINITE` for a loss that is not finite (the masked path throws the same code). */
  protected checkLoss(loss: number): void {
    if (!Number.isFinite(loss)) {
      throw new SparseLearningError(
        'E_NON_FINITE',
        `training loss is ${loss} at step ${this.stepCount + 1} (epoch ${this.epochCount + 1}) in sparse execution`,
        { step: this.stepCount + 1, epoch: this.epochCount + 1, loss },
      );
    }
  }

  /** The books after a native step: step + 1, prune rate `p(step)`, `step` event, the mask update when due. */
  protected finishStep(loss: number, learningRate: number): SparseStepResult {
    this.stepCount++;
    this.currentPruneRate = this.pruneRateSchedule.rateAt(this.stepCount);
    this.events.emit({ type: 'step', step: this.stepCount, epoch: this.epochCount, loss, learningRate, pruneRate: this.currentPruneRate });
    const maskUpdate = this.maskUpdater && this.trigger.afterStep(this.position()) ? this.updateMasks() : null;
    return { step: this.stepCount, epoch: this.epochCount, loss, learningRate, pruneRate: this.currentPruneRate, maskUpdate };
  }

  /**
   * Mean NLL and top-1 accuracy over `batches`, forward only, each batch cut into chunks of at most
   * `maxBatch` examples (the size the trainer's buffers were made for); `forward` returns a chunk's loss sum
   * and number of correct predictions.
   */
  protected evaluateInChunks(
    batches: Iterable<ArrayBatch>,
    maxBatch: number,
    forward: (x: Float32Array, labels: Int32Array, m: number) => { readonly lossSum: number; readonly correct: number },
  ): { loss: number; accuracy: number; count: number } {
    let lossSum = 0;
    let correct = 0;
    let count = 0;
    for (const batch of batches) {
      const n = batch.labels.length;
      const perExample = batch.x.length / Math.max(n, 1);
      for (let at = 0; at < n; at += maxBatch) {
        const m = Math.min(maxBatch, n - at);
        const x = at === 0 && m === n ? batch.x : batch.x.subarray(at * perExample, (at + m) * perExample);
        const r = forward(x, batch.labels.subarray(at, at + m), m);
        lossSum += r.lossSum;
        correct += r.correct;
        count += m;
      }
    }
    return count === 0 ? { loss: Number.NaN, accuracy: Number.NaN, count } : { loss: lossSum / count, accuracy: correct / count, count };
  }

  /** Runs the mask updater on dense views of the masked layers (docs/algorithm.md#the-mask-update) and keeps its controller. */
  protected runMaskUpdater(layers: MaskUpdateLayerInput[]): MaskUpdateResult {
    const updater = this.maskUpdater;
    if (!updater) throw new SparseLearningError('E_ENGINE_STATE', 'mask update requested without a mask updater');
    const result = updater.update({
      layers,
      pruneRate: this.currentPruneRate,
      baselineNonzero: this.baselineNonzero,
      controller: this.controller,
      step: this.stepCount,
      epoch: this.epochCount,
      rng: this.maskRng,
      logger: this.logger,
    });
    this.controller = result.controller;
    return result;
  }
}
