import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ComparisonResult } from '@sparse-learning/runner';
import { describe, expect, it } from 'vitest';
import { PRESETS, compareArgs, compareBaselines } from './compare-baselines.js';

describe('compare-baselines example (smoke)', () => {
  it('quick mode compares the four methods and writes the table and the report', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'sl-example-')), 'cmp');
    // Even smaller than `quick` for CI time: 2 batches, 1 seed, in this process, wasm.
    const code = await compareBaselines('quick', out, ['--max-batches', '2', '--seeds', '1', '--jobs', '1', '--backend', 'wasm']);
    expect(code).toBe(0);
    const result = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as ComparisonResult;
    expect(result.rows.map((r) => r.preset)).toEqual([...PRESETS]);
    expect(result.rows.every((r) => r.testError.n === 1)).toBe(true);
    expect(readFileSync(join(out, 'compare.md'), 'utf8')).toContain('| deep-r | 0.05 | 1 |');
    expect(existsSync(join(out, 'report.html'))).toBe(true);
  });

  it('full mode is the paper recipe: 100 epochs, densities 1 % and 5 %, 5 seeds', () => {
    const args = compareArgs('full', 'x');
    expect(args.join(' ')).toContain('--densities 0.01,0.05 --seeds 5 --epochs 100');
    expect(args).not.toContain('--max-batches');
  });
});
