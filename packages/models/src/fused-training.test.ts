import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers'; // stock gradients (tfjs-core's Node entry registers none)
import { nativeAddonStatus, registerNativeBackend } from '@sparse-learning/backend-native';
import {
  ConstantLrSchedule,
  ConstantSchedule,
  EveryKStepsTrigger,
  FUSED_DENSE_GRAD_KERNEL,
  FUSED_DENSE_KERNEL,
  LOG_SOFTMAX_NLL_GRAD_KERNEL,
  LOG_SOFTMAX_NLL_KERNEL,
  MaskUpdater,
  Masking,
  SGD_STEP_MASKED_KERNEL,
  SgdOptimizer,
  SparseTrainer,
  UniformExactDistribution,
  absolute,
  addHighestInactive,
  createRng,
  hasFusedDenseKernels,
  removeLowestActive,
} from '@sparse-learning/core';
import type { GrowthStrategy, LayerView, PruneStrategy, RedistributionStrategy } from '@sparse-learning/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createModel } from './registry.js';

// Issue 10, deliverable 3: a training step through core's fused ops (the direct forward of LeNet-300-100,
// the fused loss, the SGD step with the mask multiply folded in) must equal the unfused step (the tfjs-layers
// executor, the composite loss, SGD then masking.apply()) bit for bit — on backend-native's `native` backend,
// where the fused kernels run (both bases), and on cpu and wasm, where the fused ops are their composites.
// The kernels themselves are tested in backend-native (native-fused-dense.test.ts).

const status = nativeAddonStatus();
const nativeSuite = status.addon ? { skip: false, meta: {} } : { skip: true, meta: { skipReason: `needs the native addon: ${status.reason}` } };
const NATIVE = { wasm: 'fused-training-native-wasm', cpu: 'fused-training-native-cpu' } as const;

/** Deterministic uniform(-1, 1) data (mulberry32), so failures reproduce. */
function randomData(size: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i += 1) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}


/** Inline strategies (the plugin packages are not dependencies of this one): magnitude prune, momentum growth. */
const prune: PruneStrategy = {
  id: 'test-magnitude',
  countPolicy: 'exact',
  prune: (layer: LayerView, request) => removeLowestActive(layer.mask, absolute(layer.weight), request.count),
};
const redistribution: RedistributionStrategy = {
  id: 'test-momentum',
  requires: ['momentum'],
  statistic: (layer: LayerView) => {
    let sum = 0;
    for (let i = 0; i < layer.size; i++) if (layer.mask[i]) sum += Math.abs(layer.momentum![i]);
    return layer.activeCount === 0 ? Number.NaN : sum / layer.activeCount;
  },
};
const growth: GrowthStrategy = {
  id: 'test-momentum-growth',
  countPolicy: 'exact',
  requires: ['momentum'],
  grow: (layer: LayerView, request) => addHighestInactive(layer.mask, absolute(layer.momentum!), request.count),
};

/**
 * Trains LeNet-300-100 at 5 % with Sparse Momentum's cycle (a mask update every 7 steps), fused (direct
 * forward + fused SGD/mask) or unfused (tfjs-layers executor; SGD, then masking.apply()); returns every
 * loss, and the weights, momentum buffers and masks at the end. Checks that no tensor leaks per step.
 */
