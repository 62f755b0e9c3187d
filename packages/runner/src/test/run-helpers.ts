import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadCheckpoint, type LoadedCheckpoint } from '@sparse-learning/checkpoint';
import { expect } from 'vitest';
import { main } from '../cli/program.js';
import { decodeState } from '../run/state-codec.js';

/** Test helpers shared by the runner's end-to-end tests (not part of the package API). */
export const repoRoot = resolve(__dirname, '../../../..');
export const fixtures = join(__dirname, 'fixtures');
export const cliSource = join(repoRoot, 'packages/runner/src/cli.ts');

const created: string[] = [];

/** A fresh temporary directory, removed by {@link removeTmpDirs}. */
export const tmp = (prefix = 'sl-run-') => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  created.push(dir);
  return dir;
};

/** Removes the directories {@link tmp} made in this test file (checkpoints are megabytes each). */
export function removeTmpDirs(): void {
  for (const dir of created.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** Runs the CLI in-process and captures its output. */
export async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(['node', 'sparse-learning', ...args], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    cwd: repoRoot,
  });
  return { code, stdout, stderr };
}

/** A spawned `sparse-learning` process (from sources through tsx), with its output collected. */
export interface SpawnedCli {
  readonly child: ChildProcess;
  readonly output: () => { stdout: string; stderr: string };
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns the real CLI in its own Node process (`node --import tsx src/cli.ts ...`); tsx resolves every
 * `@sparse-learning/*` import to the package's `src/index.ts` through the root tsconfig's `paths`.
 */
export function spawnCli(args: readonly string[], env: Record<string, string> = {}): SpawnedCli {
  const tsx = pathToFileURL(createRequire(__filename).resolve('tsx')).href;
  const child = spawn(process.execPath, ['--import', tsx, cliSource, ...args], {
    cwd: repoRoot,
    env: { ...process.env, TSX_TSCONFIG_PATH: join(repoRoot, 'tsconfig.json'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d) => (stdout += String(d)));
  child.stderr?.on('data', (d) => (stderr += String(d)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal })),
  );
  return { child, output: () => ({ stdout, stderr }), exited };
}

/** Polls until `path` exists (the child's hold marker, a checkpoint...) or the child exits. */
export async function waitForFile(path: string, spawned: SpawnedCli, timeoutMs = 90_000): Promise<void> {
  let exited = false;
  void spawned.exited.then(() => (exited = true));
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (exited) throw new Error(`process exited before ${path} appeared: ${JSON.stringify(spawned.output())}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${path}: ${JSON.stringify(spawned.output())}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** `metrics.jsonl` rows without their timings. */
export function metricsWithoutTimings(dir: string): Record<string, unknown>[] {
  return readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const row = JSON.parse(l) as Record<string, unknown>;
      delete row.epochSeconds;
      return row;
    });
}

function bytesOf(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

/**
 * Asserts that two finished runs are identical bit for bit: every weight, mask and optimizer slot of the final
 * checkpoints, the trainer state (step, epoch, prune rate, controller and history, RNG streams), the strategy
 * states, the metrics (file and checkpoint history, timings excluded) and results.json (timings excluded).
 */
export async function expectSameRun(dirA: string, dirB: string): Promise<{ a: LoadedCheckpoint; b: LoadedCheckpoint }> {
  const a = await loadCheckpoint(dirA);
  const b = await loadCheckpoint(dirB);
  expect([b.epoch, b.step]).toEqual([a.epoch, a.step]);
  const names = Object.keys(a.tensors.variables);
  expect(Object.keys(b.tensors.variables)).toEqual(names);
  for (const name of names) {
    expect(bytesOf(b.tensors.variables[name].values).equals(bytesOf(a.tensors.variables[name].values)), `weights ${name}`).toBe(true);
  }
  expect(Object.keys(b.tensors.masks)).toEqual(Object.keys(a.tensors.masks));
  for (const name of Object.keys(a.tensors.masks)) {
    expect(bytesOf(b.tensors.masks[name]).equals(bytesOf(a.tensors.masks[name])), `mask ${name}`).toBe(true);
  }
  const slotsA = a.tensors.optimizer!.slots;
  const slotsB = b.tensors.optimizer!.slots;
  expect(Object.keys(slotsB)).toEqual(Object.keys(slotsA));
  for (const [name, perSlot] of Object.entries(slotsA)) {
    for (const [slot, values] of Object.entries(perSlot)) {
      expect(bytesOf(slotsB[name][slot]).equals(bytesOf(values)), `optimizer ${name}/${slot}`).toBe(true);
    }
  }
  expect(b.tensors.optimizer!.iterations).toBe(a.tensors.optimizer!.iterations);
  expect(b.trainerState).toEqual(a.trainerState);
  expect(b.strategyStates).toEqual(a.strategyStates);
  expect(b.rngStates).toEqual(a.rngStates);
  const strip = (rows: readonly unknown[]) =>
    rows.map((r) => {
      const row = { ...(decodeState(r as never) as Record<string, unknown>) };
      delete row.epochSeconds;
      return row;
    });
  expect(strip(b.metricsHistory)).toEqual(strip(a.metricsHistory));
  expect(metricsWithoutTimings(dirB)).toEqual(metricsWithoutTimings(dirA));
  const results = (dir: string) => {
    const r = JSON.parse(readFileSync(join(dir, 'results.json'), 'utf8')) as Record<string, unknown>;
    for (const key of ['seconds', 'startedAt', 'finishedAt']) delete r[key];
    return r;
  };
  expect(results(dirB)).toEqual(results(dirA));
  return { a, b };
}
