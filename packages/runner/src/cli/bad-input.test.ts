import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listCheckpoints, loadCheckpoint, nodeFsOps, saveCheckpoint, type FsOps } from '@sparse-learning/checkpoint';
import { isSparseLearningError } from '@sparse-learning/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/resolve.js';
import { runExperiment } from '../run/experiment.js';
import { cli, expectSameRun, fixtures, metricsWithoutTimings, tmp, removeTmpDirs } from '../test/run-helpers.js';

afterAll(() => removeTmpDirs());

/**
 * The bad-input catalogue (packages/runner/README.md "Errors"): every entry ends in a coded error that names
 * the bad value and what is valid, and leaves what was written before intact.
 */

/** Every file of a directory with its size and content hash, to prove a failure changed nothing. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isFile()) out[name] = readFileSync(path).toString('base64');
  }
  return out;
}

const QUICK = ['--backend', 'wasm', '--max-batches', '2'];

describe('bad input: ids and numbers (checked before the backend, the data or the disk are touched)', () => {
  it.each([
    [['--dataset', 'imagenet'], 'E_UNKNOWN_ID', "unknown dataset 'imagenet'; valid dataset ids: cifar10, idx, mnist"],
    [['--preset', 'sparse'], 'E_UNKNOWN_ID', "unknown preset 'sparse'; valid preset ids: deep-r, dense, dsr, rigl, set, sparse-momentum, static"],
    [['--model', 'lenet'], 'E_UNKNOWN_ID', "unknown model 'lenet'"],
    [['--prune', 'smallest'], 'E_UNKNOWN_ID', "unknown prune strategy 'smallest'; valid prune strategy ids: adaptive-threshold, global-magnitude, magnitude, set, sign-flip"],
    [['--redistribution', 'even'], 'E_UNKNOWN_ID', "unknown redistribution strategy 'even'"],
    [['--plugin', join(fixtures, 'broken-plugins.mjs'), '--growth', 'nope'], 'E_UNKNOWN_ID', "unknown growth strategy 'nope'; valid growth strategy ids: gradient, momentum, random, throws, wrong-count"],
    [['--plugin', './no-such-plugin.mjs'], 'E_PLUGIN_LOAD', "plugin './no-such-plugin.mjs': file "],
    [['--plugin', join(fixtures, 'not-a-plugin.mjs')], 'E_PLUGIN_LOAD', `plugin '${join(fixtures, 'not-a-plugin.mjs')}' exports no plugin module { name, plugins } as 'default', 'module' or 'plugin' (exports: answer)`],
    [['--density', '0'], 'E_OUT_OF_RANGE', 'density = 0 is out of range; expected 0 < density <= 1 (--density on the command line)'],
    [['--density', '1.5'], 'E_OUT_OF_RANGE', 'density = 1.5 is out of range; expected 0 < density <= 1'],
    [['--prune-rate', '1'], 'E_OUT_OF_RANGE', 'pruneRate = 1 is out of range; expected 0 <= pruneRate < 1'],
    [['--prune-rate', '-0.1'], 'E_OUT_OF_RANGE', 'pruneRate = -0.1 is out of range'],
    [['--lr', '0'], 'E_OUT_OF_RANGE', 'lr = 0 is out of range; expected a finite number lr > 0'],
    [['--lr', '-0.1'], 'E_OUT_OF_RANGE', 'lr = -0.1 is out of range'],
    [['--lr', '1e999'], 'E_CONFIG_INVALID', 'lr = Infinity (--lr on the command line) is invalid: expected a number (a finite number lr > 0)'],
    [['--epochs', '0'], 'E_OUT_OF_RANGE', 'epochs = 0 is out of range; expected an integer >= 1'],
    [['--epochs', '2.5'], 'E_CONFIG_INVALID', 'epochs = 2.5 (--epochs on the command line) is invalid: expected an integer'],
    [['--batch-size', '0'], 'E_OUT_OF_RANGE', 'batchSize = 0 is out of range; expected an integer >= 1'],
    [['--batch-size', 'ten'], 'E_CONFIG_INVALID', "--batch-size = 'ten' is not a number"],
  ])('%j → %s', async (args, code, text) => {
    const out = join(tmp(), 'run');
    const r = await cli('train', ...args, '--out', out, '--backend', 'cpu');
    expect(r.stderr).toContain(`error [${code}] ${text}`);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it('malformed and invalid JSON config files name the file and the problem', async () => {
    const dir = tmp();
    const cases: [string, string, string][] = [
      ['{"density": 0.05,,}', 'E_CONFIG_PARSE', 'is not valid JSON'],
      ['{"density": 0.05', 'E_CONFIG_PARSE', 'is not valid JSON'],
      ['[1, 2]', 'E_CONFIG_INVALID', 'must hold a JSON object of options'],
      ['{"lr": -1}', 'E_OUT_OF_RANGE', 'lr = -1 is out of range; expected a finite number lr > 0 (config file'],
      ['{"densty": 0.05}', 'E_CONFIG_INVALID', "unknown configuration option 'densty'"],
    ];
    for (const [i, [text, code, message]] of cases.entries()) {
      const file = join(dir, `config-${i}.json`);
      writeFileSync(file, text);
      const out = join(dir, `run-${i}`);
      const r = await cli('train', '--config', file, '--out', out);
      expect(r.stderr, text).toContain(`error [${code}]`);
      expect(r.stderr, text).toContain(message);
      expect(r.stderr, text).toContain(file);
      expect(r.code, text).toBe(2);
      expect(existsSync(out), text).toBe(false);
    }
  });
});

describe('bad input: a user plugin that breaks its contract (end to end through the CLI)', () => {
  // Each strategy of the fixture behaves at the first mask update (after epoch 1, step 2) and misbehaves
  // at the second (after epoch 2, step 4): the error names plugin, hook, layer and step, and the first
  // epoch's checkpoint and metrics stay.
  it.each([
    [['--growth', 'wrong-count'], 'E_PLUGIN_CONTRACT', "plugin 'wrong-count', hook 'grow', layer 'fc1.weight', step 4: enabled"],
    [['--redistribution', 'nan-score'], 'E_PLUGIN_CONTRACT', "plugin 'nan-score', hook 'statistic', layer 'fc2.weight', step 4: returned NaN for a layer with"],
    [['--prune', 'wrong-shape'], 'E_PLUGIN_CONTRACT', "plugin 'wrong-shape', hook 'prune', layer 'fc1.weight', step 4: returned a mask of length 235199, expected 235200"],
    [['--growth', 'throws'], 'E_PLUGIN_THREW', "plugin 'throws', hook 'grow', layer 'fc1.weight', step 4 threw: lookup table not initialised"],
  ])('%j → %s', async (args, code, text) => {
    const out = join(tmp(), 'run');
    const r = await cli('train', '--plugin', join(fixtures, 'broken-plugins.mjs'), ...args, '--epochs', '3', ...QUICK, '--out', out);
    expect(r.stderr).toContain(`error [${code}] ${text}`);
    expect(r.stderr).toContain('kept the last good checkpoint checkpoint-e1-s2.slckpt (epoch 1, step 2) and the metrics of 1 epoch');
    expect(r.code).toBe(1);
    expect(metricsWithoutTimings(out)).toHaveLength(1);
    expect((await loadCheckpoint(out)).step).toBe(2);
  });
});

describe('bad input: dataset files (--dataset idx --data-dir)', () => {
  /** An IDX header (big-endian magic and dimensions) followed by `bytes` zero bytes of data. */
  const idx = (magic: number, dims: number[], bytes: number) => {
    const header = Buffer.alloc(4 + 4 * dims.length);
    header.writeUInt32BE(magic, 0);
    dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
    return Buffer.concat([header, Buffer.alloc(bytes)]);
  };
  const write = (dir: string, files: Record<string, Buffer>) => {
    mkdirSync(dir, { recursive: true });
    for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
  };
  const good = () => ({
    'train-images-idx3-ubyte': idx(0x803, [20, 28, 28], 20 * 784),
    'train-labels-idx1-ubyte': idx(0x801, [20], 20),
    't10k-images-idx3-ubyte': idx(0x803, [10, 28, 28], 10 * 784),
    't10k-labels-idx1-ubyte': idx(0x801, [10], 10),
  });

  it.each([
    ['missing files', () => ({}), 'E_DATA_MISSING', 'idx training '],
    ['a corrupt file (wrong magic number)', () => ({ ...good(), 'train-labels-idx1-ubyte': idx(0x803, [20], 20) }), 'E_DATA_CORRUPT', 'train-labels-idx1-ubyte'],
    ['image and label counts that differ', () => ({ ...good(), 'train-labels-idx1-ubyte': idx(0x801, [19], 19) }), 'E_DATA_MISMATCH', "holds 20 images but '"],
    ['a truncated file', () => ({ ...good(), 't10k-images-idx3-ubyte': idx(0x803, [10, 28, 28], 5 * 784) }), 'E_DATA_CORRUPT', 't10k-images-idx3-ubyte'],
  ])('%s', async (_name, files, code, text) => {
    const root = tmp();
    const dataDir = join(root, 'data');
    write(dataDir, files());
    const before = snapshot(dataDir);
    const out = join(root, 'run');
    const r = await cli('train', '--dataset', 'idx', '--data-dir', dataDir, '--backend', 'cpu', '--out', out);
    expect(r.stderr).toContain(`error [${code}]`);
    expect(r.stderr).toContain(text);
    if (code === 'E_DATA_MISSING') expect(r.stderr).toMatch(/idx training (images|labels): none of \[train-(images-idx3|labels-idx1)-ubyte, .*\.gz\] found in directory/);
    expect(r.stderr).not.toContain('checkpoint');
    expect(r.code).toBe(2);
    expect(snapshot(dataDir)).toEqual(before);
    expect(existsSync(join(out, 'config.json'))).toBe(false);
    expect(await listCheckpoints(out)).toEqual([]);
  });
});