async function train(backend: string, fused: boolean, steps: number, batch: number) {
  expect(await tf.setBackend(backend)).toBe(true);
  const rng = createRng('fused-vs-unfused');
  const model = createModel('lenet300-100', { seed: 3, fused });
  const masking = new Masking(model.variables);
  masking.initialize(new UniformExactDistribution(), 0.05, rng.fork('mask-init'));
  const optimizer = new SgdOptimizer({ learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  if (!fused) Object.defineProperty(optimizer, 'applyGradientsMasked', { value: undefined });
  const trainer = new SparseTrainer({
    model,
    optimizer,
    masking,
    maskUpdater: new MaskUpdater(prune, redistribution, growth),
    pruneRateSchedule: new ConstantSchedule({ rate: 0.3 }),
    learningRateSchedule: new ConstantLrSchedule({ rate: 0.05 }),
    trigger: new EveryKStepsTrigger({ every: 7 }),
    rng: rng.fork('train'),
    epochs: 1,
    stepsPerEpoch: steps,
  });
  const batches = [0, 1, 2].map((i) => ({
    inputs: tf.tensor4d(randomData(batch * 784, 20 + i), [batch, 28, 28, 1]),
    labels: tf.tensor1d(Int32Array.from({ length: batch }, (_, j) => (j * 7 + i) % 10), 'int32'),
  }));
  const losses: number[] = [];
  trainer.step(batches[0]);
  const before = tf.memory().numTensors;
  for (let s = 1; s < steps; s++) {
    losses.push(trainer.step(batches[s % 3]).loss);
    expect(tf.memory().numTensors, `tensors after step ${s + 1}`).toBe(before);
  }
  const weights = model.variables.map((v) => Array.from(v.variable.dataSync()));
  const momentum = Object.entries(optimizer.getState().slots).map(([name, slots]) => [name, Array.from(slots.momentum_buffer)]);
  const masks = masking.readMasks().map((mask) => Array.from(mask));
  trainer.dispose();
  optimizer.dispose();
  masking.dispose();
  model.dispose();
  tf.dispose(batches.flatMap((b) => [b.inputs, b.labels]));
  return { losses, weights, momentum, masks };
}

function expectSameRun(a: Awaited<ReturnType<typeof train>>, b: Awaited<ReturnType<typeof train>>) {
  expect(a.losses).toEqual(b.losses);
  expect(a.masks).toEqual(b.masks);
  a.weights.forEach((w, i) => expect(w, `variable ${i}`).toEqual(b.weights[i]));
  expect(a.momentum.map(([name]) => name)).toEqual(b.momentum.map(([name]) => name));
  a.momentum.forEach(([name, m], i) => expect(m, String(name)).toEqual(b.momentum[i][1]));
}

for (const base of ['wasm', 'cpu'] as const) {
  describe(`native (${base} base): fused vs unfused training steps`, nativeSuite, () => {
    beforeAll(() => {
      status.addon?.setThreads(2); // the parallel paths too, whatever the load-aware default chose
      expect(registerNativeBackend({ name: NATIVE[base], base })).toBe(true);
    });

    it('LeNet-300-100, 30 steps with 4 mask updates: same losses, weights, momentum and masks bit for bit', async () => {
      const fused = await train(NATIVE[base], true, 30, 100);
      const unfused = await train(NATIVE[base], false, 30, 100);
      expect(fused.losses.every(Number.isFinite)).toBe(true);
      expect(fused.losses[fused.losses.length - 1]).toBeLessThan(fused.losses[0]);
      expectSameRun(fused, unfused);
    });

    it('the fused step runs a fraction of the unfused kernels: 3 dense, 3 dense-gradient, 3 masked SGD, 2 loss launches', async () => {
      const names = async (fused: boolean) => {
        expect(await tf.setBackend(NATIVE[base])).toBe(true);
        const rng = createRng('kernel-count');
        const model = createModel('lenet300-100', { seed: 3, fused });
        const masking = new Masking(model.variables);
        masking.initialize(new UniformExactDistribution(), 0.05, rng);
        const optimizer = new SgdOptimizer({ learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
        if (!fused) Object.defineProperty(optimizer, 'applyGradientsMasked', { value: undefined });
        const trainer = new SparseTrainer({
          model, optimizer, masking, maskUpdater: null,
          pruneRateSchedule: new ConstantSchedule({ rate: 0.3 }),
          learningRateSchedule: new ConstantLrSchedule({ rate: 0.05 }),
          trigger: new EveryKStepsTrigger({ every: 1000 }),
          rng, epochs: 1, stepsPerEpoch: 10,
        });
        const batch = { inputs: tf.tensor4d(randomData(100 * 784, 5), [100, 28, 28, 1]), labels: tf.tensor1d(Int32Array.from({ length: 100 }, (_, j) => j % 10), 'int32') };
        trainer.step(batch);
        const info = await tf.profile(() => {
          trainer.step(batch);
        });
        optimizer.dispose();
        masking.dispose();
        model.dispose();
        tf.dispose([batch.inputs, batch.labels]);
        return info.kernels.map((kernel) => kernel.name);
      };
      const fused = await names(true);
      const unfused = await names(false);
      const count = (list: string[], name: string) => list.filter((n) => n === name).length;
      expect(count(fused, FUSED_DENSE_KERNEL)).toBe(3);
      expect(count(fused, FUSED_DENSE_GRAD_KERNEL)).toBe(3);
      expect(count(fused, SGD_STEP_MASKED_KERNEL)).toBe(3);
      expect(count(fused, 'BatchMatMul') + count(fused, '_FusedMatMul') + count(fused, 'Relu')).toBe(0);
      expect(count(unfused, FUSED_DENSE_KERNEL)).toBe(0);
      expect(count(fused, LOG_SOFTMAX_NLL_KERNEL) + count(fused, LOG_SOFTMAX_NLL_GRAD_KERNEL)).toBe(2);
      // Measured at the time of writing: 27 against 111 launches per step.
      expect(fused.length).toBeLessThan(0.35 * unfused.length);
    });
  });
}

// The stock backends have no fused kernels: fusedDense runs the composite and the masked SGD its tf.* chain,
// and the direct forward must still reproduce the tfjs-layers executor exactly.
for (const backend of ['cpu', 'wasm'] as const) {
  describe(`${backend}: fused vs unfused training steps (composite fallbacks)`, () => {
    it('LeNet-300-100, 15 steps (batch 8) with 2 mask updates: same losses, weights, momentum and masks bit for bit', async () => {
      const fused = await train(backend, true, 15, 8);
      expect(hasFusedDenseKernels()).toBe(false);
      const unfused = await train(backend, false, 15, 8);
      expectSameRun(fused, unfused);
    });
  });
}
