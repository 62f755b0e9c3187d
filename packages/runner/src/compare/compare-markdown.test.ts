import { describe, expect, it } from 'vitest';
import { comparisonMarkdown, type ComparisonResult } from './compare.js';
import { summarize } from './statistics.js';

/** A comparison with one preset run over two seeds and one over a single seed. */
function comparison(): ComparisonResult {
  const row = (preset: string, errors: number[]) => ({
    preset,
    density: 0.05,
    testError: summarize(errors),
    testAccuracy: summarize(errors.map((e) => 1 - e)),
    seconds: summarize(errors.map(() => 10)),
    failed: 0,
  });
  return {
    model: 'lenet300-100',
    dataset: 'mnist',
    presets: ['sparse-momentum', 'set'],
    densities: [0.05],
    seeds: [17, 18],
    epochs: 1,
    maxBatches: 5,
    backends: ['cpu'],
    rows: [row('sparse-momentum', [0.02, 0.03]), row('set', [0.04])],
    runs: [],
    command: null,
    createdAt: '2026-12-06T00:00:00.000Z',
    seconds: 1,
  };
}

describe('compare.md', () => {
  it('shows SE and the interval for n = 2 and neither (a dash, not ± 0) for n = 1', () => {
    const lines = comparisonMarkdown(comparison()).split('\n');
    // n = 2: mean 2.5 %, SE = |0.02 − 0.03| / 2 = 0.5 %, interval 2.5 ± 0.98
    expect(lines).toContain('| sparse-momentum | 0.05 | 2 | 2.50 | 0.50 | [1.52, 3.48] | 10.0 |');
    expect(lines).toContain('| set | 0.05 | 1 | 4.00 | — | — | 10.0 |');
    expect(lines.join('\n')).not.toMatch(/\| 0\.00 \| \[4\.00, 4\.00\]/);
  });
});
