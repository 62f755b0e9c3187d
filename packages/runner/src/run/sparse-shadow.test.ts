import * as tf from '@tensorflow/tfjs-core';
import { loadNativeAddon, sparseCnnAddonOf } from '@sparse-learning/backend-native';
import { batchIndices } from '@sparse-learning/datasets';
import { silentLogger } from '@sparse-learning/core';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/resolve.js';
import { prepareExperiment, type ExperimentSession } from './experiment.js';
import { chooseExecution, createExecution, type Execution } from './sparse-execution.js';

// Issue 9, item 4: why the sparse and masked executions of one experiment separate over a whole epoch. Over 540
// LeNet-5 steps at lr 0.1 the two runs drift apart until they grow different weights, and so do two masked runs
// whose weights start 1 ulp apart (scripts/checks/lenet5-drift.mts, results/checks/lenet5-drift/): the training
// trajectory amplifies any rounding difference. That explanation holds only if the two executions compute the
// same step. This test checks exactly that, along a real trajectory and across mask updates: before every
// step the sparse execution is rebuilt from the masked run's state (weights, masks, momentum of every variable,
// trainer books), both take the same step (and, at an epoch end, the same mask update and the step after it),
// and what they then hold
// must agree to within what one step's rounding can do. A real difference in the computation — a missed weight
// decay term (lr·wd·|w| ≈ 1e-5 here), a bias or a grown weight treated differently, a momentum slot not carried
// or not reset at an update — shows up at once as a defect far above these bounds, while the trajectory has no
// time to amplify anything.
//
// The bounds: one step's rounding moves weights by ~1e-9 and momentum by ~1e-9, but a ReLU or max-pool
// decision whose input lies within rounding of its kink can go either way; one such flip changes one unit's
// weight gradient by about |δ|·|x|/batch (measured up to 2e-6 in the momentum at batch 100, and the same for a
// masked step from weights moved by ±1 ulp). Hence weights within 2e-6 and momentum within 2e-5 at batch 32.
const built = sparseCnnAddonOf(loadNativeAddon()) !== null;

async function session(model: string): Promise<ExperimentSession> {
  const { config } = resolveConfig({
    name: 'shadow',
    values: { model, preset: 'sparse-momentum', density: 0.05, lr: 0.1, epochs: 3, maxBatches: 6, batchSize: 32, backend: 'native', seed: 17 },
  });
  return prepareExperiment({ config });
}

/** Puts `from`'s weights, masks, optimizer slots and trainer books into `to`. */
function copyState(from: ExperimentSession, to: ExperimentSession): void {
  const source = new Map(from.model.variables.map((v) => [v.name, v.variable]));
  tf.tidy(() => {
    for (const v of to.model.variables) v.variable.assign(tf.tensor(source.get(v.name)!.dataSync(), v.variable.shape, 'float32'));
  });
  to.masking!.setMasks(from.masking!.readMasks());
  to.masking!.baselineNonzero = from.masking!.baselineNonzero;
  to.optimizer.setState(from.optimizer.getState());
  to.trainer.setState(from.trainer.getState());
}

/** Largest differences of weights and of momentum over every variable, and the differing mask entries. */
function distance(a: ExperimentSession, b: ExperimentSession): { weight: number; momentum: number; maskDiffs: number } {
  let weight = 0;
  let momentum = 0;
  a.model.variables.forEach((v, i) => {
    const x = v.variable.dataSync();
    const y = b.model.variables[i].variable.dataSync();
    for (let k = 0; k < x.length; k++) weight = Math.max(weight, Math.abs(x[k] - y[k]));
    const ma = a.optimizer.momentumOf(v.name);
    const mb = b.optimizer.momentumOf(v.name);
    const p = ma?.dataSync() ?? new Float32Array(x.length);
    const q = mb?.dataSync() ?? new Float32Array(x.length);
    for (let k = 0; k < p.length; k++) momentum = Math.max(momentum, Math.abs(p[k] - q[k]));
    ma?.dispose();
    mb?.dispose();
  });
  const ma = a.masking!.readMasks();
  const mb = b.masking!.readMasks();
  const maskDiffs = ma.reduce((n, m, i) => n + m.reduce((c, v, k) => c + (v !== mb[i][k] ? 1 : 0), 0), 0);
  return { weight, momentum, maskDiffs };
}