describe('bad input: a run that fails part-way keeps what it wrote', () => {
  it('NaN loss (--lr 30): stops with E_NON_FINITE, keeps the last good checkpoint and the earlier epochs', async () => {
    const out = join(tmp(), 'run');
    const r = await cli('train', '--lr', '30', '--epochs', '4', '--backend', 'wasm', '--max-batches', '4', '--out', out);
    expect(r.code).toBe(1);
    const m = /error \[E_NON_FINITE\] training diverged: training loss is (NaN|-?Infinity) at step (\d+) \(epoch (\d+)\).*try a smaller --lr \(it is 30\).* kept the last good checkpoint (checkpoint-e(\d+)-s(\d+)\.slckpt)/.exec(r.stderr);
    expect(m, r.stderr).not.toBeNull();
    const failedEpoch = Number(m![3]);
    expect(failedEpoch).toBeGreaterThanOrEqual(2);
    const ckpt = await loadCheckpoint(out);
    expect(ckpt.path.endsWith(m![4])).toBe(true);
    expect(ckpt.epoch).toBe(failedEpoch - 1);
    expect(metricsWithoutTimings(out)).toHaveLength(failedEpoch - 1);
    for (const values of Object.values(ckpt.tensors.variables)) expect(values.values.every(Number.isFinite)).toBe(true);
    expect(existsSync(join(out, 'results.json'))).toBe(false);
  });

  it('an output directory that cannot be created (its parent is a file): E_WRITE_FAILED, the file untouched', async () => {
    const dir = tmp();
    const file = join(dir, 'results.txt');
    writeFileSync(file, 'earlier results\n');
    const r = await cli('train', '--epochs', '1', ...QUICK, '--out', join(file, 'run'));
    expect(r.stderr).toContain('error [E_WRITE_FAILED] could not create run directory');
    expect(r.stderr).toMatch(/ENOTDIR|EEXIST/);
    expect(r.code).toBe(1);
    expect(readFileSync(file, 'utf8')).toBe('earlier results\n');
  });

  it('a full disk while writing the second checkpoint: E_WRITE_FAILED, the first checkpoint and its metrics intact, no temp file', async () => {
    const out = join(tmp(), 'run');
    // The disk fills up while the second checkpoint file (epoch 2) is being written.
    let checkpointFiles = 0;
    let failingFd = -1;
    const fullDisk: Partial<FsOps> = {
      async open(path, flags, mode) {
        const fd = await nodeFsOps.open(path, flags, mode);
        if (path.includes('checkpoint-e') && ++checkpointFiles === 2) failingFd = fd;
        return fd;
      },
      async write(fd, data) {
        if (fd === failingFd) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        return nodeFsOps.write(fd, data);
      },
    };
    const { config } = resolveConfig({ name: 'test', values: { epochs: 3, maxBatches: 2, backend: 'wasm' } });
    const error = await runExperiment({ config, outDir: out, checkpoint: { fs: fullDisk } }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isSparseLearningError(error, 'E_WRITE_FAILED')).toBe(true);
    expect((error as Error).message).toContain('ENOSPC');
    expect((error as Error).message).toContain('kept the last good checkpoint checkpoint-e1-s2.slckpt (epoch 1, step 2) and the metrics of 1 epoch');
    expect((await loadCheckpoint(out)).step).toBe(2);
    expect(metricsWithoutTimings(out)).toHaveLength(1);
    expect(readdirSync(out).filter((f) => f.includes('tmp'))).toEqual([]);
  });
});

