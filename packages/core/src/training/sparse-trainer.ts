import * as tf from '@tensorflow/tfjs-core';
import type { GradientContext, GradientTransform } from '../contracts/gradient-transform.js';
import type { MaskUpdateTrigger, TrainingPosition } from '../contracts/mask-update-trigger.js';
import type { Batch, NamedVariable, TrainableModel } from '../contracts/model.js';
import type { SparseOptimizer } from '../contracts/optimizer.js';
import type { LearningRateSchedule, PruneRateSchedule } from '../contracts/schedules.js';
import { SparseLearningError, callPlugin, outOfRangeError, pluginContractError } from '../errors.js';
import { type EventSink, type MaskUpdateEvent, nullEventSink } from '../events.js';
import { type Logger, silentLogger } from '../logger.js';
import { INITIAL_CONTROLLER_STATE } from '../mask-update/controller.js';
import { lazyMomentumInput } from '../mask-update/lazy-fields.js';
import type { MaskUpdater } from '../mask-update/mask-updater.js';
import type { ControllerState, MaskUpdateLayerInput } from '../mask-update/types.js';
import type { Masking } from '../masking/masking.js';
import type { Rng } from '../rng.js';
import { nllLoss } from '../losses/nll-loss.js';
import { type SparseTrainerState, trainerBooksFrom, trainerStateOf } from './trainer-books.js';

/** Everything a {@link SparseTrainer} composes. */
export interface SparseTrainerOptions {
  readonly model: TrainableModel;
  readonly optimizer: SparseOptimizer;
  /** The masks of the prunable tensors, already initialised; `null` trains dense. */
  readonly masking: Masking | null;
  /** The prune–redistribute–regrow cycle; `null` keeps the masks fixed (static sparse or dense). */
  readonly maskUpdater: MaskUpdater | null;
  readonly pruneRateSchedule: PruneRateSchedule;
  readonly learningRateSchedule: LearningRateSchedule;
  readonly trigger: MaskUpdateTrigger;
  /** Rewrites of the dense gradients before the optimizer step (none for Sparse Momentum). */
  readonly gradientTransforms?: readonly GradientTransform[];
  readonly events?: EventSink;
  readonly logger?: Logger;
  /** Seeded stream; the trainer forks `mask-update` (random growth) and `noise` (gradient transforms) from it. */
  readonly rng: Rng;
  /** Total epochs `E` (the default trigger runs `E − 1` updates). */
  readonly epochs: number;
  /** Mini-batches per epoch (schedules run over `epochs × stepsPerEpoch`). */
  readonly stepsPerEpoch: number;
}

/** Outcome of one {@link SparseTrainer.step}. */
export interface StepResult {
  /** Completed steps after this one. */
  readonly step: number;
  readonly epoch: number;
  /** Training loss of the batch (before the update). */
  readonly loss: number;
  readonly learningRate: number;
  /** Prune rate after this step, `p(step)`. */
  readonly pruneRate: number;
  /** The mask update this step triggered, if any. */
  readonly maskUpdate: MaskUpdateEvent | null;
}

/** Outcome of {@link SparseTrainer.evaluate}. */
export interface EvaluationResult {
  /** Mean NLL per example (NaN when there were no examples). */
  readonly loss: number;
  /** Fraction of correct top-1 predictions (NaN when there were no examples). */
  readonly accuracy: number;
  readonly count: number;
}

/**
 * One training step and one mask update, composed exactly as docs/algorithm.md#one-training-step, docs/algorithm.md#the-mask-update describe (official
 * `mnist_cifar/main.py::train` + `Masking.step` + `truncate_weights`):
 *
 * `step(batch)`: learning rate of this batch from the LR schedule (StepLR stepped before the batch) → dense
 * gradients of `model.loss` w.r.t. every trainable variable (`tf.variableGrads`; never masked) → optional
 * gradient transforms → `optimizer.applyGradients` (all entries, masked ones included) → `masking.apply()`
 * (`W ← W ⊙ M`; both in one call when the optimizer has `applyGradientsMasked`) → step + 1 → prune rate `p(step)` → `trigger.afterStep` → mask update.
 * `endEpoch()`: epoch + 1 → `trigger.afterEpoch` (default: every epoch but the last) → mask update.
 *
 * A mask update reads weights, masks, the optimizer's momentum view and (only when a strategy requires it)
 * the last dense gradients into typed arrays, runs {@link MaskUpdater.update}, writes masks and weights back,
 * keeps the controller state and emits the update's event. Momentum buffers are never reset.
 *
 * A non-finite loss throws `E_NON_FINITE` before any update, so weights stay finite. Every tensor created
 * in a step is released in that step: `tf.memory().numTensors` is constant from step to step.
 * The trainer does not own the model, optimizer or masking: `dispose()` releases only its own tensors.
 */
