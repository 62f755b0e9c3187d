import { totalmem } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadNativeAddon, sparseAddonOf } from '@sparse-learning/backend-native';
import { resolveConfig } from '../config/resolve.js';
import { cli, removeTmpDirs, tmp } from '../test/run-helpers.js';

const built = sparseAddonOf(loadNativeAddon()) !== null;

// Issue 9: how a wide Erdős–Rényi MLP is asked for (er-mlp-<width>, --epsilon, --sparse-state), and the coded
// errors that stop a run before it would allocate a dense form that does not fit.
describe('compact sparse state: configuration', () => {
  afterAll(() => removeTmpDirs());

  it('--epsilon derives the density at which Erdős–Rényi gives ε·(in + out) connections per layer', () => {
    const { config, origins } = resolveConfig({ name: 'flags', values: { model: 'er-mlp-1000', preset: 'set', epsilon: 20 } });
    // fc1 20·1 784 = 35 680, fc2 20·2 000 = 40 000, fc3 dense 10 000 (20·1 010 > 10 000): 85 680 / 1 794 000.
    expect(config.density).toBeCloseTo(85_680 / 1_794_000, 15);
    expect(origins.density).toBe('--epsilon 20');
    expect(() => resolveConfig({ name: 'flags', values: { model: 'er-mlp-1000', preset: 'set', epsilon: 20, density: 0.1 } })).toThrow(
      /E_CONFIG_INVALID.*--epsilon 20 \(flags\): sets the density itself; drop --density 0\.1/,
    );
    expect(() => resolveConfig({ name: 'flags', values: { model: 'lenet5', preset: 'set', epsilon: 20 } })).toThrow(/model 'lenet5' is not one/);
    expect(() => resolveConfig({ name: 'flags', values: { model: 'er-mlp-1000', preset: 'sparse-momentum', epsilon: 20 } })).toThrow(
      /counts Erdős–Rényi connections; --density-distribution is 'uniform-bernoulli'/,
    );
    expect(() => resolveConfig({ name: 'flags', values: { model: 'er-mlp-x' } })).toThrow(/E_UNKNOWN_ID.*er-mlp-<width>/);
  });

  it.skipIf(!built || totalmem() > 2 * 187 * 2 ** 30)('a model whose dense form does not fit fails early with strategies that need dense views, naming the ones that work', async () => {
    const r = await cli('train', '--model', 'er-mlp-100000', '--preset', 'sparse-momentum', '--density-distribution', 'erdos-renyi', '--epsilon', '20', '--execution', 'sparse', '--epochs', '1', '--max-batches', '1', '--backend', 'native', '--out', join(tmp('sl-compact-cfg-'), 'run'));
    expect(r.code).not.toBe(0);
    // 4·(784·10⁵ + 10¹⁰ + 10⁶) bytes = 37.5 GiB; dense views five times that.
    expect(r.stderr).toContain("[E_CONFIG_INVALID] model 'er-mlp-100000' needs 37.5 GiB in dense float32 form: its dense views at a mask update (about 187.7 GiB) do not fit");
    expect(r.stderr).toContain("growth 'momentum', redistribution 'momentum' (they need dense momentum)");
    expect(r.stderr).toContain('Strategies that work at this size: --preset set');
  }, 120_000);

  it('--sparse-state compact refuses models it cannot lay out and masked execution', async () => {
    const cnn = await cli('train', '--model', 'lenet5', '--execution', 'sparse', '--sparse-state', 'compact', '--epochs', '1', '--max-batches', '1', '--out', join(tmp('sl-compact-cfg-'), 'run'));
    expect(cnn.stderr).toContain("[E_CONFIG_INVALID] --sparse-state compact runs ReLU MLPs (lenet300-100, set-mlp, er-mlp-<width>); model 'lenet5' is not one");
    const masked = await cli('train', '--model', 'er-mlp-100', '--sparse-state', 'compact', '--epochs', '1', '--max-batches', '1', '--out', join(tmp('sl-compact-cfg-'), 'run'));
    expect(masked.stderr).toContain('[E_CONFIG_INVALID] --sparse-state compact needs sparse execution');
    // Masked training of a model whose dense form cannot fit stops before allocating it.
    const huge = await cli('train', '--model', 'er-mlp-100000', '--preset', 'set', '--epsilon', '20', '--epochs', '1', '--max-batches', '1', '--out', join(tmp('sl-compact-cfg-'), 'run'));
    expect(huge.stderr).toMatch(/\[E_CONFIG_INVALID\] model 'er-mlp-100000' needs about 122\.\d GiB for masked training .*; train it with --execution sparse/);
    const bad = await cli('train', '--sparse-state', 'sparse', '--out', join(tmp('sl-compact-cfg-'), 'run'));
    expect(bad.stderr).toMatch(/E_CONFIG_INVALID.*sparseState|--sparse-state/);
  }, 120_000);

  it('models --json lists the er-mlp-<width> family', async () => {
    const { code, stdout } = await cli('models', '--json');
    expect(code).toBe(0);
    const rows = JSON.parse(stdout) as { id: string; family?: boolean; example?: string }[];
    expect(rows.at(-1)).toMatchObject({ id: 'er-mlp-<width>', family: true, example: 'er-mlp-100000', dataset: 'mnist' });
  });
});
