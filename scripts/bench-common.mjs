// Shared preamble of the benchmark scripts that import TypeScript sources (bench-sparse-wrn, bench-graph-memory,
// bench-sparse-conv): re-run the script once under tsx, and read `--name=value` options.
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (scripts/..). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Re-runs the script at `scriptUrl` under `node [nodeArgs] --import tsx` with `envFlag` set, and exits with its
 * status; returns (doing nothing) when already running under it.
 */
export function runUnderTsx(scriptUrl, envFlag, nodeArgs = []) {
  if (process.env[envFlag]) return;
  const r = spawnSync(process.execPath, [...nodeArgs, '--import', 'tsx', fileURLToPath(scriptUrl), ...process.argv.slice(2)], {
    stdio: 'inherit',
    cwd: repoRoot,
    env: { ...process.env, [envFlag]: '1' },
  });
  process.exit(r.status ?? 1);
}

/** Reads `--name=value` options from `argv` (`dflt` when absent). */
export function optionReader(argv) {
  return (name, dflt) => {
    const hit = argv.find((a) => a.startsWith(`--${name}=`));
    return hit ? hit.slice(name.length + 3) : dflt;
  };
}

/**
 * The child side of a bench that measures each configuration in its own process: when `argv` holds
 * `--child=<json>`, runs `child(job)`, prints its result on a `RESULT <json>` line and exits.
 */
export async function serveChild(argv, child) {
  const childArg = argv.find((a) => a.startsWith('--child='));
  if (!childArg) return;
  const result = await child(JSON.parse(childArg.slice('--child='.length)));
  process.stdout.write(`\nRESULT ${JSON.stringify(result)}\n`);
  process.exit(0);
}

/**
 * The parent side: runs the script at `scriptUrl` under tsx as a child for `job` (`args` after `--child=`,
 * `nodeArgs` before `--import tsx`, `env` added to this process's) and returns the result it printed.
 */
export function runChild(scriptUrl, job, { args = [], nodeArgs = [], env = {} } = {}) {
  const r = spawnSync(process.execPath, [...nodeArgs, '--import', 'tsx', fileURLToPath(scriptUrl), `--child=${JSON.stringify(job)}`, ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    env: { ...process.env, ...env },
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`child ${JSON.stringify(job)} failed (${r.status}):\n${r.stderr}\n${(r.stdout ?? '').slice(-2000)}`);
  return JSON.parse(line.slice('RESULT '.length));
}
