/**
 * Invariants of a real Sparse Momentum training run (issue 2 §5; docs/algorithm.md#one-training-step, docs/algorithm.md#the-mask-update): a small MLP on
 * synthetic data, 200 steps, magnitude prune + momentum redistribution + momentum growth from the plugin
 * packages, a mask update every 20 steps.
 */
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
// Registers the gradient functions of tfjs-core ops (tfjs-core 4.22 keeps them out of its bundles).
import '@tensorflow/tfjs-layers';
import {
  type Batch,
  type GradientTransform,
  ConstantLrSchedule,
  CosineDecaySchedule,
  EveryKStepsTrigger,
  MaskUpdater,
  type MaskUpdateEvent,
  Masking,
  SgdOptimizer,
  SparseTrainer,
  UniformExactDistribution,
  createMemoryEventSink,
  createMlpModel,
  createRng,
} from '@sparse-learning/core';
import { MomentumGrowth } from '@sparse-learning/growth';
import { MagnitudePrune } from '@sparse-learning/prune';
import { MomentumRedistribution } from '@sparse-learning/redistribution';
import { beforeAll, describe, expect, it } from 'vitest';

const SIZES = [32, 128, 64, 4];
const DENSITY = 0.1;
const STEPS = 200;
const UPDATE_EVERY = 20;
const BATCHES = 10;
const BATCH_SIZE = 32;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Linearly separable synthetic classification: labels = argmax(x · T) for a random teacher T. */
function syntheticBatches(seed: string): Batch[] {
  const rng = createRng(seed);
  const [features, classes] = [SIZES[0], SIZES[SIZES.length - 1]];
  const teacher = Array.from({ length: features * classes }, () => rng.normal());
  return Array.from({ length: BATCHES }, () => {
    const x = new Float32Array(BATCH_SIZE * features);
    const y = new Int32Array(BATCH_SIZE);
    for (let n = 0; n < BATCH_SIZE; n++) {
      for (let f = 0; f < features; f++) x[n * features + f] = rng.normal();
      let best = -Infinity;
      for (let c = 0; c < classes; c++) {
        let score = 0;
        for (let f = 0; f < features; f++) score += x[n * features + f] * teacher[f * classes + c];
        if (score > best) [best, y[n]] = [score, c];
      }
    }
    return { inputs: tf.tensor2d(x, [BATCH_SIZE, features]), labels: tf.tensor1d(y, 'int32') };
  });
}

interface RunRecord {
  readonly updates: MaskUpdateEvent[];
  readonly baseline: number;
  /** After every update: total active weights. */
  readonly totals: number[];
  /** Masked weights that were not exactly 0 after some step. */
  readonly nonZeroMasked: number;
  /** After every update: zero positions and how many of them have momentum exactly 0. */
  readonly zeroPositions: number[];
  readonly zeroMomentumAtZeroPositions: number[];
  /** After every update: zero positions whose dense gradient was non-zero at some step but whose momentum is 0. */
  readonly zeroMomentumDespiteGradient: number[];
  /** numTensors after every step. */
  readonly tensorCounts: number[];
  readonly finalWeights: Float32Array[];
  readonly accuracyBefore: number;
  readonly accuracyAfter: number;
}

