import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIGURE_FILE } from './figure.js';
import { extractBlock } from './readme-block.js';
import { RESULTS_README, summarizeResults } from './write-summary.js';

const root = resolve(__dirname, '../../../..');
const results = join(root, 'results');

/**
 * The results files git tracks (so runs the grid driver copied in but nobody committed yet do not count), or
 * null outside a git checkout (then every run on disk counts).
 */
function trackedFiles(): Set<string> | null {
  try {
    const out = execFileSync('git', ['ls-files', '-z', '--', 'results'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return new Set(out.split('\0').filter(Boolean).map((p) => p.replace(/^results\//, '')));
  } catch {
    return null;
  }
}

describe('the committed MNIST tables and figure are what summarize makes of the committed runs', () => {
  it.skipIf(!existsSync(join(results, 'grid-plan.json')))('results/README.md and results/mnist-error-vs-density.svg match `summarize results/`', () => {
    const tracked = trackedFiles();
    const outputs = summarizeResults(results, tracked ? { include: (file) => tracked.has(file) } : {});
    const readme = readFileSync(join(results, RESULTS_README), 'utf8');
    // If this fails: run `sparse-learning summarize results/ --write` and commit the runs with the outputs.
    expect(extractBlock(readme, 'results/README.md')).toBe(outputs.markdown.trim());
    expect(readFileSync(join(results, FIGURE_FILE), 'utf8')).toBe(outputs.svg);
  });
});
