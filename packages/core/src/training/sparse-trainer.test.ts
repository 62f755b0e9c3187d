import '@tensorflow/tfjs-backend-cpu';
// Registers the gradient functions of tfjs-core ops (tfjs-core 4.22 keeps them out of its bundles).
import '@tensorflow/tfjs-layers';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GradientTransform } from '../contracts/gradient-transform.js';
import type { TrainableModel } from '../contracts/model.js';
import { UniformBernoulliDistribution } from '../density/uniform-bernoulli-distribution.js';
import { UniformExactDistribution } from '../density/uniform-exact-distribution.js';
import { isSparseLearningError } from '../errors.js';
import { type MaskUpdateEvent, type SparseEvent, createMemoryEventSink } from '../events.js';
import { MaskUpdater } from '../mask-update/mask-updater.js';
import { Masking } from '../masking/masking.js';
import { SgdOptimizer } from '../optim/sgd-optimizer.js';
import { createRng } from '../rng.js';
import { ConstantLrSchedule } from '../schedules/constant-lr-schedule.js';
import { CosineDecaySchedule } from '../schedules/cosine-decay-schedule.js';
import { StepLrSchedule } from '../schedules/step-lr-schedule.js';
import { EpochEndTrigger } from '../triggers/epoch-end-trigger.js';
import { EveryKStepsTrigger } from '../triggers/every-k-steps-trigger.js';
import { createMlpModel } from './create-mlp-model.js';
import { SparseTrainer, type SparseTrainerOptions } from './sparse-trainer.js';
import {
  TestMagnitudePrune,
  TestMomentumGrowth,
  TestMomentumRedistribution,
  disposeBatches,
  syntheticBatches,
} from './test-fixtures.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const FEATURES = 12;
const CLASSES = 3;
const cleanups: (() => void)[] = [];
afterEach(() => {
  cleanups.splice(0).forEach((fn) => fn());
});

interface Setup {
  trainer: SparseTrainer;
  model: TrainableModel;
  masking: Masking | null;
  optimizer: SgdOptimizer;
  events: SparseEvent[];
  dispose: () => void;
}

