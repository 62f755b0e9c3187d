import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ComparisonResult } from '../compare/compare.js';
import { summarize } from '../compare/statistics.js';
import type { RunResults } from '../run/metrics.js';
import { readMetrics } from '../run/run-directory.js';
import { cli, cliSource, fixtures, repoRoot, tmp as makeTmp } from '../test/run-helpers.js';

const tmp = () => makeTmp('sl-cli-');

describe('sparse-learning CLI (in-process)', () => {
  it('train: Sparse Momentum on LeNet-300-100 / MNIST by default, writes the run directory and records the backend', async () => {
    const out = join(tmp(), 'run');
    const { code, stdout, stderr } = await cli('train', '--epochs', '2', '--max-batches', '3', '--backend', 'wasm', '--out', out);
    expect(stderr).not.toContain('error');
    expect(code).toBe(0);
    expect(stdout).toContain('sparse-momentum · lenet300-100 on mnist · density 0.05 · seed 17');
    expect(stdout).toMatch(/backend: wasm — wasm as requested/);
    expect(stdout).toMatch(/test error \d+\.\d\d %/);
    // progress (not a terminal here: plain epoch lines) goes to stderr, results to stdout
    expect(stderr).toContain('epoch 2/2  loss');
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.config).toMatchObject({ preset: 'sparse-momentum', model: 'lenet300-100', density: 0.05, maxBatches: 3, epochs: 2 });
    expect(config.origins.maxBatches).toBe('command line');
    expect(config.backend.name).toBe('wasm');
    expect(config.backend.reason).toContain('wasm');
    const metrics = readMetrics(out);
    expect(metrics).toHaveLength(2);
    expect(Object.keys(metrics[0])).toEqual(
      expect.arrayContaining(['trainLoss', 'validationAccuracy', 'testAccuracy', 'learningRate', 'pruneRate', 'layers', 'epochSeconds', 'density']),
    );
    expect(metrics[0].layers.map((l) => l.name)).toEqual(['fc1.weight', 'fc2.weight', 'fc3.weight']);
    // cosine prune rate over T = 2 × 3 steps: p(3) = 0.005 + 0.495 · (1 + cos(π/2)) / 2
    expect(metrics[0].pruneRate).toBeCloseTo(0.2525, 12);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as RunResults;
    expect(results.testError).toBeCloseTo(1 - metrics[1].testAccuracy, 12);
    expect(results.maskedWeights).toBe(266_200);
    expect(existsSync(join(out, 'run.log'))).toBe(true);
  });

  it('train loads a plugin by path and trains with its growth strategy', async () => {
    const out = join(tmp(), 'plugin-run');
    const plugin = join(fixtures, 'first-zeros-growth-plugin.mjs');
    const { code, stderr } = await cli('train', '--plugin', plugin, '--growth', 'first-zeros', '--epochs', '2', '--max-batches', '2', '--backend', 'wasm', '--out', out);
    expect(stderr).not.toContain('error');
    expect(code).toBe(0);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.config.growth).toBe('first-zeros');
    expect(config.plugins[0].resolved).toBe(plugin);
    expect(readMetrics(out)[0].maskUpdates).toBe(1);
  });

  it('bad input ends with a coded error, exit code 2 and no run directory', async () => {
    const dir = tmp();
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"density": 0.05,,}');
    const unknownKey = join(dir, 'unknown.json');
    writeFileSync(unknownKey, '{"densty": 0.05}');
    const cases: [string[], string, string][] = [
      [['--density', '0'], 'E_OUT_OF_RANGE', 'density = 0 is out of range; expected 0 < density <= 1 (--density on the command line)'],
      [['--prune-rate', '1.5'], 'E_OUT_OF_RANGE', '0 <= pruneRate < 1'],
      [['--epochs', '0'], 'E_OUT_OF_RANGE', 'epochs = 0'],
      [['--density', 'abc'], 'E_CONFIG_INVALID', "--density = 'abc' is not a number"],
      [['--preset', 'sparse'], 'E_UNKNOWN_ID', 'valid preset ids: deep-r, dense, dsr, rigl, set, sparse-momentum, static'],
      [['--model', 'lenet'], 'E_UNKNOWN_ID', 'lenet300-100'],
      [['--growth', 'nope'], 'E_UNKNOWN_ID', 'valid growth strategy ids: gradient, momentum, random'],
      [['--optimizer', 'rmsprop'], 'E_UNKNOWN_ID', 'adam, sgd'],
      [['--config', bad], 'E_CONFIG_PARSE', 'bad.json is not valid JSON'],
      [['--config', unknownKey], 'E_CONFIG_INVALID', "unknown configuration option 'densty'"],
      [['--plugin', './nowhere.mjs'], 'E_PLUGIN_LOAD', 'nowhere.mjs'],
    ];
    for (const [args, code, text] of cases) {
      const out = join(dir, `run-${code}-${args[0]}`);
      const result = await cli('train', ...args, '--out', out, '--backend', 'cpu');
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toContain(`[${code}]`);
      expect(result.stderr, args.join(' ')).toContain(text);
      expect(existsSync(out), args.join(' ')).toBe(false);
    }
    const unknownOption = await cli('train', '--densty', '0.1');
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toContain("unknown option '--densty'");
    const compare = await cli('compare', '--densities', '0.05,x');
    expect(compare.code).toBe(2);
    expect(compare.stderr).toContain("[E_CONFIG_INVALID] --densities: 'x' is not a number");
  });

  it('models --json lists id, masked weights and total parameters', async () => {
    const { code, stdout } = await cli('models', '--json');
    expect(code).toBe(0);
    const models = JSON.parse(stdout) as { id: string; maskedWeights: number; totalParameters: number }[];
    expect(models.find((m) => m.id === 'lenet300-100')).toMatchObject({ maskedWeights: 266_200, totalParameters: 266_610 });
    expect(models.find((m) => m.id === 'wrn-28-2')).toMatchObject({ maskedWeights: 1_463_984, totalParameters: 1_467_610 });
    const presets = await cli('presets');
    expect(presets.stdout).toContain('deep-r');
    const datasets = await cli('datasets', '--json');
    expect(JSON.parse(datasets.stdout).map((d: { id: string }) => d.id)).toEqual(['mnist', 'idx', 'cifar10']);
  });

  it('compare runs presets × densities × seeds in worker processes, summarises mean ± SE, and report draws it', async () => {
    const out = join(tmp(), 'cmp');
    const { code, stdout, stderr } = await cli(
      'compare', '--presets', 'sparse-momentum,dense', '--densities', '0.05', '--seeds', '2',
      '--epochs', '1', '--max-batches', '2', '--backend', 'wasm', '--jobs', '2', '--out', out,
    );
    expect(stderr).not.toContain('FAILED');
    expect(code).toBe(0);
    expect(stdout).toContain('comparison: 4 runs on 2 worker processes');
    const result = JSON.parse(readFileSync(join(out, 'compare.json'), 'utf8')) as ComparisonResult;
    expect(result.rows.map((r) => [r.preset, r.density, r.testError.n])).toEqual([
      ['sparse-momentum', 0.05, 2],
      ['dense', 1, 2],
    ]);
    for (const row of result.rows) {
      const errors = result.runs.filter((r) => r.preset === row.preset).map((r) => r.results!.testError);
      const expected = summarize(errors);
      expect(row.testError.mean).toBeCloseTo(expected.mean, 12);
      expect(row.testError.se).toBeCloseTo(expected.se!, 12);
      expect(row.testError.ci95![1]).toBeCloseTo(expected.mean + 1.96 * expected.se!, 12);
    }
    expect(result.seeds).toEqual([17, 18]);
    const markdown = readFileSync(join(out, 'compare.md'), 'utf8');
    expect(markdown).toContain('| preset | density | n | test error (%) | ± SE | 95 % interval |');
    expect(markdown).toMatch(/\| dense \| 1 \| 2 \| \d+\.\d\d \|/);
    for (const run of result.runs) expect(existsSync(join(out, run.dir, 'metrics.jsonl'))).toBe(true);

    const report = await cli('report', out);
    expect(report.code).toBe(0);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    for (const id of ['comparison', 'comparison-curves', 'learning-0', 'density-0', 'shares-0', 'learning-1']) {
      expect(html).toContain(`<canvas id="${id}">`);
    }
  });
});

describe('sparse-learning executable (spawned through tsx)', () => {
  it('presets --json exits 0; an unknown command exits non-zero', () => {
    const cliPath = cliSource;
    const ok = spawnSync('npx', ['tsx', cliPath, 'presets', '--json'], { cwd: repoRoot, encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).map((p: { id: string }) => p.id)).toEqual(['sparse-momentum', 'set', 'deep-r', 'dsr', 'dense', 'static', 'rigl']);
    const bad = spawnSync('npx', ['tsx', cliPath, 'trian'], { cwd: repoRoot, encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("unknown command 'trian'");
  });
});
