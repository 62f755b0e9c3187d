import { loadCheckpoint, type JsonValue, type LoadedCheckpoint } from '@sparse-learning/checkpoint';
import { SparseLearningError, isSparseLearningError, silentLogger, type Logger } from '@sparse-learning/core';
import { isDatasetId } from '@sparse-learning/datasets';
import { isModelId } from '@sparse-learning/models';
import { configIssueError, mergeLayers } from '../config/resolve.js';
import { experimentConfigSchema, type ExperimentConfig } from '../config/schema.js';
import { getPreset } from '../presets/index.js';
import { historyOf, resumeExtraOf, type ResumeExtra } from './checkpointing.js';
import type { EpochMetrics } from './metrics.js';
import { RUN_FILES, readJson } from './run-directory.js';
import { configIdentity, identityDifferences } from './run-identity.js';
import { decodeState } from './state-codec.js';

/** A run directory's latest good checkpoint, read back for `train --resume`. */
export interface ResumePoint {
  readonly runDir: string;
  readonly checkpoint: LoadedCheckpoint;
  /** The run's resolved configuration, as recorded in the checkpoint. */
  readonly config: ExperimentConfig;
  readonly extra: ResumeExtra;
  readonly history: EpochMetrics[];
}

function incompatible(checkpoint: LoadedCheckpoint, problem: string): SparseLearningError {
  return new SparseLearningError(
    'E_CHECKPOINT_INCOMPATIBLE',
    `cannot resume from '${checkpoint.path}' (epoch ${checkpoint.epoch}, step ${checkpoint.step}): ${problem}`,
    { path: checkpoint.path, problem },
  );
}

/**
 * Loads the checkpoint to resume `runDir` from (the newest one that verifies; a corrupt latest file falls back
 * to the previous one with a warning on `logger`) and validates its recorded configuration against this
 * version of the runner (schema, preset, model, dataset ids).
 *
 * @throws `E_CHECKPOINT_INVALID` (no checkpoint, corrupt or truncated files, checksum mismatch) or
 *   `E_CHECKPOINT_INCOMPATIBLE` (newer format, a configuration this runner cannot run, not a runner checkpoint).
 */
export async function loadResumePoint(runDir: string, logger: Logger = silentLogger): Promise<ResumePoint> {
  let checkpoint: LoadedCheckpoint;
  try {
    checkpoint = await loadCheckpoint(runDir, { logger });
  } catch (error) {
    if (isSparseLearningError(error, 'E_CHECKPOINT_INVALID')) {
      throw new SparseLearningError(
        'E_CHECKPOINT_INVALID',
        `cannot resume '${runDir}': ${error.message.replace(/^\[[A-Z_]+\] /, '')}. A run directory gets a checkpoint at the end of every epoch and when training is interrupted (Ctrl-C)`,
        { ...error.details, runDir },
        { cause: error },
      );
    }
    throw error;
  }
  const raw = decodeState(checkpoint.config as JsonValue) as Record<string, unknown>;
  const parsed = experimentConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = configIssueError(parsed.error.issues, raw ?? {}, () => 'recorded in the checkpoint');
    throw incompatible(checkpoint, `its configuration is not valid for this version of the runner: ${issue.message.replace(/^\[[A-Z_]+\] /, '')}`);
  }
  const config = parsed.data;
  try {
    getPreset(config.preset);
  } catch (error) {
    throw incompatible(checkpoint, (error as Error).message.replace(/^\[[A-Z_]+\] /, ''));
  }
  if (!isModelId(config.model)) throw incompatible(checkpoint, `unknown model '${config.model}'`);
  if (!isDatasetId(config.dataset)) throw incompatible(checkpoint, `unknown dataset '${config.dataset}'`);
  if (checkpoint.modelId !== config.model) {
    throw incompatible(checkpoint, `it holds model '${checkpoint.modelId}' but its configuration names '${config.model}'`);
  }
  const extra = resumeExtraOf(checkpoint);
  checkRunIdentity(runDir, checkpoint, config);
  return { runDir, checkpoint, config, extra, history: historyOf(checkpoint) };
}