function setup(overrides: Partial<SparseTrainerOptions> & { sparse?: boolean; seed?: number; growth?: TestMomentumGrowth } = {}): Setup {
  const rng = createRng(overrides.seed ?? 1);
  const model = createMlpModel({ sizes: [FEATURES, 16, CLASSES], rng: rng.fork('init') });
  const sparse = overrides.sparse ?? true;
  const masking = sparse ? new Masking(model.variables) : null;
  masking?.initialize(new UniformExactDistribution(), 0.3, rng.fork('mask-init'));
  const optimizer = new SgdOptimizer({ learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  const sink = createMemoryEventSink();
  const updater = sparse
    ? new MaskUpdater(new TestMagnitudePrune(), new TestMomentumRedistribution(), overrides.growth ?? new TestMomentumGrowth())
    : null;
  const trainer = new SparseTrainer({
    model,
    optimizer,
    masking,
    maskUpdater: updater,
    pruneRateSchedule: new CosineDecaySchedule({ initial: 0.5, totalSteps: 40 }),
    learningRateSchedule: new ConstantLrSchedule({ rate: 0.1 }),
    trigger: new EpochEndTrigger(),
    events: sink,
    rng: rng.fork('train'),
    epochs: 4,
    stepsPerEpoch: 10,
    ...overrides,
  });
  const dispose = () => {
    trainer.dispose();
    optimizer.dispose();
    masking?.dispose();
    model.dispose();
  };
  cleanups.push(dispose);
  return { trainer, model, masking, optimizer, events: sink.events, dispose };
}

describe('SparseTrainer', () => {
  it('dense training lowers the loss and leaks no tensor from step to step', () => {
    const { trainer } = setup({ sparse: false });
    const batches = syntheticBatches(createRng('data'), 10, 32, FEATURES, CLASSES);
    cleanups.push(() => disposeBatches(batches));
    const before = trainer.evaluate(batches);
    trainer.step(batches[0]);
    const n = tf.memory().numTensors;
    for (let epoch = 0; epoch < 3; epoch++) {
      for (const batch of batches) {
        trainer.step(batch);
        expect(tf.memory().numTensors).toBe(n);
      }
      expect(trainer.endEpoch()).toBeNull();
    }
    const after = trainer.evaluate(batches);
    expect(after.count).toBe(320);
    expect(after.loss).toBeLessThan(before.loss * 0.6);
    expect(after.accuracy).toBeGreaterThan(0.8);
    expect(tf.memory().numTensors).toBe(n);
  });

  it('one step equals the manual composition: dense grads → SGD → W⊙M (docs/algorithm.md#one-training-step)', () => {
    const a = setup({ seed: 5 });
    const b = setup({ seed: 5 });
    const [batch] = syntheticBatches(createRng('data'), 1, 16, FEATURES, CLASSES);
    cleanups.push(() => disposeBatches([batch]));
    a.trainer.step(batch);
    // Manual: gradients of the loss w.r.t. every trainable variable, unmasked; SGD; apply mask.
    const vars = b.model.variables.filter((v) => v.trainable);
    const { grads, value } = tf.variableGrads(() => b.model.loss(batch.inputs, batch.labels), vars.map((v) => v.variable));
    const byName = Object.fromEntries(vars.map((v) => [v.name, grads[v.variable.name]]));
    // Gradients at masked positions are non-zero: they are never masked.
    const mask0 = b.masking!.readMasks()[0];
    const g0 = byName['fc1.weight'].dataSync();
    expect(mask0.some((m, i) => m === 0 && g0[i] !== 0)).toBe(true);
    b.optimizer.learningRate = 0.1;
    b.optimizer.applyGradients(byName, Object.fromEntries(vars.map((v) => [v.name, v.variable])));
    b.masking!.apply();
    tf.dispose([value, ...Object.values(grads)]);
    a.model.variables.forEach((v, i) => {
      expect(Array.from(v.variable.dataSync())).toEqual(Array.from(b.model.variables[i].variable.dataSync()));
    });
    // Momentum at masked positions is non-zero after the step.
    const m = a.optimizer.momentumOf('fc1.weight')!;
    const mv = m.dataSync();
    expect(mask0.some((x, i) => x === 0 && mv[i] !== 0)).toBe(true);
    m.dispose();
  });

  it('takes the learning rate of each batch from the schedule and the prune rate p(step)', () => {
    const { trainer, optimizer, events } = setup({
      learningRateSchedule: new StepLrSchedule({ initial: 0.1, stepSize: 3, gamma: 0.5 }),
    });
    const batches = syntheticBatches(createRng('data'), 5, 8, FEATURES, CLASSES);
    cleanups.push(() => disposeBatches(batches));
    const lrs = batches.map((b) => trainer.step(b).learningRate);
    expect(lrs).toEqual([0.1, 0.1, 0.05, 0.05, 0.05]);
    expect(optimizer.learningRate).toBe(0.05);
    const cosine = new CosineDecaySchedule({ initial: 0.5, totalSteps: 40 });
    expect(trainer.pruneRate).toBe(cosine.rateAt(5));
    const stepEvents = events.filter((e) => e.type === 'step');
    expect(stepEvents.map((e) => e.step)).toEqual([1, 2, 3, 4, 5]);
  });

  it('EpochEndTrigger: E − 1 updates, with the prune rate p(e·N), the total kept near the baseline', () => {
    const { trainer, masking, events } = setup();
    const batches = syntheticBatches(createRng('data'), 10, 16, FEATURES, CLASSES);
    cleanups.push(() => disposeBatches(batches));
    const updates: (MaskUpdateEvent | null)[] = [];
    for (let e = 0; e < 4; e++) {
      trainer.trainEpoch(batches);
      updates.push(trainer.endEpoch({ accuracy: 0.5 }));
    }
    expect(updates.map((u) => u !== null)).toEqual([true, true, true, false]);
    const cosine = new CosineDecaySchedule({ initial: 0.5, totalSteps: 40 });
    expect(updates.slice(0, 3).map((u) => u!.pruneRate)).toEqual([10, 20, 30].map((t) => cosine.rateAt(t)));
    expect(updates.slice(0, 3).map((u) => u!.step)).toEqual([10, 20, 30]);
    expect(masking!.totalActive).toBe(updates[2]!.totalNonzero);
    for (const u of updates.slice(0, 3)) {
      expect(Math.abs(u!.totalNonzero - masking!.baselineNonzero)).toBeLessThanOrEqual(0.05 * masking!.baselineNonzero);
    }
    const types = events.map((e) => e.type);
    expect(types.filter((t) => t === 'mask-update')).toHaveLength(3);
    expect(types.filter((t) => t === 'epoch')).toHaveLength(4);
    // Weights agree with the masks after the update.
    const masks = masking!.readMasks();
    masking!.layers.forEach((layer, i) => {
      const w = layer.variable.dataSync();
      masks[i].forEach((m, j) => m === 0 && expect(w[j] === 0).toBe(true));
    });
  });

  it('EveryKStepsTrigger fires inside the epoch; memory is stable across updates', () => {
    const { trainer } = setup({ trigger: new EveryKStepsTrigger({ every: 4 }) });
    const batches = syntheticBatches(createRng('data'), 12, 16, FEATURES, CLASSES);
    cleanups.push(() => disposeBatches(batches));
    trainer.step(batches[0]);
    const n = tf.memory().numTensors;
    const fired: number[] = [];
    for (const batch of batches.slice(1)) {
      const r = trainer.step(batch);
      if (r.maskUpdate) fired.push(r.step);
      expect(tf.memory().numTensors).toBe(n);
    }
    expect(fired).toEqual([4, 8, 12]);
    expect(trainer.endEpoch()).toBeNull();
  });

  it('supplies the last dense gradient only when a strategy requires it, without leaking', () => {
    const growth = new TestMomentumGrowth(true);
    const { trainer } = setup({ growth, trigger: new EveryKStepsTrigger({ every: 3 }) });
    const batches = syntheticBatches(createRng('data'), 7, 16, FEATURES, CLASSES);
    cleanups.push(() => disposeBatches(batches));
    trainer.step(batches[0]);
    const n = tf.memory().numTensors;
    for (const b of batches.slice(1)) {
      trainer.step(b);
      expect(tf.memory().numTensors).toBe(n);
    }
    expect(growth.seenGradients.length).toBe(4); // two updates × two layers
    expect(growth.seenGradients.every((g) => g instanceof Float32Array)).toBe(true);
    const plain = new TestMomentumGrowth(false);
    const other = setup({ growth: plain, trigger: new EveryKStepsTrigger({ every: 3 }) });
    batches.slice(0, 3).forEach((b) => other.trainer.step(b));
    expect(plain.seenGradients).toEqual([null, null]);
  });

  it('throws E_NON_FINITE on a NaN loss before touching the weights', () => {
    const { trainer, model } = setup();
    const inputs = tf.fill([4, FEATURES], Number.NaN);
    const labels = tf.tensor1d([0, 1, 2, 0], 'int32');
    cleanups.push(() => tf.dispose([inputs, labels]));
    const before = model.variables.map((v) => Array.from(v.variable.dataSync()));
    const n = tf.memory().numTensors;
    let error: unknown;
    try {
      trainer.step({ inputs, labels });
    } catch (e) {
      error = e;
    }
    expect(isSparseLearningError(error, 'E_NON_FINITE')).toBe(true);
    expect((error as Error).message).toMatch(/step 1 \(epoch 1\)/);
    expect(model.variables.map((v) => Array.from(v.variable.dataSync()))).toEqual(before);
    expect(trainer.completedSteps).toBe(0);
    expect(tf.memory().numTensors).toBe(n);
  });

  it('runs gradient transforms and checks their contract', () => {
    const zero: GradientTransform = {
      id: 'zero',
      transform: (grads) => Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, tf.zerosLike(g)])),
    };
    const { trainer, model } = setup({ sparse: false, gradientTransforms: [zero] });
    const [batch] = syntheticBatches(createRng('data'), 1, 8, FEATURES, CLASSES);
    cleanups.push(() => disposeBatches([batch]));
    const before = Array.from(model.variables[1].variable.dataSync());
    trainer.step(batch);
    // Only weight decay moved the bias: w·(1 − lr·wd·(1 + μ)) for the first Nesterov step.
    const after = model.variables[1].variable.dataSync();
    before.forEach((w, i) => expect(after[i]).toBeCloseTo(w * (1 - 0.1 * 5e-4 * 1.9), 6));
    const broken: GradientTransform = { id: 'broken', transform: () => ({}) };
    const other = setup({ sparse: false, gradientTransforms: [broken] });
    let error: unknown;
    try {
      other.trainer.step(batch);
    } catch (e) {
      error = e;
    }
    expect(isSparseLearningError(error, 'E_PLUGIN_CONTRACT')).toBe(true);
  });

  it('getState/setState resume the counters, controller and random streams', () => {
    const a = setup({ seed: 3 });
    const batches = syntheticBatches(createRng('data'), 10, 16, FEATURES, CLASSES);
    cleanups.push(() => disposeBatches(batches));
    a.trainer.trainEpoch(batches);
    a.trainer.endEpoch();
    const state = JSON.parse(JSON.stringify(a.trainer.getState()));
    expect(state.step).toBe(10);
    expect(state.epoch).toBe(1);
    expect(state.controller.adjustments).toHaveLength(1);
    const b = setup({ seed: 99 });
    b.trainer.setState(state);
    expect(b.trainer.getState()).toEqual(state);
    expect(b.trainer.position()).toEqual({ step: 10, epoch: 1, epochs: 4, stepsPerEpoch: 10 });
  });

  it('evaluate reports mean NLL, accuracy and count; a maskUpdater without masking is rejected', () => {
    const { trainer } = setup({ sparse: false });
    const batches = syntheticBatches(createRng('data'), 2, 5, FEATURES, CLASSES);
    cleanups.push(() => disposeBatches(batches));
    const r = trainer.evaluate(batches);
    expect(r.count).toBe(10);
    expect(r.loss).toBeGreaterThan(0);
    expect(r.accuracy).toBeGreaterThanOrEqual(0);
    expect(r.accuracy).toBeLessThanOrEqual(1);
    expect(trainer.evaluate([]).count).toBe(0);
    const model = createMlpModel({ sizes: [2, 2], rng: createRng(1) });
    cleanups.push(() => model.dispose());
    let error: unknown;
    try {
      new SparseTrainer({
        model,
        optimizer: new SgdOptimizer({ learningRate: 0.1 }),
        masking: null,
        maskUpdater: new MaskUpdater(new TestMagnitudePrune(), new TestMomentumRedistribution(), new TestMomentumGrowth()),
        pruneRateSchedule: new CosineDecaySchedule({ initial: 0.5, totalSteps: 10 }),
        learningRateSchedule: new ConstantLrSchedule({ rate: 0.1 }),
        trigger: new EpochEndTrigger(),
        rng: createRng(1),
        epochs: 1,
        stepsPerEpoch: 10,
      });
    } catch (e) {
      error = e;
    }
    expect(isSparseLearningError(error, 'E_CONFIG_INVALID')).toBe(true);
  });

  it('refuses to train before the masks exist', () => {
    const rng = createRng(1);
    const model = createMlpModel({ sizes: [FEATURES, 4, CLASSES], rng });
    const masking = new Masking(model.variables);
    cleanups.push(() => model.dispose());
    const trainer = new SparseTrainer({
      model,
      optimizer: new SgdOptimizer({ learningRate: 0.1 }),
      masking,
      maskUpdater: null,
      pruneRateSchedule: new CosineDecaySchedule({ initial: 0.5, totalSteps: 10 }),
      learningRateSchedule: new ConstantLrSchedule({ rate: 0.1 }),
      trigger: new EpochEndTrigger(),
      rng,
      epochs: 1,
      stepsPerEpoch: 10,
    });
    const [batch] = syntheticBatches(createRng('data'), 1, 4, FEATURES, CLASSES);
    cleanups.push(() => disposeBatches([batch]));
    expect(() => trainer.step(batch)).toThrow(/E_ENGINE_STATE/);
    masking.initialize(new UniformBernoulliDistribution(), 0.5, rng);
    cleanups.push(() => masking.dispose());
    expect(trainer.step(batch).maskUpdate).toBeNull();
  });
});