export class SparseTrainer {
  readonly model: TrainableModel;
  readonly optimizer: SparseOptimizer;
  readonly masking: Masking | null;
  readonly maskUpdater: MaskUpdater | null;
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  private readonly pruneRateSchedule: PruneRateSchedule;
  private readonly learningRateSchedule: LearningRateSchedule;
  private readonly trigger: MaskUpdateTrigger;
  private readonly transforms: readonly GradientTransform[];
  private readonly events: EventSink;
  private readonly logger: Logger;
  private maskRng: Rng;
  private noiseRng: Rng;
  private readonly trainable: readonly NamedVariable[];
  private readonly variablesByName: Readonly<Record<string, tf.Variable>>;
  private readonly nameByTfName: ReadonlyMap<string, string>;
  private stepCount = 0;
  private epochCount = 0;
  private currentPruneRate: number;
  private controller: ControllerState = INITIAL_CONTROLLER_STATE;
  private lastGradients: Record<string, tf.Tensor> | null = null;

  constructor(options: SparseTrainerOptions) {
    if (!Number.isInteger(options.epochs) || options.epochs < 1) {
      throw outOfRangeError('epochs', options.epochs, 'an integer >= 1');
    }
    if (!Number.isInteger(options.stepsPerEpoch) || options.stepsPerEpoch < 1) {
      throw outOfRangeError('stepsPerEpoch', options.stepsPerEpoch, 'an integer >= 1');
    }
    if (options.maskUpdater && !options.masking) {
      throw new SparseLearningError('E_CONFIG_INVALID', 'a maskUpdater needs a masking (masking is null: dense training)');
    }
    this.model = options.model;
    this.optimizer = options.optimizer;
    this.masking = options.masking ?? null;
    this.maskUpdater = options.maskUpdater ?? null;
    this.epochs = options.epochs;
    this.stepsPerEpoch = options.stepsPerEpoch;
    this.pruneRateSchedule = options.pruneRateSchedule;
    this.learningRateSchedule = options.learningRateSchedule;
    this.trigger = options.trigger;
    this.transforms = options.gradientTransforms ?? [];
    this.events = options.events ?? nullEventSink;
    this.logger = options.logger ?? silentLogger;
    this.maskRng = options.rng.fork('mask-update');
    this.noiseRng = options.rng.fork('noise');
    this.trainable = options.model.variables.filter((v) => v.trainable);
    if (this.trainable.length === 0) {
      throw new SparseLearningError('E_CONFIG_INVALID', `model '${options.model.id}' has no trainable variable`);
    }
    this.variablesByName = Object.fromEntries(this.trainable.map((v) => [v.name, v.variable]));
    this.nameByTfName = new Map(this.trainable.map((v) => [v.variable.name, v.name]));
    this.currentPruneRate = this.pruneRateSchedule.rateAt(0);
  }

  /** Completed optimizer steps. */
  get completedSteps(): number {
    return this.stepCount;
  }

  /** Completed epochs. */
  get completedEpochs(): number {
    return this.epochCount;
  }

  /** The prune rate a mask update would use now, `p(step)`. */
  get pruneRate(): number {
    return this.currentPruneRate;
  }

  /** The growth-deficit controller state (docs/algorithm.md#the-mask-update). */
  get controllerState(): ControllerState {
    return this.controller;
  }

  /** Where training is, as triggers see it. */
  position(): TrainingPosition {
    return { step: this.stepCount, epoch: this.epochCount, epochs: this.epochs, stepsPerEpoch: this.stepsPerEpoch };
  }

