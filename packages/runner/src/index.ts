/**
 * @sparse-learning/runner — the composition root (the only place that builds inversify containers), the
 * presets (Sparse Momentum, SET, DeepR, dense, static, RigL), configuration validation, backend selection,
 * experiments over seeds, results, reports, and the `sparse-learning` CLI.
 */
import 'reflect-metadata';

export * from './config/schema.js';
export * from './config/resolve.js';
export { datasetRecipe } from './config/recipes.js';
export * from './presets/index.js';
export * from './composition/compose.js';
export * from './composition/plugin-loader.js';
export { BUILTIN_PLUGIN_MODULES } from './composition/builtin-plugins.js';
export * from './config/plugin-slots.js';
export * from './run/experiment.js';
export type { EpochMetrics, LayerMetrics, LayerRedistribution, RunResults } from './run/metrics.js';
export { RunDirectory, RUN_FILES, HOLD_MARKER, readMetrics, readJson } from './run/run-directory.js';
export { captureRunState, restoreRunState, resumeExtraOf, historyOf } from './run/checkpointing.js';
export type { ResumeExtra, RunRecord, CheckpointReason } from './run/checkpointing.js';
export { UpdateSummary } from './run/epoch-progress.js';
export type { EpochProgress } from './run/epoch-progress.js';
export { loadResumePoint, resumeConfig, RESUME_HARMLESS_FIELDS } from './run/resume.js';
export type { ResumePoint } from './run/resume.js';
export { exportRun } from './run/export.js';
export type { RunExport } from './run/export.js';
export { encodeState, decodeState } from './run/state-codec.js';
export { activateBackend, modelNeedsConv } from './run/backend.js';
export * from './compare/compare.js';
export { queueExecutor, runQueueWorker, parseQueueUrl, redactSecrets, probeRedis, QUEUE_PASSWORD_ENV } from './queue/index.js';
export type { GridProgress, QueueExecutorOptions, QueueWorkerOptions, QueueWorkerSummary, QueueConnection } from './queue/index.js';
export * from './compare/statistics.js';
export * from './report/report.js';
export { main, buildProgram, EXIT } from './cli/program.js';
export type { CliIo } from './cli/program.js';
export { RUNNER_VERSION } from './version.js';
