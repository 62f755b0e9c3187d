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
