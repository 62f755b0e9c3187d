import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, metricsWithoutTimings, removeTmpDirs, spawnCli, tmp, type SpawnedCli } from '../test/run-helpers.js';
import { GRID_REGISTRY } from './grid.js';

/**
 * Queue mode against a real Redis (Debian `redis-server`, started here on a free loopback port with
 * `--save '' --appendonly no` and a password, stopped afterwards): a grid of 4 runs over 3 worker processes,
 * one of them SIGKILLed in the middle of a run, must give the same compare.json as the local compare of the
 * same grid (timings excluded); a run that fails on bad input fails once, without retries.
 */
const redisServer = spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;
const SKIP_REASON = 'needs redis-server on PATH (Debian: apt-get install redis-server; .ci/run installs it)';

declare module 'vitest' {
  interface TaskMeta {
    /** Why a test (or every test of a suite) is skipped; printed by `npm test` above its last line. */
    skipReason?: string;
  }
}

/** Skipped with the reason (listed by `npm test`) when redis-server is not installed. */
const redisSuite = redisServer ? { skip: false, meta: {} } : { skip: true, meta: { skipReason: SKIP_REASON } };

afterAll(() => removeTmpDirs());

const PASSWORD = 'q15-s3cret-pw';
// LeNet-300-100 on MNIST, 2 epochs × 5 batches, wasm (bit-identical on every worker): 2 presets × 2 seeds.
const GRID = ['--presets', 'sparse-momentum,set', '--densities', '0.05', '--seeds', '2', '--epochs', '2', '--max-batches', '5', '--backend', 'wasm'];
// The killed worker holds after step 7 = epoch 2, batch 2: the epoch-1 checkpoint (step 5) exists.
const HOLD_AT_STEP = '7';

const freePort = () =>
  new Promise<number>((resolvePort) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });

async function until<T>(what: string, check: () => T | undefined | null | false, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every file under `dir` (relative paths). */
function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path).map((p) => join(name, p)) : [name];
  });
}

/** A comparison without what differs between two executions of the same grid (times, command line). */
function withoutTimings(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTimings);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => !['seconds', 'startedAt', 'finishedAt', 'createdAt', 'command'].includes(k))
        .map(([k, v]) => [k, withoutTimings(v)]),
    );
  }
  return value;
}

const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

