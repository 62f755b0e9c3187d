import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { WorkerJob, WorkerMessage } from '../compare/worker-pool.js';
import { resolveConfig } from '../config/resolve.js';
import type { RunResults } from '../run/metrics.js';
import { cli, removeTmpDirs, tmp } from '../test/run-helpers.js';
import { ResultCollector } from './collect.js';
import { parseQueueUrl, redactSecrets, redisOptions } from './connection.js';
import { gridIdOf, isSafeRelativePath, parseFailure, parseJobData, type QueueJobResult } from './grid.js';

afterAll(() => removeTmpDirs());

const config = resolveConfig({ name: 'test', values: { epochs: 2, maxBatches: 5, backend: 'wasm' } }).config;

describe('queue URLs: parsing and redaction', () => {
  it('reads host, port, database, user, password and TLS; defaults port 6379 and database 0', () => {
    expect(parseQueueUrl('redis://queue.lab', {})).toEqual({ host: 'queue.lab', port: 6379, db: 0, tls: false, display: 'redis://queue.lab' });
    const full = parseQueueUrl('rediss://grid:p%40ss%3Aw0rd@10.0.0.5:6380/3');
    expect(full).toMatchObject({ host: '10.0.0.5', port: 6380, db: 3, username: 'grid', password: 'p@ss:w0rd', tls: true });
    expect(full.display).toBe('rediss://***@10.0.0.5:6380/3');
    expect(parseQueueUrl('redis://:secret@127.0.0.1:7000').password).toBe('secret');
    expect(parseQueueUrl('redis://:secret@127.0.0.1:7000').username).toBeUndefined();
    const options = redisOptions(full);
    expect(options).toMatchObject({ host: '10.0.0.5', port: 6380, db: 3, username: 'grid', password: 'p@ss:w0rd', tls: { servername: '10.0.0.5' }, maxRetriesPerRequest: null });
    expect(redisOptions(parseQueueUrl('redis://h', {})).tls).toBeUndefined();
  });

  it('takes the password from SPARSE_LEARNING_QUEUE_PASSWORD when the URL has none (never over the URL\'s own)', () => {
    expect(parseQueueUrl('redis://h:1', { SPARSE_LEARNING_QUEUE_PASSWORD: 'from-env' })).toMatchObject({ password: 'from-env', display: 'redis://h:1' });
    expect(parseQueueUrl('redis://:url-pw@h:1', { SPARSE_LEARNING_QUEUE_PASSWORD: 'from-env' }).password).toBe('url-pw');
    expect(parseQueueUrl('redis://h:1', {}).password).toBeUndefined();
  });

  it('rejects other schemes, a missing host and a database that is not a number, naming the redacted URL', () => {
    expect(() => parseQueueUrl('http://:pw@host:6379')).toThrow(/\[E_CONFIG_INVALID\] --queue 'http:\/\/\*\*\*@host:6379' has scheme 'http'; expected redis:\/\//);
    expect(() => parseQueueUrl('redis://:pw@host/abc')).toThrow(/database 'abc' is not a number/);
    expect(() => parseQueueUrl('not a url')).toThrow(/\[E_CONFIG_INVALID\] --queue 'not a url' is not a URL/);
    for (const bad of ['http://:pw@host:6379', 'redis://:pw@host/abc']) {
      try {
        parseQueueUrl(bad);
      } catch (error) {
        expect((error as Error).message).not.toContain('pw');
      }
    }
  });

  it('redacts the credentials of every redis URL in a command line, and nothing else', () => {
    expect(redactSecrets('sparse-learning compare --queue redis://:hunter2@db:6379/1 --out runs/x')).toBe(
      'sparse-learning compare --queue redis://***@db:6379/1 --out runs/x',
    );
    expect(redactSecrets('a rediss://u:p@h b redis://h:1 c')).toBe('a rediss://***@h b redis://h:1 c');
  });
});

describe('queue jobs: validation, grid ids, failures', () => {
  const data = { v: 1, grid: '0123456789abcdef', index: 2, label: 'x', rel: 'runs/set-d0.05-s17', config, origins: {} };

  it('accepts a well-formed job and rejects paths that leave the run root, other versions and bad configurations', () => {
    expect(parseJobData(data).rel).toBe('runs/set-d0.05-s17');
    expect(isSafeRelativePath('runs/a/../../etc')).toBe(false);
    expect(() => parseJobData({ ...data, rel: '../../etc/cron.d' })).toThrow(/\[E_CONFIG_INVALID\] queue job is invalid: run path '\.\.\/\.\.\/etc\/cron\.d'/);
    expect(() => parseJobData({ ...data, rel: '/tmp/x' })).toThrow(/run path/);
    expect(() => parseJobData({ ...data, v: 2 })).toThrow(/data version 2; this worker reads version 1/);
    expect(() => parseJobData({ ...data, grid: 'x' })).toThrow(/grid id 'x'/);
    expect(() => parseJobData({ ...data, config: { ...config, density: 2 } })).toThrow(/\[E_CONFIG_INVALID\] queue job is invalid: .*density/);
  });

  it('names a grid by its directory and its runs: the same grid gets the same id, any change another', () => {
    const runs = [{ rel: 'runs/a', config }];
    expect(gridIdOf('/out', runs)).toMatch(/^[0-9a-f]{16}$/);
    expect(gridIdOf('/out', runs)).toBe(gridIdOf('/out', [{ rel: 'runs/a', config: { ...config } }]));
    expect(gridIdOf('/out2', runs)).not.toBe(gridIdOf('/out', runs));
    expect(gridIdOf('/out', [{ rel: 'runs/a', config: { ...config, seed: 18 } }])).not.toBe(gridIdOf('/out', runs));
  });

  it('splits a failure reason into its code and message', () => {
    expect(parseFailure('[E_DATA_MISSING] idx training images: none found')).toEqual({ code: 'E_DATA_MISSING', message: 'idx training images: none found' });
    expect(parseFailure('job stalled more than allowable limit')).toEqual({ code: 'E_ENGINE_STATE', message: 'job stalled more than allowable limit' });
  });
});

describe('ResultCollector: every run recorded once, its files brought home', () => {
  const results = (testError: number) => ({ testError, testAccuracy: 1 - testError }) as unknown as RunResults;
  const result = (index: number, testError: number): QueueJobResult => ({
    index,
    results: results(testError),
    files: { 'results.json': `{"testError": ${testError}}\n`, 'metrics.jsonl': '{"epoch":1}\n' },
    worker: 'h:1',
    resumedFrom: null,
  });

  it('writes the files of the first completion, ignores a second completion and a late failure of the same run', () => {
    const root = tmp('sl-collect-');
    const jobs: WorkerJob[] = [0, 1].map((id) => ({ id, config, origins: {}, outDir: join(root, 'runs', `r${id}`), cwd: root }));
    const seen: WorkerMessage[] = [];
    const collector = new ResultCollector(jobs, (m) => seen.push(m));
    expect(collector.completed(0, result(0, 0.25))).toBe(true);
    expect(collector.completed(0, result(0, 0.5))).toBe(false);
    expect(collector.failed(0, { code: 'E_ENGINE_STATE', message: 'late' })).toBe(false);
    expect(collector.complete).toBe(false);
    expect(collector.failed(1, { code: 'E_DATA_MISSING', message: 'no data' })).toBe(true);
    expect(collector.complete).toBe(true);
    expect(collector.duplicates).toBe(2);
    expect(seen.map((m) => [m.type, 'id' in m ? m.id : null])).toEqual([
      ['done', 0],
      ['failed', 1],
    ]);
    expect(readFileSync(join(root, 'runs', 'r0', 'results.json'), 'utf8')).toBe('{"testError": 0.25}\n');
    expect(readdirSync(join(root, 'runs', 'r0')).sort()).toEqual(['metrics.jsonl', 'results.json']);
    expect(existsSync(join(root, 'runs', 'r1'))).toBe(false);
  });

  it('writes only the known run files, whatever names a worker sends', () => {
    const root = tmp('sl-collect-');
    const jobs: WorkerJob[] = [{ id: 0, config, origins: {}, outDir: join(root, 'r0'), cwd: root }];
    const collector = new ResultCollector(jobs, () => {});
    const hostile = { ...result(0, 0.1), files: { 'results.json': '{}', '../evil.sh': 'rm -rf /' } } as unknown as QueueJobResult;
    collector.completed(0, hostile);
    expect(readdirSync(root)).toEqual(['r0']);
    expect(readdirSync(join(root, 'r0'))).toEqual(['results.json']);
  });
});

describe('worker CLI without Redis', () => {
  const closedPort = () =>
    new Promise<number>((resolvePort) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolvePort(port));
      });
    });

  it('an unreachable Redis fails in seconds with E_QUEUE_UNREACHABLE (exit 1) and never prints the password', async () => {
    const port = await closedPort();
    const r = await cli('worker', '--queue', `redis://:s3cr3t-pw@127.0.0.1:${port}`);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error [E_QUEUE_UNREACHABLE] cannot use the queue at redis://***@127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(r.stdout + r.stderr).not.toContain('s3cr3t-pw');
  });

  it('train --queue refuses an --out directory that holds a run (E_RUN_EXISTS) before contacting Redis', async () => {
    const out = tmp('sl-queue-out-');
    writeFileSync(join(out, 'results.json'), '{}\n');
    const r = await cli('train', '--epochs', '1', '--queue', 'redis://127.0.0.1:1', '--out', out);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error [E_RUN_EXISTS] '${out}' already holds a run`);
    expect(readFileSync(join(out, 'results.json'), 'utf8')).toBe('{}\n');
  });

  it('rejects a bad URL (exit 2) and a bad --concurrency before connecting', async () => {
    const bad = await cli('worker', '--queue', 'http://:pw@h');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("error [E_CONFIG_INVALID] --queue 'http://***@h' has scheme 'http'");
    const conc = await cli('worker', '--queue', 'redis://127.0.0.1:1', '--concurrency', '0');
    expect(conc.code).toBe(2);
    expect(conc.stderr).toContain('error [E_OUT_OF_RANGE] --concurrency = 0 is out of range');
    const missing = await cli('worker');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("required option '--queue <url>' not specified");
  });
});
