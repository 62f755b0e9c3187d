import {
  ConstantLrSchedule,
  ConstantSchedule,
  EpochEndTrigger,
  MaskUpdater,
  createRng,
  type GrowthStrategy,
  type LayerView,
  type MaskUpdateEvent,
  type PruneStrategy,
  type RedistributionStrategy,
} from '@sparse-learning/core';
import { describe, expect, it } from 'vitest';

import { nativeAddonStatus } from './addon.js';
import { nativeSkipOptions } from './native-test-skip.js';
import { channelMajorRows, sparseCnnAddonOf } from './sparse-cnn-step.js';
import { SparseCnnTrainer } from './sparse-cnn-trainer.js';
import { convNnzOf, sparseConvFromDense } from './sparse-conv-layout.js';
import { nnzOf, sparseLayerFromDense } from './sparse-layout.js';
import { rng } from './test-helpers.js';

// The sparse CNN trainer's own books (issue 9; the runner test compares it with the masked path end to end):
// its dense-gradient window covers exactly the last K steps before each update, every update leaves exactly
// the counted active weights (prune removes, growth only adds inactive positions), grown weights take the
// window's dense momentum, and the dense views come back in the model's layouts (NHWC-flatten rows).
const status = nativeAddonStatus();
const addon = sparseCnnAddonOf(status.addon);
const suite = nativeSkipOptions(addon ? null : `no sparse CNN kernels (${status.reason})`);

// Sparse Momentum in miniature (docs/algorithm.md#the-mask-update): magnitude pruning, mean |momentum| as the
// redistribution statistic, growth at the largest |momentum| of the inactive positions.
const byScore = (view: LayerView, count: number, active: boolean, score: (k: number) => number): Uint8Array => {
  const mask = view.mask.slice();
  const candidates = [...mask.keys()].filter((k) => (mask[k] === 1) === active).sort((a, b) => score(a) - score(b) || a - b);
  for (const k of candidates.slice(0, count)) mask[k] = active ? 0 : 1;
  return mask;
};
const prune: PruneStrategy = { id: 'test-magnitude', countPolicy: 'exact', prune: (v, r) => byScore(v, r.count, true, (k) => Math.abs(v.weight[k])) };
const redistribution: RedistributionStrategy = {
  id: 'test-momentum',
  requires: ['momentum'],
  statistic: (v) => {
    let sum = 0;
    for (let k = 0; k < v.size; k++) if (v.mask[k]) sum += Math.abs(v.momentum![k]);
    return v.activeCount ? sum / v.activeCount : Number.NaN;
  },
};
const growth: GrowthStrategy = { id: 'test-momentum', countPolicy: 'exact', requires: ['momentum'], grow: (v, r) => byScore(v, r.count, false, (k) => -Math.abs(v.momentum![k])) };

// 8×8×1 → conv 1→4 3×3 → ReLU → pool → 3×3×4 → conv 4→6 2×2 → ReLU → 2×2×6 → fc 24→16 ReLU → fc 16→3.
const FC1_NHWC = (() => {
  const r = rng(11);
  return Float32Array.from({ length: 24 * 16 }, () => (r() < 0.5 ? (r() * 2 - 1) * 0.5 : 0));
})();

function trainer(window: number): SparseCnnTrainer {
  const r = rng(5);
  const conv = (kh: number, cin: number, cout: number, density: number) => {
    const w = Float32Array.from({ length: kh * kh * cin * cout }, () => (r() < density ? (r() * 2 - 1) * Math.sqrt(6 / (kh * kh * cin * density)) : 0));
    return sparseConvFromDense(w, null, kh, kh, cin, cout, { bias: new Float32Array(cout), relu: true });
  };
  const fc2 = Float32Array.from({ length: 16 * 3 }, () => (r() * 2 - 1) * 0.5);
  const conv1 = conv(3, 1, 4, 0.6);
  const conv2 = conv(2, 4, 6, 0.5);
  const fc1 = sparseLayerFromDense(channelMajorRows(FC1_NHWC, 6, 2, 2, 16), null, 24, 16, { bias: new Float32Array(16), relu: true });
  return new SparseCnnTrainer({
    addon: addon!,
    convs: [
      { weightName: 'conv1.weight', biasName: 'conv1.bias', layer: conv1, inH: 8, inW: 8, padding: 'valid', pool: true, masked: true },
      { weightName: 'conv2.weight', biasName: 'conv2.bias', layer: conv2, inH: 3, inW: 3, padding: 'valid', pool: false, masked: true },
    ],
    dense: [
      { weightName: 'fc1.weight', biasName: 'fc1.bias', masked: true, layer: fc1 },
      { weightName: 'fc2.weight', biasName: 'fc2.bias', masked: false, layer: sparseLayerFromDense(fc2, null, 16, 3, { bias: new Float32Array(3) }) },
    ],
    maxBatch: 20,
    sgd: { momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
    maskUpdater: new MaskUpdater(prune, redistribution, growth),
    // The density denominator: the masked layers' initial active weights.
    baselineNonzero: convNnzOf(conv1) + convNnzOf(conv2) + nnzOf(fc1),
    pruneRateSchedule: new ConstantSchedule({ rate: 0.3 }),
    learningRateSchedule: new ConstantLrSchedule({ rate: 0.05 }),
    trigger: new EpochEndTrigger(),
    rng: createRng(1),
    epochs: 3,
    stepsPerEpoch: 10,
    denseGradWindow: window,
  });
}

/** 3 classes: a bright 3×3 blob in the top-left, top-right or bottom half of an 8×8 image. */
function batch(seed: number, n = 20): { x: Float32Array; labels: Int32Array } {
  const r = rng(seed);
  const x = new Float32Array(n * 64);
  const labels = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    const c = j % 3;
    labels[j] = c;
    const [y0, x0] = c === 0 ? [0, 0] : c === 1 ? [0, 5] : [5, 2];
    for (let p = 0; p < 64; p++) x[j * 64 + p] = 0.1 * r();
    for (let dy = 0; dy < 3; dy++) for (let dx = 0; dx < 3; dx++) x[j * 64 + (y0 + dy) * 8 + x0 + dx] += 1;
  }
  return { x, labels };
}

