import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listCheckpoints, loadCheckpoint } from '@sparse-learning/checkpoint';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RUN_LOCK_DIR, RUN_LOCK_OWNER, acquireRunLock } from '../run/run-lock.js';
import { cli, fixtures, removeTmpDirs, spawnCli, tmp, waitForFile } from '../test/run-helpers.js';
import { internalErrorMessage } from './errors.js';

afterAll(() => removeTmpDirs());

/**
 * Issue 11, "nothing lost, nothing silent": every everyday mistake that used to destroy a run or pass
 * silently ends in a coded error (or a recorded warning) and leaves every file as it was.
 */

const QUICK = ['--backend', 'wasm', '--max-batches', '2'];

/** Every file of a directory (recursively) with its content, to prove a refusal changed nothing. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (at: string, prefix: string) => {
    for (const name of readdirSync(at).sort()) {
      const path = join(at, name);
      if (statSync(path).isDirectory()) walk(path, `${prefix}${name}/`);
      else out[`${prefix}${name}`] = readFileSync(path).toString('base64');
    }
  };
  walk(dir, '');
  return out;
}

const readJsonFile = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

describe('run directories are never clobbered (E_RUN_EXISTS; --force replaces only its own files)', () => {
  const root = tmp('sl-clobber-');
  const run = join(root, 'run');
  beforeAll(async () => {
    const r = await cli('train', '--epochs', '2', ...QUICK, '--out', run);
    expect(r.code, r.stderr).toBe(0);
  });

  it('train into a directory that holds a run (a forgotten --resume) refuses and changes nothing', async () => {
    const before = snapshot(run);
    const r = await cli('train', '--epochs', '1', ...QUICK, '--out', run);
    expect(r.stderr).toContain(`error [E_RUN_EXISTS] '${run}' already holds a run (`);
    expect(r.stderr).toContain('2 checkpoints): nothing was written');
    expect(r.stderr).toContain(`continue that run with \`sparse-learning train --resume ${run}\``);
    expect(r.stderr).toContain('pass --force');
    expect(r.code).toBe(2);
    expect(snapshot(run)).toEqual(before);
  });

  it("a non-empty directory that holds no run, and --out '', are refused too", async () => {
    const notes = join(root, 'notes');
    mkdirSync(notes);
    writeFileSync(join(notes, 'todo.txt'), 'mine\n');
    const r = await cli('train', '--epochs', '1', ...QUICK, '--out', notes);
    expect(r.stderr).toContain(`error [E_RUN_EXISTS] '${notes}' is not empty (todo.txt): nothing was written`);
    expect(r.code).toBe(2);
    expect(readdirSync(notes)).toEqual(['todo.txt']);

    const empty = await cli('train', '--epochs', '1', ...QUICK, '--out', '');
    expect(empty.stderr).toContain("error [E_CONFIG_INVALID] --out '' names no directory");
    expect(empty.code).toBe(2);

    const compare = await cli('compare', '--presets', 'dense', '--seeds', '1', '--jobs', '1', '--epochs', '1', ...QUICK, '--out', notes);
    expect(compare.stderr).toContain(`error [E_RUN_EXISTS] '${notes}' is not empty (todo.txt)`);
    expect(compare.code).toBe(2);
    expect(readdirSync(notes)).toEqual(['todo.txt']);
  });

  it("--force (alias --overwrite) replaces the earlier run's own files and keeps every other file", async () => {
    writeFileSync(join(run, 'notes.txt'), 'my notes\n');
    mkdirSync(join(run, 'plots'));
    writeFileSync(join(run, 'plots', 'a.svg'), '<svg/>');
    const r = await cli('train', '--epochs', '1', ...QUICK, '--out', run, '--overwrite');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`warn --force: replaced the earlier run's files in '${run}': `);
    expect(readFileSync(join(run, 'notes.txt'), 'utf8')).toBe('my notes\n');
    expect(readFileSync(join(run, 'plots', 'a.svg'), 'utf8')).toBe('<svg/>');
    expect((await listCheckpoints(run)).map((c) => c.file)).toEqual(['checkpoint-e1-s2.slckpt']);
    expect((readJsonFile(join(run, 'config.json')).config as { epochs: number }).epochs).toBe(1);
    // The log is the new run's alone.
    expect(readFileSync(join(run, 'run.log'), 'utf8').match(/info training /g)).toHaveLength(1);
  });
});

describe('one writer per run directory, and run.log survives a crash', () => {
  it('a second train / --resume / export fails fast naming the holder; after kill -9 the lock is reclaimed and the log continues', async () => {
    const dir = join(tmp(), 'run');
    const child = spawnCli(['train', '--epochs', '3', ...QUICK, '--out', dir], { SPARSE_LEARNING_HOLD_AT_STEP: '3' });
    await waitForFile(join(dir, '.hold'), child);
    const pid = child.child.pid!;
    // The first epoch is in run.log while the run is still alive (appended and synced per epoch).
    const during = readFileSync(join(dir, 'run.log'), 'utf8');
    expect(during).toMatch(/info epoch 1\/3 loss /);
    expect(readJsonFile(join(dir, RUN_LOCK_OWNER))).toMatchObject({ pid, command: 'train' });

    for (const args of [['train', '--resume', dir], ['export', dir], ['train', '--epochs', '1', ...QUICK, '--out', dir]]) {
      const r = await cli(...args);
      expect(r.stderr, args.join(' ')).toContain(`error [E_RUN_LOCKED] run directory '${dir}' is in use by process ${pid} (train, since `);
      expect(r.code, args.join(' ')).toBe(1);
    }
    expect(existsSync(join(dir, 'model.slsparse'))).toBe(false);

    child.child.kill('SIGKILL');
    await child.exited;
    // A dead process cannot release its lock: the next one reclaims it.
    expect(existsSync(join(dir, RUN_LOCK_DIR))).toBe(true);
    const logBefore = readFileSync(join(dir, 'run.log'), 'utf8');
    const r = await cli('train', '--resume', dir);
    expect(r.stderr).toContain(`warn reclaiming the lock of run directory '${dir}': process ${pid} no longer runs`);
    expect(r.code, r.stderr).toBe(0);
    const log = readFileSync(join(dir, 'run.log'), 'utf8');
    expect(log.startsWith(logBefore)).toBe(true);
    expect(log).toContain('info resumed from checkpoint-e1-s2.slckpt');
    expect(log).toMatch(/info epoch 3\/3 loss /);
    expect(existsSync(join(dir, RUN_LOCK_DIR))).toBe(false);
    expect(existsSync(join(dir, RUN_LOCK_OWNER))).toBe(false);
  });

  it('a second comparison into a directory a comparison is using fails before any run starts', async () => {
    const dir = tmp();
    const held = await acquireRunLock(dir, 'compare');
    const r = await cli('compare', '--presets', 'dense', '--seeds', '1', '--jobs', '1', '--epochs', '1', ...QUICK, '--out', dir);
    expect(r.stderr).toContain(`error [E_RUN_LOCKED] run directory '${dir}' is in use by process ${process.pid} (compare, since `);
    expect(r.code).toBe(1);
    expect(readdirSync(dir).filter((name) => !name.startsWith('.sparse-learning.lock'))).toEqual([]);
    await held.release();
  });

  it('the lock is exclusive within a process too, and free again once released', async () => {
    const dir = tmp();
    const first = await acquireRunLock(dir, 'train');
    const second = await acquireRunLock(dir, 'export').then(
      () => null,
      (e: unknown) => e as Error & { code: string; details: { pid: number } },
    );
    expect(second?.code).toBe('E_RUN_LOCKED');
    expect(second?.details.pid).toBe(process.pid);
    await first.release();
    const third = await acquireRunLock(dir, 'export');
    await third.release();
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('resume and export check the run identity', () => {
  const root = tmp('sl-identity-');
  const a = join(root, 'a');
  const b = join(root, 'b');
  const copy = (from: string, name: string) => {
    const dir = join(root, name);
    cpSync(from, dir, { recursive: true });
    return dir;
  };
  beforeAll(async () => {
    for (const [dir, density] of [
      [a, '0.05'],
      [b, '0.1'],
    ]) {
      const r = await cli('train', '--epochs', '2', ...QUICK, '--density', density, '--out', dir);
      expect(r.code, r.stderr).toBe(0);
    }
  });

  it('every checkpoint records the configuration hash that config.json records', async () => {
    const hashA = readJsonFile(join(a, 'config.json')).configHash as string;
    expect(hashA).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(((await loadCheckpoint(a)).extra as { configHash: string }).configHash).toBe(hashA);
    expect(readJsonFile(join(b, 'config.json')).configHash).not.toBe(hashA);
  });

  it("a directory whose checkpoints belong to another run: --resume and export refuse, naming what differs", async () => {
    const mixed = copy(a, 'mixed');
    for (const c of await listCheckpoints(mixed)) rmSync(c.path);
    for (const c of await listCheckpoints(b)) cpSync(c.path, join(mixed, c.file));
    cpSync(join(b, 'latest.json'), join(mixed, 'latest.json'));
    const before = snapshot(mixed);
    for (const args of [['train', '--resume', mixed], ['export', mixed]]) {
      const r = await cli(...args);
      expect(r.stderr, args[0]).toContain('error [E_CHECKPOINT_INCOMPATIBLE] cannot resume from');
      expect(r.stderr, args[0]).toContain("it belongs to another run: its configuration (sha256:");
      expect(r.stderr, args[0]).toContain('in density: 0.05 vs 0.1');
      expect(r.code, args[0]).toBe(2);
    }
    expect(snapshot(mixed)).toEqual(before);
  });

  it('export of a finished run whose final checkpoint is corrupt fails; --allow-older-checkpoint exports the older one', async () => {
    const dir = copy(a, 'corrupt');
    const [final] = await listCheckpoints(dir);
    const bytes = readFileSync(final.path);
    bytes[bytes.length >> 1] ^= 0xff;
    writeFileSync(final.path, bytes);
    const r = await cli('export', dir);
    expect(r.stderr).toContain(`error [E_CHECKPOINT_INVALID] the newest checkpoint of '${dir}' (step 4) is unusable (latest checkpoint unusable`);
    expect(r.stderr).toContain("not exporting the older '");
    expect(r.stderr).toContain('(epoch 1 of 2, step 2) without --allow-older-checkpoint');
    expect(r.code).toBe(2);
    expect(existsSync(join(dir, 'model.slsparse'))).toBe(false);
    // --out never overwrites a file that is not a sparse export (nor a directory).
    writeFileSync(join(root, 'notes.txt'), 'mine\n');
    const target = await cli('export', dir, '--allow-older-checkpoint', '--out', join(root, 'notes.txt'));
    expect(target.stderr).toContain(`error [E_CONFIG_INVALID] export would overwrite '${join(root, 'notes.txt')}', which is not a sparse model export`);
    expect(target.code).toBe(2);
    expect(readFileSync(join(root, 'notes.txt'), 'utf8')).toBe('mine\n');
    const older = await cli('export', dir, '--allow-older-checkpoint');
    expect(older.code, older.stderr).toBe(0);
    expect(older.stdout).toContain('exported lenet300-100 (epoch 1/2, run not finished');
    expect(older.stderr).toContain('exporting the older checkpoint of epoch 1, step 2 (--allow-older-checkpoint)');
    // Its own earlier export is replaced.
    expect((await cli('export', dir, '--allow-older-checkpoint')).code).toBe(0);
  });

  it('a malformed config.json: --resume and report stop with E_DATA_CORRUPT naming the file', async () => {
    const dir = copy(a, 'badconfig');
    writeFileSync(join(dir, 'config.json'), '{"config": {"preset": "sparse-mo');
    for (const args of [['train', '--resume', dir], ['report', dir]]) {
      const r = await cli(...args);
      expect(r.stderr, args[0]).toContain(`error [E_DATA_CORRUPT] '${join(dir, 'config.json')}' is not valid JSON (`);
      expect(r.stderr, args[0]).not.toMatch(/\n\s+at /);
      expect(r.code, args[0]).toBe(2);
    }
  });

  it('report: a truncated last metrics line is skipped with a warning; any other bad line, or a file, is a coded error', async () => {
    const dir = copy(a, 'metrics');
    appendFileSync(join(dir, 'metrics.jsonl'), '{"epoch":3,"step":6,"trainLo');
    const ok = await cli('report', dir);
    expect(ok.stderr).toContain(`warn skipped the truncated last line 3 of '${join(dir, 'metrics.jsonl')}'`);
    expect(ok.stderr).toContain('2 epochs read');
    expect(ok.code).toBe(0);
    expect(existsSync(join(dir, 'report.html'))).toBe(true);

    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').split('\n');
    writeFileSync(join(dir, 'metrics.jsonl'), [lines[0].slice(0, 40), lines[1], ''].join('\n'));
    const bad = await cli('report', dir);
    expect(bad.stderr).toContain(`error [E_DATA_CORRUPT] '${join(dir, 'metrics.jsonl')}' line 1 is not valid JSON`);
    expect(bad.code).toBe(2);

    writeFileSync(join(dir, 'metrics.jsonl'), `{"epoch":1}\n${lines[1]}\n`);
    const shape = await cli('report', dir);
    expect(shape.stderr).toContain("line 1 is not an epoch record (it needs a numeric 'epoch' and a 'layers' list)");
    expect(shape.code).toBe(2);

    const file = await cli('report', join(dir, 'results.json'));
    expect(file.stderr).toContain(`error [E_DATA_MISSING] '${join(dir, 'results.json')}' is a file; report takes a run directory`);
    expect(file.code).toBe(2);
  });
});

describe('coded errors everywhere, no stack traces', () => {
  it('--config naming a directory is E_CONFIG_INVALID', async () => {
    const dir = tmp();
    const r = await cli('train', '--config', dir);
    expect(r.stderr).toContain(`error [E_CONFIG_INVALID] config file '${dir}' is a directory; --config takes a JSON file of options`);
    expect(r.code).toBe(2);
  });

  it('CLI parse errors (unknown option, missing value, unknown command) carry E_USAGE and exit 2', async () => {
    const cases: [string[], string][] = [
      [['train', '--densty', '0.1'], "error [E_USAGE] unknown option '--densty'"],
      [['train', '--out'], "error [E_USAGE] option '--out <dir>' argument missing"],
      [['trian'], "error [E_USAGE] unknown command 'trian'"],
      [['report'], "error [E_USAGE] missing required argument 'dir'"],
    ];
    for (const [args, text] of cases) {
      const r = await cli(...args);
      expect(r.stderr, args.join(' ')).toContain(text);
      expect(r.code, args.join(' ')).toBe(2);
    }
  });

  it("a plugin that reuses a built-in id gets a coded error naming the id and its owner, before anything is written", async () => {
    const out = join(tmp(), 'run');
    const r = await cli('train', '--plugin', join(fixtures, 'id-clash-plugin.mjs'), '--epochs', '1', ...QUICK, '--out', out);
    expect(r.stderr).toMatch(/error \[E_PLUGIN_LOAD\] .*growth strategy id 'momentum' is already registered by .*builtin.*; choose another id/);
    expect(r.code).toBe(2);
    expect(existsSync(out)).toBe(false);
  });

  it('an unexpected (uncoded) error prints E_INTERNAL and its message, not a stack trace', () => {
    const line = internalErrorMessage(new TypeError("Cannot read properties of undefined (reading 'x')"));
    expect(line).toBe(
      "[E_INTERNAL] Cannot read properties of undefined (reading 'x') (an unexpected error, probably a bug: please report it; SPARSE_LEARNING_DEBUG=1 prints its stack trace)",
    );
  });
});

describe('contradictions are reported', () => {
  it('--preset dense --density 0.05: a printed warning, recorded in config.json with the class count', async () => {
    const dir = join(tmp(), 'dense');
    const r = await cli('train', '--preset', 'dense', '--density', '0.05', '--epochs', '1', ...QUICK, '--out', dir);
    const warning = '--preset dense trains every weight: density 0.05 (--density on the command line) is ignored and the run is recorded with density 1';
    expect(r.stderr).toContain(`warn ${warning}`);
    expect(r.code, r.stderr).toBe(0);
    const config = readJsonFile(join(dir, 'config.json'));
    expect(config.warnings).toEqual([warning]);
    expect((config.config as { density: number }).density).toBe(1);
    expect(config.dataset).toEqual({ numClasses: 10, inputShape: [28, 28, 1] });
  });

  it('a density so small that a layer gets no weight is E_OUT_OF_RANGE naming the layer', async () => {
    const dir = join(tmp(), 'tiny');
    const r = await cli('train', '--density', '0.000001', '--epochs', '1', ...QUICK, '--out', dir);
    expect(r.stderr).toMatch(/error \[E_OUT_OF_RANGE\] density = 0\.000001 leaves layer 'fc\d\.weight' \([\d,]+ weights\)/);
    expect(r.stderr).toContain('use --density of at least 0.001 (one weight of the smallest layer, 1,000 weights, in expectation)');
    expect(r.code).toBe(2);
    expect(existsSync(join(dir, 'config.json'))).toBe(false);
  });
});
