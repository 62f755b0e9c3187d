/**
 * Every error the library raises on bad input or a broken contract is a {@link SparseLearningError} with a
 * stable {@link SparseLearningErrorCode}. Messages name the bad value and, where there is a closed set, the
 * valid choices. Code strings never change once released: tools and tests match on them.
 */
export type SparseLearningErrorCode =
  // configuration and ids
  | 'E_CONFIG_INVALID'
  | 'E_CONFIG_PARSE'
  | 'E_USAGE'
  | 'E_UNKNOWN_ID'
  | 'E_OUT_OF_RANGE'
  // plugin contract
  | 'E_PLUGIN_CONTRACT'
  | 'E_PLUGIN_THREW'
  | 'E_PLUGIN_LOAD'
  // engine state
  | 'E_SHAPE_MISMATCH'
  | 'E_NO_PRUNABLE_TENSORS'
  | 'E_ENGINE_STATE'
  | 'E_NEGATIVE_GROWTH_BUDGET'
  | 'E_NON_FINITE'
  | 'E_ZERO_REDISTRIBUTION'
  // data
  | 'E_DATA_MISSING'
  | 'E_DATA_CORRUPT'
  | 'E_DATA_MISMATCH'
  // persistence
  | 'E_WRITE_FAILED'
  | 'E_RUN_EXISTS'
  | 'E_RUN_LOCKED'
  | 'E_CHECKPOINT_INVALID'
  | 'E_CHECKPOINT_INCOMPATIBLE'
  // backends
  | 'E_BACKEND_UNAVAILABLE'
  | 'E_OUT_OF_MEMORY'
  // distributed queue (runner `--queue`): Redis cannot be reached or refuses the login
  | 'E_QUEUE_UNREACHABLE'
  // anything else (a bug): reported without a stack trace by the CLI
  | 'E_INTERNAL';

/** Structured details attached to an error (the bad value, the valid choices, the plugin, the layer...). */
export interface SparseLearningErrorDetails {
  readonly [key: string]: unknown;
}

/** The one error class of the library. `code` is stable; `details` carries machine-readable context. */
export class SparseLearningError extends Error {
  override readonly name = 'SparseLearningError';

  constructor(
    readonly code: SparseLearningErrorCode,
    message: string,
    readonly details: SparseLearningErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(`[${code}] ${message}`, options);
  }
}

/** True when `error` is a {@link SparseLearningError}, optionally with the given code. */
export function isSparseLearningError(error: unknown, code?: SparseLearningErrorCode): error is SparseLearningError {
  return error instanceof SparseLearningError && (code === undefined || error.code === code);
}

/** An id (strategy, preset, model, dataset...) that is not registered. Lists the valid ids. */
export function unknownIdError(kind: string, id: string, valid: readonly string[]): SparseLearningError {
  return new SparseLearningError(
    'E_UNKNOWN_ID',
    `unknown ${kind} '${id}'; valid ${kind} ids: ${[...valid].sort().join(', ')}`,
    { kind, id, valid: [...valid] },
  );
}

/** A number outside its valid range. `range` is human readable, e.g. `"0 < density <= 1"`. */
export function outOfRangeError(field: string, value: unknown, range: string): SparseLearningError {
  return new SparseLearningError('E_OUT_OF_RANGE', `${field} = ${String(value)} is out of range; expected ${range}`, {
    field,
    value,
    range,
  });
}

/** Where a plugin broke its contract: plugin id, hook, layer and step. */
export interface PluginSite {
  readonly plugin: string;
  readonly hook: string;
  readonly layer?: string;
  readonly step?: number;
}

function describeSite(site: PluginSite): string {
  const parts = [`plugin '${site.plugin}'`, `hook '${site.hook}'`];
  if (site.layer !== undefined) parts.push(`layer '${site.layer}'`);
  if (site.step !== undefined) parts.push(`step ${site.step}`);
  return parts.join(', ');
}

/** A plugin returned something that violates its contract (wrong length, wrong count, NaN...). */
export function pluginContractError(site: PluginSite, problem: string): SparseLearningError {
  return new SparseLearningError('E_PLUGIN_CONTRACT', `${describeSite(site)}: ${problem}`, { ...site, problem });
}

/**
 * Calls a plugin hook; anything it throws that is not already a {@link SparseLearningError} is wrapped with
 * {@link pluginThrewError} (plugin id, hook, layer, step). The one place plugin errors are wrapped.
 */
export function callPlugin<T>(site: PluginSite, hook: () => T): T {
  try {
    return hook();
  } catch (error) {
    if (error instanceof SparseLearningError) throw error;
    throw pluginThrewError(site, error);
  }
}

/** A plugin threw: wrap it so the message names where it happened; the original error is the `cause`. */
export function pluginThrewError(site: PluginSite, cause: unknown): SparseLearningError {
  const message = cause instanceof Error ? cause.message : String(cause);
  return new SparseLearningError('E_PLUGIN_THREW', `${describeSite(site)} threw: ${message}`, { ...site }, { cause });
}