describe('SparseCnnTrainer', suite, () => {
  it('opens its dense-gradient window exactly in the last K steps before each epoch-end update', () => {
    const t = trainer(4);
    expect(Array.from({ length: 30 }, (_, i) => i + 1).filter((n) => t.inWindow(n))).toEqual([7, 8, 9, 10, 17, 18, 19, 20]);
    for (let epoch = 0; epoch < 3; epoch++) {
      for (let s = 0; s < 10; s++) t.step(batch(100 * epoch + s));
      t.endEpoch();
    }
    expect(t.denseSteps).toBe(8);
    expect(t.position()).toMatchObject({ step: 30, epoch: 3 });
  });

  it('every update leaves exactly the counted active weights; grown weights take the window momentum', () => {
    const t = trainer(4);
    const events: MaskUpdateEvent[] = [];
    let firstLoss = 0;
    let lastLoss = 0;
    for (let epoch = 0; epoch < 3; epoch++) {
      for (let s = 0; s < 10; s++) {
        const loss = t.step(batch(100 * epoch + s)).loss;
        if (epoch === 0 && s === 0) firstLoss = loss;
        lastLoss = loss;
      }
      const before = [0, 1, 2].map((i) => t.denseView(i));
      const event = t.endEpoch();
      if (!event) continue;
      events.push(event);
      const counts = t.activeCounts();
      let moved = 0;
      event.layers.forEach((l, i) => {
        const view = t.denseView(i);
        // Exact counts: the compact layer, the mask and the updater's books agree.
        expect(counts[i]).toBe(l.activeAfter);
        expect(view.mask.reduce((a, b) => a + b, 0)).toBe(l.activeAfter);
        expect(l.activeAfter).toBe(l.activeBefore - l.removed + l.regrown);
        // Growth only switched on positions that were off after pruning: grown = after − (before − pruned).
        let switchedOn = 0;
        for (let k = 0; k < view.mask.length; k++) {
          if (view.mask[k] && !before[i].mask[k]) {
            switchedOn++;
            // The grown weight starts at 0 and keeps the momentum its position gathered in the window.
            expect(view.weight[k]).toBe(0);
            expect(view.momentum[k]).toBe(before[i].momentum[k]);
          }
        }
        expect(switchedOn).toBeLessThanOrEqual(l.regrown);
        moved += switchedOn;
      });
      expect(moved).toBeGreaterThan(0);
    }
    expect(events).toHaveLength(2);
    expect(lastLoss).toBeLessThan(firstLoss);
    // Forward-only evaluation in chunks of maxBatch (a 45-example batch = 20 + 20 + 5).
    const evaluation = t.evaluate([batch(999, 45)]);
    expect(evaluation.count).toBe(45);
    expect(evaluation.accuracy).toBeGreaterThan(0.6);
  });

  it('gives dense views in the model layout: the first Dense kernel in NHWC-flatten rows', () => {
    const t = trainer(4);
    const view = t.denseView(2);
    expect(view.weightName).toBe('fc1.weight');
    expect(view.shape).toEqual([24, 16]);
    expect(Array.from(view.weight)).toEqual(Array.from(FC1_NHWC));
    expect(Array.from(view.mask)).toEqual(Array.from(FC1_NHWC, (w) => (w !== 0 ? 1 : 0)));
    expect(() => t.denseView(4)).toThrow(expect.objectContaining({ code: 'E_OUT_OF_RANGE' }));
    expect(t.weightNames).toEqual(['conv1.weight', 'conv2.weight', 'fc1.weight', 'fc2.weight']);
  });
});