function run(seed: number, data: Batch[]): RunRecord {
  const rng = createRng(seed);
  const model = createMlpModel({ sizes: SIZES, rng: rng.fork('init'), activation: 'tanh' });
  const masking = new Masking(model.variables);
  masking.initialize(new UniformExactDistribution(), DENSITY, rng.fork('mask-init'));
  const optimizer = new SgdOptimizer({ learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  const sink = createMemoryEventSink();
  // Identity transform that records, per prunable tensor, the positions whose dense gradient was ever non-zero.
  // A zero position whose true gradient has always been 0 (e.g. a hidden unit with no active outgoing weight:
  // with 4 outputs at 10 % density most last-layer rows are empty) legitimately has zero momentum.
  const everNonZero = new Map(masking.layers.map((l) => [l.name, new Uint8Array(l.size)]));
  const recorder: GradientTransform = {
    id: 'record-nonzero-gradients',
    transform(gradients) {
      for (const [name, seen] of everNonZero) {
        const g = gradients[name].dataSync();
        for (let j = 0; j < g.length; j++) if (g[j] !== 0) seen[j] = 1;
      }
      return { ...gradients };
    },
  };
  const trainer = new SparseTrainer({
    model,
    optimizer,
    masking,
    maskUpdater: new MaskUpdater(new MagnitudePrune(), new MomentumRedistribution(), new MomentumGrowth()),
    pruneRateSchedule: new CosineDecaySchedule({ initial: 0.5, totalSteps: STEPS }),
    learningRateSchedule: new ConstantLrSchedule({ rate: 0.05 }),
    trigger: new EveryKStepsTrigger({ every: UPDATE_EVERY }),
    gradientTransforms: [recorder],
    events: sink,
    rng: rng.fork('train'),
    epochs: STEPS / BATCHES,
    stepsPerEpoch: BATCHES,
  });
  const accuracyBefore = trainer.evaluate(data).accuracy;
  const totals: number[] = [];
  const zeroPositions: number[] = [];
  const zeroMomentumAtZeroPositions: number[] = [];
  const zeroMomentumDespiteGradient: number[] = [];
  const tensorCounts: number[] = [];
  let nonZeroMasked = 0;
  for (let s = 0; s < STEPS; s++) {
    const result = trainer.step(data[s % BATCHES]);
    tensorCounts.push(tf.memory().numTensors);
    const masks = masking.readMasks();
    masking.layers.forEach((layer, i) => {
      const w = layer.variable.dataSync();
      for (let j = 0; j < w.length; j++) if (masks[i][j] === 0 && w[j] !== 0) nonZeroMasked++;
    });
    if (result.maskUpdate) {
      totals.push(masking.totalActive);
      let zeros = 0;
      let zeroMomentum = 0;
      let despite = 0;
      const masksAfter = masking.readMasks();
      masking.layers.forEach((layer, i) => {
        const m = optimizer.momentumOf(layer.name)!;
        const values = m.dataSync();
        const seen = everNonZero.get(layer.name)!;
        for (let j = 0; j < values.length; j++) {
          if (masksAfter[i][j] === 0) {
            zeros++;
            if (values[j] === 0) {
              zeroMomentum++;
              if (seen[j]) despite++;
            }
          }
        }
        m.dispose();
      });
      zeroPositions.push(zeros);
      zeroMomentumAtZeroPositions.push(zeroMomentum);
      zeroMomentumDespiteGradient.push(despite);
    }
    if ((s + 1) % BATCHES === 0) trainer.endEpoch();
  }
  const record: RunRecord = {
    updates: sink.events.filter((e): e is MaskUpdateEvent => e.type === 'mask-update'),
    baseline: masking.baselineNonzero,
    totals,
    nonZeroMasked,
    zeroPositions,
    zeroMomentumAtZeroPositions,
    zeroMomentumDespiteGradient,
    tensorCounts,
    finalWeights: model.variables.map((v) => Float32Array.from(v.variable.dataSync())),
    accuracyBefore,
    accuracyAfter: trainer.evaluate(data).accuracy,
  };
  trainer.dispose();
  optimizer.dispose();
  masking.dispose();
  model.dispose();
  return record;
}

describe('Sparse Momentum training invariants (200 steps, tanh MLP 32-128-64-4, density 0.1, update every 20 steps)', () => {
  let data: Batch[];
  let first: RunRecord;
  let second: RunRecord;
  let before: number;

  beforeAll(() => {
    data = syntheticBatches('invariants-data');
    before = tf.memory().numTensors;
    first = run(7, data);
    second = run(7, data);
  });

  it('runs 10 mask updates that really move weights and still learns', () => {
    expect(first.updates.map((u) => u.step)).toEqual([20, 40, 60, 80, 100, 120, 140, 160, 180, 200]);
    expect(first.updates.every((u) => u.totalRemoved > 0 && u.totalRegrown > 0)).toBe(true);
    expect(first.accuracyAfter).toBeGreaterThan(first.accuracyBefore + 0.2);
  });

  it('keeps the total active weights within 1 % of the target after every update', () => {
    expect(first.baseline).toBeCloseTo((32 * 128 + 128 * 64 + 64 * 4) * DENSITY, 9);
    for (const total of first.totals) expect(Math.abs(total - first.baseline) / first.baseline).toBeLessThanOrEqual(0.01);
    first.updates.forEach((u, k) => expect(u.totalNonzero).toBe(first.totals[k]));
  });

  it('keeps masked weights exactly zero after every step', () => {
    expect(first.nonZeroMasked).toBe(0);
  });

  it('has non-zero momentum at zero positions (gradients are never masked)', () => {
    first.zeroPositions.forEach((zeros, k) => {
      // Every zero position that ever had a non-zero dense gradient has non-zero momentum...
      expect(first.zeroMomentumDespiteGradient[k], `update ${k + 1}`).toBe(0);
      // Before the first update about half of them have an identically-zero gradient (most rows of the
      // 64×4 last layer are empty at 10 % density; measured 5323 of 11289); momentum redistribution then
      // grows the last layer and from the second update on every zero position has momentum (measured 0).
      if (k >= 1) expect(first.zeroMomentumAtZeroPositions[k] / zeros, `update ${k + 1}`).toBeLessThan(0.01);
    });
  });

  it('does not grow tf.memory().numTensors from step to step', () => {
    const counts = first.tensorCounts;
    for (let s = 1; s < counts.length; s++) expect(counts[s], `step ${s + 1}`).toBe(counts[0]);
    // and everything is released at the end
    expect(tf.memory().numTensors).toBe(before);
  });

  it('is deterministic: same seed, identical final weights', () => {
    expect(second.finalWeights.length).toBe(first.finalWeights.length);
    first.finalWeights.forEach((w, i) => expect(Array.from(second.finalWeights[i])).toEqual(Array.from(w)));
    expect(second.updates).toEqual(first.updates);
  });
});
