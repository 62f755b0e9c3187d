import { ConstantLrSchedule, ConstantSchedule, EpochEndTrigger, EveryKStepsTrigger, createRng, type MaskUpdateTrigger } from '@sparse-learning/core';
import { describe, expect, it } from 'vitest';

import { nativeAddonStatus } from './addon.js';
import { nnzOf, sparseAddonOf, sparseLayerBytes, sparseLayerFromDense, type SparseDenseLayer } from './sparse-layout.js';
import { SparseMlpTrainer } from './sparse-mlp-trainer.js';
import { rng } from './test-helpers.js';

// The sparse MLP trainer without a mask updater (the runner test compares it with the masked path end to end):
// it learns, evaluates, keeps memory proportional to the active weights, and opens its dense-gradient window
// exactly during the last K steps before each mask update.
const sparse = sparseAddonOf(nativeAddonStatus().addon);

function layer(inF: number, outF: number, density: number, relu: boolean, r: () => number): SparseDenseLayer {
  const w = new Float32Array(inF * outF);
  const m = new Uint8Array(inF * outF);
  for (let k = 0; k < w.length; k++) if (r() < density) (m[k] = 1), (w[k] = (r() * 2 - 1) * Math.sqrt(3 / (density * inF)));
  return sparseLayerFromDense(w, m, inF, outF, { bias: new Float32Array(outF), relu });
}

function trainer(window: number, trigger: MaskUpdateTrigger = new EpochEndTrigger(), epochs = 3, stepsPerEpoch = 10): SparseMlpTrainer {
  const r = rng(7);
  const layers = [layer(20, 32, 0.3, true, r), layer(32, 16, 0.3, true, r), layer(16, 4, 1, false, r)];
  return new SparseMlpTrainer({
    addon: sparse!,
    layers: layers.map((l, i) => ({ weightName: `fc${i + 1}.weight`, biasName: `fc${i + 1}.bias`, layer: l, masked: i < 2 })),
    maxBatch: 64,
    sgd: { momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
    maskUpdater: null,
    baselineNonzero: 0,
    pruneRateSchedule: new ConstantSchedule({ rate: 0.3 }),
    learningRateSchedule: new ConstantLrSchedule({ rate: 0.05 }),
    trigger,
    rng: createRng(1),
    epochs,
    stepsPerEpoch,
    denseGradWindow: window,
  });
}

describe.skipIf(!sparse)('SparseMlpTrainer', () => {
  it('learns a separable 4-class problem, evaluates it natively and counts its steps', () => {
    const t = trainer(4);
    const r = rng(3);
    const x = new Float32Array(64 * 20);
    const labels = new Int32Array(64);
    for (let j = 0; j < 64; j++) {
      labels[j] = j % 4;
      for (let i = 0; i < 20; i++) x[j * 20 + i] = (i % 4 === labels[j] ? 1 : 0) + 0.1 * (r() - 0.5);
    }
    const first = t.step({ x, labels }).loss;
    let last = first;
    for (let s = 0; s < 60; s++) last = t.step({ x, labels }).loss;
    expect(last).toBeLessThan(first / 4);
    const evaluation = t.evaluate([{ x, labels }]);
    expect(evaluation.count).toBe(64);
    expect(evaluation.accuracy).toBe(1);
    expect(evaluation.loss).toBeCloseTo(last, 1);
    expect(t.position()).toMatchObject({ step: 61, epoch: 0 });
    // No mask updater: no dense window buffers, memory = the compact layers.
    expect(t.bytes()).toBe(t.layers.reduce((acc, s) => acc + sparseLayerBytes(s.layer), 0));
    expect(t.activeCounts()).toEqual(t.layers.map((s) => nnzOf(s.layer)));
  });

  it('the dense-gradient window covers exactly the last K steps before each mask update', () => {
    // Epoch-end updates after epochs 1 and 2 of 3 (none after the last): steps 10 and 20.
    const epochEnd = trainer(4);
    const open = (t: SparseMlpTrainer) => Array.from({ length: 30 }, (_, i) => i + 1).filter((n) => t.inWindow(n));
    expect(open(epochEnd)).toEqual([7, 8, 9, 10, 17, 18, 19, 20]);
    // Every 5 steps: updates after steps 5, 10, ..., window 2 → steps 4, 5, 9, 10, ...
    expect(open(trainer(2, new EveryKStepsTrigger({ every: 5 })))).toEqual([4, 5, 9, 10, 14, 15, 19, 20, 24, 25, 29, 30]);
    // A window covering the run keeps the dense momentum at every step (reproduces the masked path).
    expect(open(trainer(30))).toHaveLength(30);
    expect(() => trainer(-1)).toThrow(expect.objectContaining({ code: 'E_OUT_OF_RANGE' }));
  });
});
