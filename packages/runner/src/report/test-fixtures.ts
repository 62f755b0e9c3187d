import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EpochMetrics, RunResults } from '../run/metrics.js';

/** Test fixtures shared by the report tests: a three-epoch run directory with metrics and results. */
export function metricsLine(epoch: number): EpochMetrics {
  return {
    epoch,
    step: epoch * 10,
    trainLoss: 1 / epoch,
    validationLoss: 0.5,
    validationAccuracy: 0.9 + epoch / 100,
    testLoss: 0.5,
    testAccuracy: 0.89 + epoch / 100,
    learningRate: 0.1,
    pruneRate: 0.5 / epoch,
    totalActive: 100,
    density: 0.05,
    layers: [
      { name: 'fc1.weight', size: 1000, active: 40 + epoch, density: (40 + epoch) / 1000 },
      { name: 'fc2.weight', size: 100, active: 60 - epoch, density: (60 - epoch) / 100 },
    ],
    maskUpdates: epoch < 3 ? 1 : 0,
    redistribution: epoch < 3 ? [{ name: 'fc1.weight', share: 0.3, removed: 5, regrown: 4 }, { name: 'fc2.weight', share: 0.7, removed: 2, regrown: 3 }] : null,
    epochSeconds: 1.5,
  };
}

export function writeRun(dir: string, testError: number): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'metrics.jsonl'), `${[1, 2, 3].map((e) => JSON.stringify(metricsLine(e))).join('\n')}\n`);
  const results: Partial<RunResults> = { preset: 'sparse-momentum', model: 'lenet300-100', density: 0.05, seed: 17, testError, testAccuracy: 1 - testError, backend: { name: 'wasm', reason: 'test' }, seconds: 3, finalDensity: 0.05, trainLoss: 0.3, validationAccuracy: 0.93 };
  writeFileSync(join(dir, 'results.json'), JSON.stringify(results));
}