  /** One optimizer step on `batch` (docs/algorithm.md#one-training-step), then the mask update if the trigger fires after it. */
  step(batch: Batch): StepResult {
    if (this.masking && !this.masking.initialized) {
      throw new SparseLearningError('E_ENGINE_STATE', 'masking has no masks: call masking.initialize() before training');
    }
    const learningRate = this.learningRateSchedule.rateAt(this.stepCount);
    this.optimizer.learningRate = learningRate;
    const keepGradients = this.maskUpdater?.requires.has('gradient') ?? false;
    let loss = Number.NaN;
    const kept = tf.tidy(() => {
      const varList = this.trainable.map((v) => v.variable);
      const { value, grads } = this.gradients(batch, varList);
      loss = value.dataSync()[0];
      if (!Number.isFinite(loss)) {
        throw new SparseLearningError(
          'E_NON_FINITE',
          `training loss is ${loss} at step ${this.stepCount + 1} (epoch ${this.epochCount + 1}); the update was not applied`,
          { step: this.stepCount + 1, epoch: this.epochCount + 1, loss },
        );
      }
      let gradients: Record<string, tf.Tensor> = {};
      for (const [tfName, grad] of Object.entries(grads)) {
        const name = this.nameByTfName.get(tfName);
        if (name !== undefined) gradients[name] = grad;
      }
      for (const transform of this.transforms) gradients = this.runTransform(transform, gradients, learningRate);
      if (this.masking && this.optimizer.applyGradientsMasked) {
        // The update and W ← W ⊙ M in one pass per variable (same results as the two calls below).
        this.optimizer.applyGradientsMasked(gradients, this.variablesByName, this.masking.maskTensors());
      } else {
        this.optimizer.applyGradients(gradients, this.variablesByName);
        this.masking?.apply();
      }
      const out: Record<string, tf.Tensor> = {};
      if (keepGradients) for (const name of this.masking?.names ?? []) if (gradients[name]) out[name] = tf.keep(tf.clone(gradients[name]));
      return out;
    });
    if (keepGradients) {
      if (this.lastGradients) tf.dispose(Object.values(this.lastGradients));
      this.lastGradients = kept;
    }
    this.stepCount++;
    this.currentPruneRate = this.pruneRateSchedule.rateAt(this.stepCount);
    this.events.emit({
      type: 'step',
      step: this.stepCount,
      epoch: this.epochCount,
      loss,
      learningRate,
      pruneRate: this.currentPruneRate,
    });
    const maskUpdate = this.canUpdate() && this.trigger.afterStep(this.position()) ? this.updateMasks() : null;
    return {
      step: this.stepCount,
      epoch: this.epochCount,
      loss,
      learningRate,
      pruneRate: this.currentPruneRate,
      maskUpdate,
    };
  }

  /** Runs {@link SparseTrainer.step} on every batch; returns the mean training loss and the step results. */
  trainEpoch(batches: Iterable<Batch>): { readonly meanLoss: number; readonly steps: StepResult[] } {
    const steps: StepResult[] = [];
    for (const batch of batches) steps.push(this.step(batch));
    const meanLoss = steps.length === 0 ? Number.NaN : steps.reduce((acc, s) => acc + s.loss, 0) / steps.length;
    return { meanLoss, steps };
  }

  /**
   * Closes an epoch (docs/algorithm.md#when-masks-change): epoch + 1, emits an `epoch` event with `metrics` (e.g. the validation result
   * computed between training and the update, as the official loop does), then runs the mask update if the
   * trigger fires (default: after every epoch except the last).
   */
  endEpoch(metrics: Readonly<Record<string, number>> = {}): MaskUpdateEvent | null {
    this.epochCount++;
    this.events.emit({ type: 'epoch', epoch: this.epochCount, step: this.stepCount, metrics: { ...metrics } });
    return this.canUpdate() && this.trigger.afterEpoch(this.position()) ? this.updateMasks() : null;
  }

  /**
   * One prune–redistribute–regrow cycle now (docs/algorithm.md#the-mask-update), at the current prune rate. Called by the trigger
   * logic; public so a runner can force one.
   */
  updateMasks(): MaskUpdateEvent {
    const masking = this.masking;
    const updater = this.maskUpdater;
    if (!masking || !updater) {
      throw new SparseLearningError('E_ENGINE_STATE', 'mask update requested without masking or mask updater');
    }
    const needsGradient = updater.requires.has('gradient');
    const masks = masking.readMasks();
    const optimizer = this.optimizer;
    const layers: MaskUpdateLayerInput[] = masking.layers.map((layer, i) => {
      const gradientTensor = needsGradient ? this.lastGradients?.[layer.name] : undefined;
      const fields = {
        name: layer.name,
        shape: layer.shape,
        // Copies: on the cpu backend dataSync() hands out the tensor's own storage.
        weight: Float32Array.from(layer.variable.dataSync()),
        mask: masks[i],
        gradient: gradientTensor ? Float32Array.from(gradientTensor.dataSync()) : null,
      };
      // Momentum is read out of the optimizer when a strategy reads it, during this update (issue 14: DeepR's never do).
      return lazyMomentumInput(fields, () => {
        const momentumTensor = optimizer.momentumOf(layer.name);
        const momentum = momentumTensor ? Float32Array.from(momentumTensor.dataSync()) : null;
        momentumTensor?.dispose();
        return momentum;
      });
    });
    const result = updater.update({
      layers,
      pruneRate: this.currentPruneRate,
      baselineNonzero: masking.baselineNonzero,
      controller: this.controller,
      step: this.stepCount,
      epoch: this.epochCount,
      rng: this.maskRng,
      logger: this.logger,
    });
    const byName = new Map(result.layers.map((r) => [r.name, r]));
    const outcome = masking.layers.map((layer) => {
      const r = byName.get(layer.name);
      if (!r) throw new SparseLearningError('E_ENGINE_STATE', `mask update returned no result for layer '${layer.name}'`);
      return r;
    });
    masking.setMasks(outcome.map((r) => r.mask));
    tf.tidy(() => {
      masking.layers.forEach((layer, i) => layer.variable.assign(tf.tensor(outcome[i].weight, [...layer.shape], 'float32')));
    });
    this.controller = result.controller;
    this.events.emit(result.event);
    return result.event;
  }

