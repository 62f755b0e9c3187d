import { SparseLearningError } from '@sparse-learning/core';

/**
 * Rewrites a commander parse error (`error: unknown option '--foo'`) as a coded one
 * (`error [E_USAGE] unknown option '--foo'`), so that every error the CLI prints has a code (exit 2).
 */
export function codedUsageMessage(text: string): string {
  return text.replace(/^error: /, 'error [E_USAGE] ');
}

/**
 * The line printed for an error that is not a `SparseLearningError` (a bug, not bad input): its message with
 * the code `E_INTERNAL`, without a stack trace unless `SPARSE_LEARNING_DEBUG=1`.
 */
export function internalErrorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (process.env.SPARSE_LEARNING_DEBUG === '1' && error instanceof Error && error.stack) return `[E_INTERNAL] ${error.stack}`;
  return `[E_INTERNAL] ${message} (an unexpected error, probably a bug: please report it; SPARSE_LEARNING_DEBUG=1 prints its stack trace)`;
}

/**
 * A directory argument (`--out`, `--resume`, `export <run-dir>`): undefined when not given; an empty string is
 * `E_CONFIG_INVALID` (it would otherwise name the working directory).
 */
export function outDirOf(value: unknown, flag = '--out'): string | undefined {
  if (value === undefined) return undefined;
  const text = String(value);
  if (text.trim() === '') {
    throw new SparseLearningError(
      'E_CONFIG_INVALID',
      `${flag} '${text}' names no directory (it would mean the working directory); give a directory path${flag === '--out' ? ', or leave --out out for a fresh one under runs/' : ''}`,
      { flag, value: text },
    );
  }
  return text;
}
