import type { FsOps, LoadedCheckpoint } from '@sparse-learning/checkpoint';
import type { EventSink, Logger } from '@sparse-learning/core';
import type { BackendChoice } from '@sparse-learning/backend-native';
import type { Container } from 'inversify';
import type { LoadedPlugin } from '../composition/plugin-loader.js';
import type { ExperimentConfig } from '../config/schema.js';
import type { EpochMetrics, RunResults } from './metrics.js';
import type { ExecutionChoice } from './sparse-execution.js';

/** Progress callbacks of one run (the CLI renders them; library code never prints). */
export interface RunObserver {
  onBackend?(choice: BackendChoice): void;
  /** Masked or sparse execution, and why (issue 9). */
  onExecution?(choice: ExecutionChoice): void;
  onStart?(info: RunStartInfo): void;
  onStep?(info: { readonly step: number; readonly epoch: number; readonly loss: number }): void;
  onEpoch?(metrics: EpochMetrics, info: RunStartInfo): void;
  onFinish?(results: RunResults): void;
}

/** What a run is about to do. */
export interface RunStartInfo {
  readonly runDir: string;
  readonly label: string;
  readonly epochs: number;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  /** Where a resumed run continues (completed epochs, batch inside the next epoch, completed steps). */
  readonly resumedAt?: { readonly epoch: number; readonly batch: number; readonly step: number };
}

/** Options of `runExperiment`. */
export interface RunExperimentOptions {
  readonly config: ExperimentConfig;
  /** Where each configuration field came from (recorded in `config.json`). */
  readonly origins?: Readonly<Record<string, string>>;
  /** The run directory (created if needed). */
  readonly outDir: string;
  readonly logger?: Logger;
  /** Receives every engine event (steps, mask updates, epochs). */
  readonly events?: EventSink;
  readonly observer?: RunObserver;
  /** Root container to create the experiment's child container under (default: a fresh one). */
  readonly root?: Container;
  /** Plugins already loaded; default: load `config.plugins` relative to `cwd`. */
  readonly plugins?: readonly LoadedPlugin[];
  readonly cwd?: string;
  /**
   * Continue from this checkpoint (see `loadResumePoint`): `config` must be the checkpoint's and `outDir` its
   * run directory.
   */
  readonly resume?: LoadedCheckpoint;
  /**
   * Aborting it stops the run after the current step: a checkpoint is saved and `RunInterrupted` thrown
   * (the CLI aborts on SIGINT/SIGTERM).
   */
  readonly signal?: AbortSignal;
  /** Checkpoint options: how many files to keep (default 2) and file-system overrides (failure injection in tests). */
  readonly checkpoint?: { readonly keep?: number; readonly fs?: Partial<FsOps> };
  /**
   * Testing aid (the CLI reads `SPARSE_LEARNING_HOLD_AT_STEP`): after optimizer step `n`, write
   * `<outDir>/.hold` and wait until `signal` aborts (ignored without a `signal`), so a test can kill or interrupt
   * the process at a known step.
   */
  readonly holdAtStep?: number;
  /**
   * `--force`: write a new run into a directory that already holds one, replacing that run's own files
   * (other files are kept). Without it such a directory is `E_RUN_EXISTS` (see `checkRunDirectory`).
   */
  readonly overwrite?: boolean;
  /** Warnings about the configuration (e.g. a preset overriding a flag), recorded in `config.json`. */
  readonly configWarnings?: readonly string[];
  /** The command holding the run directory's lock, for `E_RUN_LOCKED` messages (default `train`). */
  readonly command?: string;
}

/** A short label for progress lines: `preset model d=… seed=…`. */
export function runLabel(config: ExperimentConfig): string {
  return `${config.preset} ${config.model} d=${config.density} seed=${config.seed}`;
}
