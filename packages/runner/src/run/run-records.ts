import * as tf from '@tensorflow/tfjs-core';
import { describeChoices } from '../composition/compose.js';
import type { RunRecord } from './checkpointing.js';
import type { EpochMetrics, RunResults } from './metrics.js';
import { configIdentity } from './run-identity.js';
import type { RunExperimentOptions } from './run-options.js';
import type { RunSession } from './session.js';
import type { ExecutionChoice } from './sparse-execution.js';

/**
 * What `config.json` records of a new run: the resolved configuration and its identity, where each field
 * came from, the backend and execution chosen and why, the plugin files, the plan, every plugin of the run
 * with its complete options (`strategies`), the run's size and the versions that trained it.
 */
export function runConfigRecord(
  session: RunSession,
  run: {
    readonly options: RunExperimentOptions;
    readonly plugins: readonly { readonly specifier: string; readonly resolved: string }[];
    readonly execution: ExecutionChoice;
    readonly startedAt: Date;
  },
): Record<string, unknown> {
  const { config, dataset, backend, plan } = session;
  return {
    config,
    configHash: configIdentity(config),
    ...(run.options.configWarnings?.length ? { warnings: run.options.configWarnings } : {}),
    dataset: { numClasses: dataset.numClasses, inputShape: dataset.inputShape },
    origins: run.options.origins ?? {},
    backend: { name: backend.backend, reason: backend.reason },
    plugins: run.plugins,
    plan: { sparsity: plan.sparsity, maskUpdater: plan.maskUpdater, trigger: plan.trigger.id, pruneRateSchedule: plan.pruneRateSchedule.id },
    execution: run.execution,
    strategies: describeChoices(session.composition.choices),
    stepsPerEpoch: session.stepsPerEpoch,
    totalSteps: session.totalSteps,
    tfjs: tf.version_core,
    node: process.version,
    createdAt: run.startedAt.toISOString(),
  };
}

/** `results.json` of a finished run: the last epoch's figures (no best-validation selection, paper §4). */
export function runResults(session: RunSession, last: EpochMetrics, record: RunRecord): RunResults {
  const { config, backend } = session;
  return {
    preset: config.preset,
    model: config.model,
    dataset: config.dataset,
    density: config.density,
    seed: config.seed,
    backend: { name: backend.backend, reason: backend.reason },
    epochs: config.epochs,
    steps: last.step,
    testAccuracy: last.testAccuracy,
    testError: 1 - last.testAccuracy,
    validationAccuracy: last.validationAccuracy,
    trainLoss: last.trainLoss,
    totalActive: last.totalActive,
    finalDensity: last.density,
    maskedWeights: session.maskedWeights,
    totalParameters: session.totalParameters,
    seconds: record.elapsedSeconds,
    startedAt: record.startedAt,
    finishedAt: new Date().toISOString(),
  };
}
