import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '@sparse-learning/core';
import type { SignFlipPruneState } from '@sparse-learning/prune';
import { beforeAll, describe, expect, it } from 'vitest';
import { activateBackend } from '../run/backend.js';
import { resolveConfig } from '../config/resolve.js';
import { identityOrder, splitBatches } from '../run/batches.js';
import { prepareExperiment } from '../run/experiment.js';
import { DeepRGradientTransform, temperatureAt } from '../transforms/deep-r-gradient.js';

describe('DeepR (spec §6.2)', () => {
  beforeAll(async () => {
    await activateBackend('wasm', 'lenet300-100');
  });

  it('keeps the connection count constant at every step and no active weight changes sign', async () => {
    const { config } = resolveConfig({
      name: 'test',
      // a high temperature makes the noise large enough to flip signs within a few steps
      values: { preset: 'deep-r', epochs: 1, maxBatches: 12, backend: 'wasm', seed: 3, lr: 0.5, deepR: { temperature: [{ epoch: 0, value: 0.5 }] } },
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
      const state = (session.composition.prune as unknown as { getState(): SignFlipPruneState }).getState();
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

  it('the gradient transform adds α·sign(w) and sqrt(2ηT) noise on active weights only', () => {
    expect(temperatureAt([{ epoch: 0, value: 1e-5 }, { epoch: 25, value: 1e-8 }], 24)).toBe(1e-5);
    expect(temperatureAt([{ epoch: 0, value: 1e-5 }, { epoch: 25, value: 1e-8 }], 25)).toBe(1e-8);
    const noiseless = new DeepRGradientTransform({ eta: 0.01, l1: 0.1, temperature: [{ epoch: 0, value: 0 }] });
    const w = tf.variable(tf.tensor1d([0.5, -0.25, 0.125, 0]), true, 'w');
    const mask = tf.tensor1d([1, 1, 0, 1]);
    const g = tf.tensor1d([1, 1, 1, 1]);
    const rng = createRng(9);
    const ctx = { step: 0, epoch: 0, variables: { w }, masks: { w: mask }, learningRate: 0.1, rng };
    const out = tf.tidy(() => Array.from(noiseless.transform({ w: g }, ctx).w.dataSync()));
    expect(out[0]).toBeCloseTo(1.1, 6);
    expect(out[1]).toBeCloseTo(0.9, 6);
    expect(out[2]).toBe(1); // dormant: plain gradient
    expect(out[3]).toBe(1); // sign(0) = 0
    const noisy = new DeepRGradientTransform({ eta: 0.5, l1: 0, temperature: [{ epoch: 0, value: 1 }] });
    expect(noisy.noiseStd(0)).toBe(1);
    const before = tf.memory().numTensors;
    const values = tf.tidy(() => Array.from(noisy.transform({ w: g }, { ...ctx, rng: createRng(9) }).w.dataSync()));
    expect(tf.memory().numTensors).toBe(before);
    const expectedNoise = createRng(9);
    const n0 = expectedNoise.normal();
    const n1 = expectedNoise.normal();
    const n3 = expectedNoise.normal();
    expect(values[0]).toBeCloseTo(1 + n0, 5);
    expect(values[1]).toBeCloseTo(1 + n1, 5);
    expect(values[2]).toBe(1);
    expect(values[3]).toBeCloseTo(1 + n3, 5);
    tf.dispose([w, mask, g]);
  });
});
