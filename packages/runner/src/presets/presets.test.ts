import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { activateBackend } from '../run/backend.js';
import { resolveConfig } from '../config/resolve.js';
import { runExperiment } from '../run/experiment.js';
import { readMetrics } from '../run/run-directory.js';
import { PRESETS } from './index.js';

const out = mkdtempSync(join(tmpdir(), 'sl-presets-'));

beforeAll(async () => {
  await activateBackend('wasm', 'lenet300-100');
});

describe('every preset composes and trains a few steps (wasm, 2 epochs × 3 batches)', () => {
  for (const preset of PRESETS) {
    it(preset.id, async () => {
      const { config } = resolveConfig({
        name: 'test',
        values: { preset: preset.id, epochs: 2, maxBatches: 3, backend: 'wasm', seed: 5, ...(preset.id === 'rigl' ? { triggerOptions: { every: 2 } } : {}) },
      });
      const before = tf.memory().numTensors;
      const results = await runExperiment({ config, outDir: join(out, preset.id) });
      // Model, optimizer state, masks and every batch are released: no tensor outlives the run.
      if (before > 0) expect(tf.memory().numTensors).toBe(before);
      expect(results.steps).toBe(6);
      expect(results.testError).toBeCloseTo(1 - results.testAccuracy, 12);
      const metrics = readMetrics(join(out, preset.id));
      expect(metrics).toHaveLength(2);
      for (const m of metrics) expect(Number.isFinite(m.trainLoss)).toBe(true);
      const [first, second] = metrics;
      switch (preset.id) {
        case 'dense':
          expect(first.density).toBe(1);
          expect(first.maskUpdates).toBe(0);
          break;
        case 'static':
          expect(first.maskUpdates + second.maskUpdates).toBe(0);
          expect(second.totalActive).toBe(first.totalActive);
          expect(first.density).toBeGreaterThan(0.045);
          expect(first.density).toBeLessThan(0.055);
          break;
        case 'sparse-momentum':
        case 'set':
          // one update after epoch 1, none after the last epoch (docs/algorithm.md#when-masks-change)
          expect(first.maskUpdates).toBe(1);
          expect(second.maskUpdates).toBe(0);
          expect(first.redistribution?.length).toBe(3);
          break;
        case 'deep-r':
          // every step
          expect(first.maskUpdates).toBe(3);
          expect(second.totalActive).toBe(first.totalActive);
          break;
        case 'rigl':
          // every 2 steps until 0.75 · 6 = 4: steps 2 and 4
          expect(first.maskUpdates + second.maskUpdates).toBe(2);
          break;
      }
      if (preset.id === 'set') {
        // in-place regrowth: per-layer counts do not move
        expect(first.layers.map((l) => l.active)).toEqual(second.layers.map((l) => l.active));
      }
    });
  }
});