/**
 * Checks that a checkpoint belongs to the run of its directory: the identity (`configIdentity`) of the
 * configuration recorded in `config.json` must equal the checkpoint's. Both are recomputed from the parsed
 * configurations (not read from the stored hashes), so that a field added by a later version with its default
 * does not make old runs foreign. A directory without `config.json` (a checkpoint copied on its own) is
 * accepted on the checkpoint's record.
 *
 * @throws `E_CHECKPOINT_INCOMPATIBLE` listing the differing fields; `E_DATA_CORRUPT` when `config.json` does
 *   not parse.
 */
export function checkRunIdentity(runDir: string, checkpoint: LoadedCheckpoint, config: ExperimentConfig): void {
  const record = readJson<{ config?: unknown; configHash?: string }>(runDir, RUN_FILES.config);
  if (!record || record.config === undefined) return;
  const recorded = experimentConfigSchema.safeParse(record.config);
  if (!recorded.success) {
    throw new SparseLearningError(
      'E_DATA_CORRUPT',
      `'${runDir}/${RUN_FILES.config}' does not hold a valid run configuration, so the checkpoint cannot be matched to this run; restore it, or move it away to rely on the checkpoint's own record`,
      { path: `${runDir}/${RUN_FILES.config}` },
    );
  }
  const mine = configIdentity(recorded.data);
  const theirs = configIdentity(config);
  if (mine === theirs) return;
  const differences = identityDifferences(recorded.data as unknown as Record<string, unknown>, config as unknown as Record<string, unknown>);
  throw incompatible(
    checkpoint,
    `it belongs to another run: its configuration (${theirs.slice(0, 19)}…) differs from this directory's ${RUN_FILES.config} (${mine.slice(0, 19)}…) in ${differences.join('; ')}. Resume the run the checkpoint came from, or start a new run`,
  );
}

/**
 * Fields that do not change what a run computes, so `--resume` accepts a different value with a warning:
 * `backend` (bit-exactness needs the recorded one: results may differ in the last bits), `dataDir`
 * (the same files in another place) and `execution` (masked or sparse, issue 9: the same engine and state,
 * other float summation orders; a dense-gradient window shorter than the run also makes slightly different
 * momentum-growth decisions) and `sparseState` (where the sparse execution keeps the same state: a dense-form
 * checkpoint resumes in compact form, converted once).
 */
export const RESUME_HARMLESS_FIELDS: readonly string[] = ['backend', 'dataDir', 'execution', 'sparseState'];

function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'undefined';
}

/**
 * The configuration a resumed run uses: the recorded one, with the user's flags (and `--config` file) laid
 * over it only where they agree with it or touch a harmless field ({@link RESUME_HARMLESS_FIELDS}, reported
 * in `warnings`). Values are validated as for a new run first, so `--density 2` is still `E_OUT_OF_RANGE`.
 *
 * @throws `E_CONFIG_INVALID` listing every flag that would change the run (flag, given value, recorded value).
 */
export function resumeConfig(
  recorded: ExperimentConfig,
  user: Record<string, unknown>,
  describe: (field: string) => string,
): { config: ExperimentConfig; warnings: string[] } {
  const merged = mergeLayers(recorded as unknown as Record<string, unknown>, user);
  const parsed = experimentConfigSchema.safeParse(merged);
  if (!parsed.success) throw configIssueError(parsed.error.issues, merged, describe);
  const candidate = parsed.data as unknown as Record<string, unknown>;
  const before = recorded as unknown as Record<string, unknown>;
  const changed: string[] = [];
  const warnings: string[] = [];
  for (const key of Object.keys(user)) {
    if (stable(candidate[key]) === stable(before[key])) continue;
    const shown = `${describe(key)}: ${stable(candidate[key])} (recorded: ${stable(before[key])})`;
    if (RESUME_HARMLESS_FIELDS.includes(key)) warnings.push(shown);
    else changed.push(shown);
  }
  if (changed.length > 0) {
    throw new SparseLearningError(
      'E_CONFIG_INVALID',
      `--resume continues a run with its recorded configuration; these options would change it: ${changed.join('; ')}. Drop them, or start a new run (without --resume) to train with other settings`,
      { changed },
    );
  }
  return { config: parsed.data, warnings };
}