describe('grids on a real Redis queue', redisSuite, () => {
  const root = tmp('sl-queue-');
  const runRoot = join(root, 'worker-runs'); // shared by the workers: a taken-over run resumes from its checkpoint
  const local = join(root, 'local');
  const queued = join(root, 'queued');
  let redis: ChildProcess;
  let url = '';
  let client: Redis;
  const workers: SpawnedCli[] = [];

  beforeAll(async () => {
    const port = await freePort();
    url = `redis://:${PASSWORD}@127.0.0.1:${port}`;
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--requirepass', PASSWORD, '--dir', root], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    redis.stdout?.on('data', (d) => (log += String(d)));
    await until('redis-server to accept connections', () => log.includes('Ready to accept connections'), 20_000);
    client = new Redis({ port, host: '127.0.0.1', password: PASSWORD, lazyConnect: true });
    await client.connect();
    // Three workers; the first holds at step 7 of its first run so the SIGKILL lands mid-run.
    for (let i = 0; i < 3; i++) {
      const args = ['worker', '--queue', url, '--run-root', runRoot, '--lock-seconds', '2', '--concurrency', '1'];
      workers.push(spawnCli(args, i === 0 ? { SPARSE_LEARNING_HOLD_AT_STEP: HOLD_AT_STEP } : {}));
    }
    // The local reference runs while the workers start.
    const reference = await cli('compare', ...GRID, '--jobs', '1', '--out', local);
    expect(reference.stderr).not.toMatch(/^error /m);
    expect(reference.code).toBe(0);
    for (const w of workers) await until('a worker to connect', () => w.output().stdout.includes(' worker '));
  }, 240_000);

  afterAll(async () => {
    for (const w of workers) {
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
    }
    const timeout = new Promise((r) => setTimeout(r, 20_000));
    await Promise.race([Promise.all(workers.map((w) => w.exited)), timeout]);
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    client?.disconnect();
    redis?.kill('SIGTERM');
  });

  it('4 runs over 3 workers, one SIGKILLed mid-run: every run completes, the killed one resumes elsewhere, compare.json equals the local compare', async () => {
    const submitted = cli('compare', ...GRID, '--queue', url, '--out', queued);
    const killed = workers[0];
    const hold = await until('the first worker to hold mid-run', () => walk(runRoot).find((p) => p.endsWith('.hold')));
    killed.child.kill('SIGKILL');
    expect((await killed.exited).signal).toBe('SIGKILL');
    const heldCell = hold.split('/')[2]; // <grid>/runs/<cell>/.hold

    const r = await submitted;
    expect(r.stderr).not.toMatch(/^error /m);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('comparison: 4 runs on queue redis://***@127.0.0.1:');
    expect(r.stderr).toMatch(/queue grid [0-9a-f]{16}: done 4 \/ running 0 \/ failed 0 \/ total 4/);

    // Same grid, same seeds, same backend: the same comparison (timings and command line excluded).
    expect(withoutTimings(readJson(join(queued, 'compare.json')))).toEqual(withoutTimings(readJson(join(local, 'compare.json'))));
    const localRuns = readdirSync(join(local, 'runs')).sort();
    expect(localRuns).toHaveLength(4);
    expect(readdirSync(join(queued, 'runs')).sort()).toEqual(localRuns);
    for (const cell of localRuns) {
      // The results came home through Redis: no shared disk between the workers' run root and the submitter.
      expect(readdirSync(join(queued, 'runs', cell)).sort()).toEqual(['config.json', 'metrics.jsonl', 'results.json', 'run.log']);
      expect(metricsWithoutTimings(join(queued, 'runs', cell))).toEqual(metricsWithoutTimings(join(local, 'runs', cell)));
    }

    // The killed run was taken over after its lock expired and resumed from the epoch-1 checkpoint.
    const resumed = localRuns.filter((cell) => Array.isArray(readJson(join(queued, 'runs', cell, 'config.json')).resumes));
    expect(resumed).toEqual([heldCell]);
    const record = (readJson(join(queued, 'runs', resumed[0], 'config.json')).resumes as Record<string, unknown>[])[0];
    expect(record).toMatchObject({ fromCheckpoint: 'checkpoint-e1-s5.slckpt', epoch: 1, step: 5, batchInEpoch: 0 });
    const others = workers.slice(1).map((w) => w.output().stdout).join('\n');
    expect(others).toMatch(/job run-\d stalled \(its worker stopped renewing the lock\): back to the queue/);
    expect(others).toMatch(/resuming from checkpoint-e1-s5\.slckpt \(epoch 1, step 5\), attempt 1/);

    // The password is never printed nor written (submitter, workers, run directories, compare files).
    const texts = [r.stdout, r.stderr, ...workers.flatMap((w) => [w.output().stdout, w.output().stderr])];
    for (const dir of [queued, runRoot]) {
      for (const file of walk(dir).filter((f) => !f.endsWith('.slckpt'))) texts.push(readFileSync(join(dir, file), 'utf8'));
    }
    expect(texts.filter((t) => t.includes(PASSWORD))).toEqual([]);

    // The grid's queue is gone from Redis once everything is home.
    const grid = /grid ([0-9a-f]{16})/.exec(r.stderr)?.[1];
    expect(grid).toBeDefined();
    expect(await client.zcard(GRID_REGISTRY)).toBe(0);
    expect(await client.keys(`sparse-learning:grid-${grid}:run-*`)).toEqual([]);
  }, 300_000);

  it('a run that fails on bad input fails once with its coded error and is not retried', async () => {
    const bad = join(root, 'bad');
    const r = await cli(
      'compare', '--presets', 'sparse-momentum', '--seeds', '1', '--epochs', '1', '--max-batches', '2', '--backend', 'wasm',
      '--dataset', 'idx', '--data-dir', join(root, 'no-such-data'), '--queue', url, '--out', bad,
    );
    expect(r.code).toBe(1);
    const result = readJson(join(bad, 'compare.json')) as { runs: { status: string; error: { code: string; message: string } }[] };
    expect(result.runs).toHaveLength(1);
    expect(result.runs[0].status).toBe('failed');
    expect(result.runs[0].error.code).toBe('E_DATA_MISSING');
    expect(result.runs[0].error.message).toMatch(/no-such-data.*\(failed after 1 attempt\)$/);
    const output = workers.slice(1).map((w) => w.output().stdout).join('\n');
    expect(output).toMatch(/failed \[E_DATA_MISSING\] .* \(not retried\)/);
    expect(output).not.toMatch(/job run-0 will be retried/);
  }, 120_000);

  it('train --queue: one run trained by a worker, its results written into --out', async () => {
    const out = join(root, 'one');
    const r = await cli('train', '--epochs', '1', '--max-batches', '3', '--backend', 'wasm', '--queue', url, '--out', out);
    expect(r.stderr).not.toMatch(/^error /m);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^test error [\d.]+ % \(accuracy [\d.]+ %\), density 0\.\d{4}, 3 steps in .* on wasm$/m);
    expect(readdirSync(out).sort()).toEqual(['config.json', 'metrics.jsonl', 'results.json', 'run.log']);
    expect(readJson(join(out, 'results.json'))).toMatchObject({ steps: 3, epochs: 1, backend: { name: 'wasm' } });
  }, 120_000);

  it('a worker stops on SIGTERM with exit code 143', async () => {
    const w = workers[1];
    w.child.kill('SIGTERM');
    const exit = await w.exited;
    expect(exit.code).toBe(143);
    expect(w.output().stdout).toMatch(/worker stopped: \d+ runs? completed/);
  }, 60_000);
});
