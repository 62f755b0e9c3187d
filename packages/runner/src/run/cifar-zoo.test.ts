import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint } from '@sparse-learning/checkpoint';
import { modelInfo } from '@sparse-learning/models';
import { afterAll, describe, expect, it } from 'vitest';
import { writeCifarFiles } from '../test/cifar-files.js';
import { cli, metricsWithoutTimings, removeTmpDirs, tmp } from '../test/run-helpers.js';

afterAll(() => removeTmpDirs());

const root = tmp('sl-cifar-zoo-');
const dataDir = writeCifarFiles(join(root, 'data'), 60, 100);

/** Every CIFAR-10 model of the zoo (docs/algorithm.md#models) with the density its recipe gives it (docs/algorithm.md#recipes). */
const MODELS: readonly [string, number][] = [
  ['wrn-16-8', 0.05],
  ['wrn-16-10', 0.05],
  ['wrn-22-8', 0.05],
  ['wrn-28-2', 0.05],
  ['vgg-c', 0.05],
  ['vgg-d', 0.05],
  ['vgg-like', 0.03],
  ['alexnet-s', 0.1],
  ['alexnet-b', 0.1],
];

// Two training steps of batch 2 (the smallest batch for which every batch norm — AlexNet's BN1d and its 1×1
// BN2d — has a variance) on generated CIFAR-10 files, then validation and test on one batch of 2 each.
// Everything else is the model's default CIFAR-10 recipe: 10 % validation split from the augmented training
// set, crop + flip, dropout (WRN), Sparse Momentum at the recipe's density. The native backend when built
// (the CI builds it), else wasm: these are 1.5–17 M-parameter models on shared CPU cores.
describe('each CIFAR-10 model of the zoo trains two steps with its default recipe', () => {
  for (const [model, density] of MODELS) {
    it(`${model}: 2 steps, validated, checkpointed with masks and BN running statistics, density ${density}`, async () => {
      const out = join(root, model);
      const r = await cli(
        'train',
        ...['--model', model, '--dataset', 'cifar10', '--data-dir', dataDir, '--epochs', '1', '--batch-size', '2'],
        ...['--test-batch-size', '2', '--max-batches', '2', '--max-eval-batches', '1', '--backend', 'auto', '--seed', '3'],
        '--out',
        out,
      );
      expect(r.stderr).not.toContain('error');
      expect(r.code).toBe(0);
      const recorded = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
      expect(recorded.config).toMatchObject({ density, validSplit: 0.1, lr: 0.1, decayFrequency: 30000 });
      const [row] = metricsWithoutTimings(out);
      expect(row.step).toBe(2);
      expect(Number.isFinite(row.trainLoss)).toBe(true);
      expect(Number.isFinite(row.validationLoss)).toBe(true);
      // the initial masks hold the recipe's density of the masked weights (uniform-Bernoulli draw, ±1 %)
      expect(row.density).toBeCloseTo(density, 2);
      const ckpt = await loadCheckpoint(out);
      const info = modelInfo(model);
      const masked = Object.values(ckpt.tensors.masks).reduce((n, m) => n + m.length, 0);
      expect(masked).toBe(info.maskedWeights);
      const buffers = Object.keys(ckpt.tensors.variables).filter((n) => n.endsWith('.running_var'));
      expect(buffers.length).toBeGreaterThan(0);
      expect(Object.keys(ckpt.tensors.variables).filter((n) => n.endsWith('.running_mean'))).toHaveLength(buffers.length);
    }, 600_000); // seconds per model on a loaded 2-core machine; generous (this is not a timing test)
  }
});
