/**
 * Libraries never print: everything they want to say goes through an injected {@link Logger}
 * (human-readable lines) or {@link EventSink} (structured events, see `events.ts`). The CLI renders both.
 */
export interface Logger {
  debug(message: string, data?: Record<string, unknown>): void;
  info(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
  error(message: string, data?: Record<string, unknown>): void;
}

/** A logger that drops everything: the default when nobody injects one. */
export const silentLogger: Logger = Object.freeze({
  debug() {},
  info() {},
  warn() {},
  error() {},
});

/** One recorded log line, as kept by {@link createMemoryLogger}. */
export interface LogRecord {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly data?: Record<string, unknown>;
}

/** A logger that keeps every record in memory (tests, and the runner's run log). */
export function createMemoryLogger(): Logger & { readonly records: LogRecord[] } {
  const records: LogRecord[] = [];
  const at = (level: LogRecord['level']) => (message: string, data?: Record<string, unknown>) => {
    records.push(data === undefined ? { level, message } : { level, message, data });
  };
  return { records, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
