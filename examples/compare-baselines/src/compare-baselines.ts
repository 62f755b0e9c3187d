/**
 * Sparse Momentum vs SET vs DeepR vs dense on MNIST LeNet-300-100 (the comparison of the paper's §5.2 /
 * docs/algorithm.md#published-numbers table, on the paper's MNIST recipe).
 *
 *   npx tsx examples/compare-baselines/src/compare-baselines.ts quick [extra flags]
 *   npx tsx examples/compare-baselines/src/compare-baselines.ts full  [extra flags]
 *
 * `quick` (what CI runs): 1 epoch of at most 20 mini-batches, 2 seeds, density 0.05 — minutes, only checks
 * that everything composes and produces the table. `full`: the paper's recipe (100 epochs, batch 100),
 * densities 0.01 and 0.05, 5 seeds — many CPU hours; use `--jobs` and `--backend` to fit your machine.
 * Extra flags are passed to `sparse-learning compare` and win over the mode's.
 */
import { fileURLToPath } from 'node:url';
import { main } from '@sparse-learning/runner';

/** The presets compared. */
export const PRESETS = ['sparse-momentum', 'set', 'deep-r', 'dense'] as const;

/** `sparse-learning compare` arguments of a mode. */
export function compareArgs(mode: 'quick' | 'full', out: string, extra: readonly string[] = []): string[] {
  const common = ['compare', '--presets', PRESETS.join(','), '--model', 'lenet300-100', '--dataset', 'mnist', '--out', out];
  const budget =
    mode === 'quick'
      ? ['--densities', '0.05', '--seeds', '2', '--epochs', '1', '--max-batches', '20']
      : ['--densities', '0.01,0.05', '--seeds', '5', '--epochs', '100'];
  return [...common, ...budget, ...extra];
}

/** Runs the comparison, then writes `report.html` next to `compare.md`; resolves to the exit code. */
export async function compareBaselines(mode: 'quick' | 'full', out: string, extra: readonly string[] = []): Promise<number> {
  const code = await main(['node', 'compare-baselines', ...compareArgs(mode, out, extra)]);
  if (code !== 0) return code;
  return main(['node', 'compare-baselines', 'report', out]);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [mode = 'quick', ...extra] = process.argv.slice(2);
  if (mode !== 'quick' && mode !== 'full') {
    process.stderr.write(`usage: compare-baselines quick|full [sparse-learning compare flags]\n`);
    process.exitCode = 2;
  } else {
    const out = `runs/compare-baselines-${mode}`;
    compareBaselines(mode, out, extra).then((code) => {
      process.exitCode = code;
    });
  }
}
