import { cpus } from 'node:os';
import { resolve } from 'node:path';
import type { Logger } from '@sparse-learning/core';
import { readConfigFile, type ConfigSource } from '../config/resolve.js';
import { flagOf, flagValues, parseIntFlag } from './options.js';
import type { OutputStream } from './progress.js';

/** Where the CLI reads and writes (process streams by default; tests pass their own). */
export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly cwd: string;
}

/**
 * Exit codes: 0 ok, 1 a run failed, 2 bad input (configuration, ids, ranges, plugins), 130 / 143 stopped by
 * SIGINT / SIGTERM after saving a checkpoint (128 + signal number, the shell convention).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, sigint: 130, sigterm: 143 } as const;

/** Codes of bad input (exit 2): configuration, ids, plugins that do not load, dataset files, checkpoints to resume. */
export const USAGE_CODES = new Set([
  'E_CONFIG_INVALID',
  'E_CONFIG_PARSE',
  'E_UNKNOWN_ID',
  'E_OUT_OF_RANGE',
  'E_PLUGIN_LOAD',
  'E_DATA_MISSING',
  'E_DATA_CORRUPT',
  'E_DATA_MISMATCH',
  'E_CHECKPOINT_INVALID',
  'E_CHECKPOINT_INCOMPATIBLE',
  'E_USAGE',
  'E_RUN_EXISTS',
]);

/** The exit code of a run stopped by each signal. */
export const SIGNAL_EXIT: Record<string, number> = { SIGINT: EXIT.sigint, SIGTERM: EXIT.sigterm };

/**
 * While `fn` runs, the first SIGINT/SIGTERM aborts the signal it is given (the run finishes its current step,
 * saves a checkpoint and stops); a second one exits at once. Handlers are removed afterwards, so the CLI can
 * run in-process (tests) without keeping them.
 */
export async function withStopSignals<T>(io: CliIo, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (name: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      io.stderr.write(`\n${name} received: finishing the current step and saving a checkpoint (send ${name} again to exit immediately)\n`);
      controller.abort(name);
      return;
    }
    io.stderr.write(`${name} received again: exiting immediately without saving; the last checkpoint is kept\n`);
    process.exit(SIGNAL_EXIT[name] ?? EXIT.failed);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await fn(controller.signal);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** `SPARSE_LEARNING_HOLD_AT_STEP` (testing aid, see `RunExperimentOptions.holdAtStep`). */
export function holdAtStep(): number | undefined {
  const raw = process.env.SPARSE_LEARNING_HOLD_AT_STEP;
  return raw && /^\d+$/.test(raw) ? Number(raw) : undefined;
}

/** A file-name-safe UTC timestamp for default output directories (`2026-12-06T19-20-00`). */
export function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
}

/** The CLI's logger: warnings always, everything with `--verbose`, on stderr. */
export function cliLogger(io: CliIo, verbose: boolean): Logger {
  const at = (level: string, always: boolean) => (message: string, data?: Record<string, unknown>) => {
    if (always || verbose) io.stderr.write(`${level} ${message}${data && verbose ? ` ${JSON.stringify(data)}` : ''}\n`);
  };
  return { debug: at('debug', false), info: at('info', false), warn: at('warn', true), error: at('error', false) };
}

/** The configuration layers of a command: `--config` file, then the flags (which win). */
export function sourcesOf(options: Record<string, unknown>, cwd: string): ConfigSource[] {
  const sources: ConfigSource[] = [];
  if (typeof options.config === 'string') sources.push(readConfigFile(resolve(cwd, options.config)));
  sources.push({ name: 'command line', values: flagValues(options), describe: (field) => `${flagOf(field)} on the command line` });
  return sources;
}

/** A fraction as a percentage with `digits` decimals (`—` when not finite). */
export function pct(value: number, digits = 2): string {
  return Number.isFinite(value) ? `${(100 * value).toFixed(digits)} %` : '—';
}

/** `--force` or its alias `--overwrite`. */
export function forceOf(options: Record<string, unknown>): boolean {
  return options.force === true || options.overwrite === true;
}

/** `--jobs`, or the number of cores. */
export function jobsOf(options: Record<string, unknown>): number {
  return options.jobs === undefined ? cpus().length : parseIntFlag('--jobs', String(options.jobs));
}

/** A plain-text table with padded columns. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join('  ').trimEnd()).join('\n');
}

