import { createRng } from '@sparse-learning/core';
import type { SignFlipPrune } from '@sparse-learning/prune';
import { beforeAll, describe, expect, it } from 'vitest';
import { activateBackend } from '../run/backend.js';
import { resolveConfig } from '../config/resolve.js';
import { splitBatches } from '../run/batches.js';
import { prepareExperiment } from '../run/experiment.js';

describe('DeepR (Bellec et al. 2018)', () => {
  beforeAll(async () => {
    await activateBackend('wasm', 'lenet300-100');
  });

  it('keeps the connection count constant at every step and no active weight changes sign', async () => {
    const { config } = resolveConfig({
      name: 'test',
      // a high temperature makes the noise large enough to flip signs within a few steps
      values: { preset: 'deep-r', epochs: 1, maxBatches: 12, backend: 'wasm', seed: 3, lr: 0.5, gradientTransforms: [{ id: 'deep-r-noise-l1', options: { temperature: [{ epoch: 0, value: 0.5 }] } }] },
    });
    const session = await prepareExperiment({ config });
    const masking = session.masking!;
    const initialPerLayer = masking.counts().map((c) => c.active);
    const initialTotal = masking.totalActive;
    const read = () => masking.layers.map((l) => Float32Array.from(l.variable.dataSync()));
    const order = session.dataset.train.epochOrder(createRng(1), true);
    let removed = 0;
    let steps = 0;
    try {
      for (const batch of splitBatches(session.dataset.train, order, config.batchSize, 12)) {
        const beforeWeights = read();
        const beforeMasks = masking.readMasks();
        const result = session.trainer.step(batch);
        steps++;
        expect(result.maskUpdate).not.toBeNull();
        removed += result.maskUpdate!.totalRemoved;
        expect(masking.totalActive).toBe(initialTotal);
        expect(masking.counts().map((c) => c.active)).toEqual(initialPerLayer);
        const afterWeights = read();
        const afterMasks = masking.readMasks();
        // Counted, not asserted per element: 266k expect() calls per step would dominate the test's time.
        let nonzeroMasked = 0;
        let flipped = 0;
        afterMasks.forEach((mask, l) => {
          for (let i = 0; i < mask.length; i++) {
            const was = beforeWeights[l][i];
            const now = afterWeights[l][i];
            if (mask[i] === 0) {
              if (now !== 0) nonzeroMasked++;
            } else if (beforeMasks[l][i] === 1 && was !== 0 && now !== 0 && Math.sign(now) !== Math.sign(was)) {
              flipped++;
            }
          }
        });
        expect(nonzeroMasked, `step ${steps}: masked weights that are not 0`).toBe(0);
        expect(flipped, `step ${steps}: active weights whose sign changed`).toBe(0);
      }
      expect(steps).toBe(12);
      // The test is not vacuous: connections were rewired.
      expect(removed).toBeGreaterThan(0);
      // Every active non-zero weight carries its connection's fixed sign.
      const state = (session.composition.prune as SignFlipPrune).getState();
      const weights = read();
      let wrongSign = 0;
      masking.readMasks().forEach((mask, l) => {
        const signs = state.signs[masking.layers[l].name] as Int8Array;
        for (let i = 0; i < mask.length; i++) if (mask[i] === 1 && weights[l][i] !== 0 && Math.sign(weights[l][i]) !== signs[i]) wrongSign++;
      });
      expect(wrongSign).toBe(0);
    } finally {
      session.dispose();
    }
  });
});
