import { rmSync, writeFileSync } from 'node:fs';
import type { Logger } from '@sparse-learning/core';
import type { RunDirectory } from './run-directory.js';

/** A logger that also keeps every line for `run.log`. */
export function teeLogger(inner: Logger, dir: RunDirectory): Logger {
  const at = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, data?: Record<string, unknown>) => {
    dir.log(`${new Date().toISOString()} ${level} ${message}${data ? ` ${JSON.stringify(data)}` : ''}`);
    // Warnings and errors reach the disk at once: they explain a crash that may follow.
    if (level === 'warn' || level === 'error') dir.flushLog();
    inner[level](message, data);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Lets signal handlers run between steps (the training loop is synchronous otherwise). */
export const yieldToEventLoop = () => new Promise<void>((resolveYield) => setImmediate(resolveYield));

/** Waits (polling, so signal handlers run) until `signal` aborts; used by `RunExperimentOptions.holdAtStep`. */
export async function holdUntilAborted(signal: AbortSignal, marker: string): Promise<void> {
  writeFileSync(marker, `${process.pid}\n`);
  while (!signal.aborted) await new Promise((r) => setTimeout(r, 10));
  rmSync(marker, { force: true });
}