describe('bad input: resuming', () => {
  const root = tmp('sl-bad-resume-');
  const source = join(root, 'source');
  const copy = (name: string) => {
    const dir = join(root, name);
    cpSync(source, dir, { recursive: true });
    return dir;
  };
  beforeAll(async () => {
    const r = await cli('train', '--epochs', '2', '--backend', 'wasm', '--max-batches', '3', '--out', source);
    expect(r.code).toBe(0);
  });

  it('a directory without checkpoint: E_CHECKPOINT_INVALID', async () => {
    const empty = join(root, 'empty');
    mkdirSync(empty);
    const r = await cli('train', '--resume', empty);
    expect(r.stderr).toContain(`error [E_CHECKPOINT_INVALID] cannot resume '${empty}': no checkpoint in`);
    expect(r.code).toBe(2);
    const missing = await cli('train', '--resume', join(root, 'nowhere'));
    expect(missing.stderr).toContain('the path does not exist');
    expect(missing.code).toBe(2);
  });

  it('every checkpoint corrupted or truncated: E_CHECKPOINT_INVALID naming each problem, files untouched', async () => {
    const dir = copy('corrupt');
    const [latest, older] = await listCheckpoints(dir);
    const bytes = readFileSync(latest.path);
    bytes[bytes.length >> 1] ^= 0xff; // a flipped bit in the middle
    writeFileSync(latest.path, bytes);
    truncateSync(older.path, 1000);
    const before = snapshot(dir);
    const r = await cli('train', '--resume', dir);
    expect(r.stderr).toContain('error [E_CHECKPOINT_INVALID]');
    expect(r.stderr).toContain('SHA-256 mismatch');
    expect(r.stderr).toMatch(/truncated/i);
    expect(r.code).toBe(2);
    expect(snapshot(dir)).toEqual(before);
  });

  it('a corrupted latest checkpoint falls back to the previous good one (warning) and still ends identical', async () => {
    const dir = copy('fallback');
    const [latest] = await listCheckpoints(dir);
    truncateSync(latest.path, 4096);
    const r = await cli('train', '--resume', dir);
    expect(r.stderr).toContain('warn latest checkpoint unusable');
    expect(r.stderr).toContain("resuming from the older 'checkpoint-e1-s3.slckpt'");
    expect(r.code).toBe(0);
    await expectSameRun(source, dir);
  });

  it('an incompatible checkpoint (tensor shapes, recorded configuration): E_CHECKPOINT_INCOMPATIBLE listing the differences', async () => {
    const original = await loadCheckpoint(source, {});
    const older = (await listCheckpoints(source))[1];
    const base = await loadCheckpoint(older.path);
    expect(original.epoch).toBe(2);

    const shapes = join(root, 'shapes');
    const fc1 = base.tensors.variables['fc1.weight'];
    await saveCheckpoint(shapes, {
      ...base,
      tensors: { ...base.tensors, variables: { ...base.tensors.variables, 'fc1.weight': { ...fc1, shape: [300, 784] } } },
    });
    const r1 = await cli('train', '--resume', shapes);
    expect(r1.stderr).toContain("error [E_CHECKPOINT_INCOMPATIBLE] checkpoint (epoch 1, step 3) does not match this run: variable 'fc1.weight' has shape [300, 784] in the checkpoint, [784, 300] in the model");
    expect(r1.code).toBe(2);

    const config = join(root, 'config');
    await saveCheckpoint(config, { ...base, config: { ...(base.config as Record<string, never>), preset: 'lottery' } });
    const r2 = await cli('train', '--resume', config);
    expect(r2.stderr).toContain('error [E_CHECKPOINT_INCOMPATIBLE] cannot resume from');
    expect(r2.stderr).toContain("unknown preset 'lottery'");
    expect(r2.code).toBe(2);

    const foreign = join(root, 'foreign');
    await saveCheckpoint(foreign, { ...base, extra: {} });
    const r3 = await cli('train', '--resume', foreign);
    expect(r3.stderr).toContain('was not written by the sparse-learning runner');
    expect(r3.code).toBe(2);
  });

  it('flags that would change the run are rejected; --backend may differ with a warning', async () => {
    const dir = copy('flags');
    const [latest] = await listCheckpoints(dir);
    truncateSync(latest.path, 10); // resume from epoch 1 (not finished)
    const before = snapshot(dir);
    const r = await cli('train', '--resume', dir, '--epochs', '5', '--density', '0.1', '--seed', '17');
    expect(r.stderr).toContain('error [E_CONFIG_INVALID] --resume continues a run with its recorded configuration; these options would change it: --density: 0.1 (recorded: 0.05); --epochs: 5 (recorded: 2)');
    expect(r.code).toBe(2);
    const out = await cli('train', '--resume', dir, '--out', join(root, 'elsewhere'));
    expect(out.stderr).toContain('cannot be combined with --resume');
    expect(out.code).toBe(2);
    const range = await cli('train', '--resume', dir, '--lr', '0');
    expect(range.stderr).toContain('error [E_OUT_OF_RANGE] lr = 0');
    expect(snapshot(dir)).toEqual(before);

    const other = await cli('train', '--resume', dir, '--backend', 'cpu');
    expect(other.stderr).toContain('warn resume: --backend: "cpu" (recorded: "wasm")');
    expect(other.stderr).toContain("resuming on backend 'cpu' but the run was trained on 'wasm'");
    expect(other.code).toBe(0);
  });
});
