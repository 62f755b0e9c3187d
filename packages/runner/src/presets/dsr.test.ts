import { createRng } from '@sparse-learning/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { activateBackend } from '../run/backend.js';
import { resolveConfig } from '../config/resolve.js';
import { splitBatches } from '../run/batches.js';
import { prepareExperiment } from '../run/experiment.js';
import { DSR_REWIRE_PERIODS, RewirePeriodTrigger } from './rewire-period-trigger.js';

const at = (step: number, epoch: number) => ({ step, epoch, epochs: 200, stepsPerEpoch: 600 });

describe('RewirePeriodTrigger (DSR codebase schedule)', () => {
  it('fires after iteration j ≠ 0 with j mod P(epoch) = 0: steps 101, 201, … then every 200 from epoch 25', () => {
    const t = new RewirePeriodTrigger(DSR_REWIRE_PERIODS);
    expect([1, 100, 101, 102, 201].map((s) => t.afterStep(at(s, 0)))).toEqual([false, false, true, false, true]);
    expect(t.periodAt(24)).toBe(100);
    expect(t.periodAt(25)).toBe(200);
    expect(t.periodAt(80)).toBe(400);
    expect(t.periodAt(150)).toBe(800);
    // epoch 25 starts at step 15 000: j = 15 100 is a multiple of 100 but not of 200.
    expect(t.afterStep(at(15_101, 25))).toBe(false);
    expect(t.afterStep(at(15_201, 25))).toBe(true);
    expect(t.afterEpoch()).toBe(false);
    const stopped = new RewirePeriodTrigger(DSR_REWIRE_PERIODS, 10);
    expect(stopped.afterStep(at(6_001, 10))).toBe(false);
    expect(() => new RewirePeriodTrigger([{ epoch: 3, every: 10 }])).toThrow(expect.objectContaining({ code: 'E_OUT_OF_RANGE' }));
    expect(() => new RewirePeriodTrigger([{ epoch: 0, every: 0 }])).toThrow(expect.objectContaining({ code: 'E_OUT_OF_RANGE' }));
  });
});

describe('DSR preset (spec §6.3)', () => {
  beforeAll(async () => {
    await activateBackend('wasm', 'lenet300-100');
  });

  it('trains with exact counts: every reallocation regrows exactly what the threshold pruned, elsewhere', async () => {
    // maskUpdate.every = 5 scales the DSR periods 100/200/400/800 to 5/10/20/40: updates after steps 6 and 11.
    const { config } = resolveConfig({
      name: 'test',
      values: { preset: 'dsr', epochs: 1, maxBatches: 12, backend: 'wasm', seed: 3, maskUpdate: { every: 5 } },
    });
    expect(config).toMatchObject({ prune: 'adaptive-threshold', redistribution: 'surviving', growth: 'random', densityDistribution: 'uniform-exact' });
    const session = await prepareExperiment({ config });
    const masking = session.masking!;
    const initialTotal = masking.totalActive;
    // uniform-exact: round(n_i · 0.05) per layer (784·300, 300·100, 100·10)
    expect(masking.counts().map((c) => c.active)).toEqual([11760, 1500, 50]);
    const order = session.dataset.train.epochOrder(createRng(1), true);
    const updates: number[] = [];
    let removed = 0;
    let moved = 0;
    try {
      for (const batch of splitBatches(session.dataset.train, order, config.batchSize, 12)) {
        const before = masking.counts().map((c) => c.active);
        const result = session.trainer.step(batch);
        expect(masking.totalActive).toBe(initialTotal);
        const update = result.maskUpdate;
        if (!update) continue;
        updates.push(result.step);
        removed += update.totalRemoved;
        expect(update.totalRegrown).toBe(update.totalRemoved);
        const after = masking.counts().map((c) => c.active);
        moved += after.reduce((acc, a, i) => acc + Math.abs(a - before[i]), 0);
        // shares are the survivors' proportions, and each layer regrew round(share · K) give or take the discrepancy
        const survivors = update.layers.map((l) => l.activeBefore - l.removed);
        const total = survivors.reduce((a, b) => a + b, 0);
        update.layers.forEach((l, i) => {
          expect(l.share).toBeCloseTo(survivors[i] / total, 12);
          expect(Math.abs(l.regrown - l.share * update.totalRemoved)).toBeLessThanOrEqual(1.5);
        });
      }
      expect(updates).toEqual([6, 11]);
      // the threshold pruned something (the test is not vacuous) and reallocation moved weights across layers
      expect(removed).toBeGreaterThan(0);
      expect(moved).toBeGreaterThan(0);
    } finally {
      session.dispose();
    }
  });
});