  /** Mean NLL and top-1 accuracy over `batches` in inference mode (`model.predict`). */
  evaluate(batches: Iterable<Batch>): EvaluationResult {
    let lossSum = 0;
    let correct = 0;
    let count = 0;
    for (const batch of batches) {
      const [lossTotal, hits] = tf.tidy(() => {
        const logProbabilities = this.model.predict(batch.inputs);
        const n = logProbabilities.shape[0];
        const meanLoss = nllLoss(logProbabilities, batch.labels);
        const predicted = tf.argMax(logProbabilities, -1);
        const right = tf.sum(tf.cast(tf.equal(predicted, tf.cast(batch.labels, 'int32')), 'float32'));
        return [tf.mul(meanLoss, n), right];
      });
      lossSum += lossTotal.dataSync()[0];
      correct += hits.dataSync()[0];
      count += batch.labels.shape[0];
      tf.dispose([lossTotal, hits]);
    }
    return count === 0
      ? { loss: Number.NaN, accuracy: Number.NaN, count }
      : { loss: lossSum / count, accuracy: correct / count, count };
  }

  /** Counters, controller and random streams (for checkpoints). */
  getState(): SparseTrainerState {
    const { stepCount: step, epochCount: epoch, currentPruneRate: pruneRate, controller, maskRng, noiseRng } = this;
    return trainerStateOf({ step, epoch, pruneRate, controller, maskRng, noiseRng });
  }

  /** Restores {@link SparseTrainer.getState} (`E_CHECKPOINT_INVALID` for a corrupt step or epoch). */
  setState(state: SparseTrainerState): void {
    const books = trainerBooksFrom(state);
    this.stepCount = books.step;
    this.epochCount = books.epoch;
    this.currentPruneRate = books.pruneRate;
    this.controller = books.controller;
    this.maskRng = books.maskRng;
    this.noiseRng = books.noiseRng;
  }

  /** Releases the trainer's own tensors (the kept gradients). Model, optimizer and masking belong to the caller. */
  dispose(): void {
    if (this.lastGradients) tf.dispose(Object.values(this.lastGradients));
    this.lastGradients = null;
  }

  /**
   * Dense gradients of the training loss. tfjs-core 4.22 ships its gradient functions outside its bundles:
   * they are registered by importing `@tensorflow/tfjs-layers` (which `@sparse-learning/models` does) or
   * `@tensorflow/tfjs`. Without them tfjs fails with a cryptic message; we say what to do.
   */
  private gradients(batch: Batch, varList: tf.Variable[]): { value: tf.Scalar; grads: tf.NamedTensorMap } {
    try {
      return tf.variableGrads(() => this.model.loss(batch.inputs, batch.labels), varList);
    } catch (error) {
      if (error instanceof Error && /gradient function not found/i.test(error.message)) {
        throw new SparseLearningError(
          'E_BACKEND_UNAVAILABLE',
          `${error.message} TensorFlow.js gradients are not registered: import '@tensorflow/tfjs-layers' (or '@tensorflow/tfjs') once before training`,
          {},
          { cause: error },
        );
      }
      throw error;
    }
  }

  private canUpdate(): boolean {
    return this.masking !== null && this.maskUpdater !== null;
  }

  private runTransform(
    transform: GradientTransform,
    gradients: Record<string, tf.Tensor>,
    learningRate: number,
  ): Record<string, tf.Tensor> {
    const ctx: GradientContext = {
      step: this.stepCount,
      epoch: this.epochCount,
      variables: this.variablesByName,
      masks: this.masking?.maskTensors() ?? {},
      maskValues: this.masking?.maskArrays() ?? {},
      learningRate,
      rng: this.noiseRng,
    };
    const site = { plugin: transform.id, hook: 'transform', step: this.stepCount };
    const out = callPlugin(site, () => transform.transform(gradients, ctx));
    for (const [name, grad] of Object.entries(gradients)) {
      const next = out?.[name];
      if (!next) throw pluginContractError({ ...site, layer: name }, 'returned no gradient for this variable');
      if (!tf.util.arraysEqual(next.shape, grad.shape)) {
        throw pluginContractError(
          { ...site, layer: name },
          `returned shape [${next.shape.join(', ')}], expected [${grad.shape.join(', ')}]`,
        );
      }
    }
    return out;
  }
}
