import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureTfBackend, liveTensors } from '@sparse-learning/testing';
import { listGoldenFiles, runGoldenCase, runGoldenFile } from './run-directory.js';
import { loadMaskUpdateCase } from './schemas.js';
import { runMaskUpdateGolden } from './mask-update-golden.js';

// The reference cases are vendored in `packages/golden/cases` (a copy of the project's `shared/golden`);
// the env var points the same checks at another directory.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const goldenDir = process.env.SPARSE_LEARNING_GOLDEN_DIR ?? path.resolve(repoRoot, 'packages/golden/cases');
const files = existsSync(goldenDir) ? listGoldenFiles(goldenDir) : [];

describe(`golden cases in ${goldenDir}`, () => {
  beforeAll(ensureTfBackend);

  it('finds the public cases (14 mask-update, 4 optimizer, 5 schedule)', () => {
    expect(existsSync(goldenDir), `${goldenDir} does not exist`).toBe(true);
    const count = (sub: string) => files.filter((f) => f.includes(`${path.sep}${sub}${path.sep}`)).length;
    if (process.env.SPARSE_LEARNING_GOLDEN_DIR === undefined) {
      expect([count('mask-update'), count('optimizer'), count('schedule')]).toEqual([14, 4, 5]);
    } else {
      expect(files.length).toBeGreaterThan(0);
    }
  });

  for (const file of files) {
    it(path.relative(goldenDir, file), () => {
      const before = liveTensors();
      const result = runGoldenFile(file);
      expect(result.mismatches).toEqual([]);
      expect(result.passed).toBe(true);
      expect(liveTensors()).toBe(before);
    });
  }
});

describe('golden runner', () => {
  const first = files.find((f) => f.includes('mask-update'));

  it.skipIf(!first)('detects a changed expectation (a flipped mask bit, a wrong count)', () => {
    const json = JSON.parse(readFileSync(first as string, 'utf8'));
    json.expected.layers[0].mask[0] = 1 - json.expected.layers[0].mask[0];
    json.expected.totalNonzero += 1;
    const result = runMaskUpdateGolden(json);
    expect(result.passed).toBe(false);
    expect(result.mismatches.some((m) => m.includes('.mask[0]'))).toBe(true);
    expect(result.mismatches.some((m) => m.startsWith('totalNonzero'))).toBe(true);
  });

  it('reports a corrupt or unknown case as a failure, not a crash', () => {
    expect(runGoldenCase({ schema: 'nope', name: 'x' }).passed).toBe(false);
    const broken = runGoldenCase({ schema: 'sparse-learning/mask-update-golden@1', name: 'x', config: {} });
    expect(broken.passed).toBe(false);
    expect(broken.mismatches[0]).toContain('E_DATA_CORRUPT');
  });

  it('validates the layer sizes against the shapes', () => {
    expect(() =>
      loadMaskUpdateCase({
        schema: 'sparse-learning/mask-update-golden@1',
        name: 'x',
        config: { prune: 'magnitude', growth: 'momentum', redistribution: 'momentum', pruneRate: 0.5, baselineNonzero: 1, adjustedGrowth: 0, adjustments: [] },
        layers: [{ name: 'a', shape: [2, 2], weight: [1, 2, 3], mask: [1, 0, 1, 0], momentum: [1, 1, 1, 1] }],
        expected: { layers: [] },
      }),
    ).toThrow(/layers\[0\]\.weight: expected 4 entries/);
  });
});