describe.skipIf(!built)('sparse execution shadowing the masked run: the same step, up to rounding', () => {
  for (const model of ['lenet5', 'lenet300-100'] as const) {
    it(`${model}, Sparse Momentum 5 %, lr 0.1: every step and both mask updates from the masked state agree`, async () => {
      const masked = await session(model);
      const shadow = await session(model);
      try {
        const maskedExecution = createExecution(masked, chooseExecution(masked, 'masked'), silentLogger, 64);
        const defects: { step: number; weight: number; momentum: number; maskDiffs: number; moved: number }[] = [];
        let tensors = -1;
        let sparse: Execution | null = null;
        for (let epoch = 1; epoch <= masked.config.epochs; epoch++) {
          const order = masked.dataset.train.epochOrder(masked.dataOrderRng(epoch), true);
          for (let b = 0; b < masked.stepsPerEpoch; b++) {
            // A fresh sparse execution (full dense-gradient window) from the masked run's state — except on the
            // first step after a mask update, which the execution that made the update takes itself (grown and
            // kept weights carry their momentum in its compact layers, not through the session).
            if (b > 0 || !sparse) {
              copyState(masked, shadow);
              sparse = createExecution(shadow, chooseExecution(shadow, 'sparse'), silentLogger, 1_000_000);
            }
            const masksBefore = masked.masking!.readMasks();
            const batch = masked.dataset.train.batch(batchIndices(order, b, masked.config.batchSize), masked.augmentRng(epoch, b));
            try {
              maskedExecution.trainer.step(batch);
              sparse!.trainer.step(batch);
            } finally {
              batch.inputs.dispose();
              batch.labels.dispose();
            }
            const last = b === masked.stepsPerEpoch - 1;
            if (last) {
              maskedExecution.trainer.endEpoch({});
              sparse!.trainer.endEpoch({});
            }
            sparse!.sync();
            const moved = masked.masking!.readMasks().reduce((n, m, i) => n + m.reduce((c, v, k) => c + (v !== masksBefore[i][k] ? 1 : 0), 0), 0);
            defects.push({ step: masked.trainer.position().step, ...distance(masked, shadow), moved });
            // No tensor leaks from rebuilding, stepping and syncing the sparse execution.
            if (tensors < 0) tensors = tf.memory().numTensors;
            else expect(tf.memory().numTensors).toBe(tensors);
          }
        }
        expect(defects).toHaveLength(18);
        // Both updates moved weights (the comparison is not between unchanged masks), and gave the same masks.
        const updates = defects.filter((d) => d.moved > 0);
        expect(updates.map((d) => d.step)).toEqual([6, 12]);
        for (const d of defects) {
          expect(d.maskDiffs, `step ${d.step}`).toBe(0);
          expect(d.weight, `step ${d.step}`).toBeLessThan(2e-6);
          expect(d.momentum, `step ${d.step}`).toBeLessThan(2e-5);
        }
        // Kink flips are rare; a difference in the computation is there at every step. Most steps agree to
        // rounding (measured medians: weights 4e-9, momentum 8e-9).
        const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[xs.length >> 1];
        expect(median(defects.map((d) => d.weight))).toBeLessThan(5e-8);
        expect(median(defects.map((d) => d.momentum))).toBeLessThan(1e-7);
        // The steps did change the state: the defects are not those of runs standing still.
        expect(Math.max(...defects.map((d) => d.weight))).toBeGreaterThan(0);
      } finally {
        masked.dispose();
        shadow.dispose();
      }
    }, 180_000);
  }
});
