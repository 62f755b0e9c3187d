import { createRng } from '@sparse-learning/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { activateBackend } from '../run/backend.js';
import { resolveConfig } from '../config/resolve.js';
import { splitBatches } from '../run/batches.js';
import { prepareExperiment } from '../run/experiment.js';

describe('DSR preset (Mostafa & Wang 2019)', () => {
  beforeAll(async () => {
    await activateBackend('wasm', 'lenet300-100');
  });

  it('trains with exact counts: every reallocation regrows exactly what the threshold pruned, elsewhere', async () => {
    // the trigger's every = 5 scales the DSR periods 100/200/400/800 to 5/10/20/40: updates after steps 6 and 11.
    const { config } = resolveConfig({
      name: 'test',
      values: { preset: 'dsr', epochs: 1, maxBatches: 12, backend: 'wasm', seed: 3, triggerOptions: { every: 5 } },
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
