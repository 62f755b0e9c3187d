import { join, resolve } from 'node:path';
import { exportSparseModel, restoreVariables, type SparseExportResult } from '@sparse-learning/checkpoint';
import type { Logger } from '@sparse-learning/core';
import { silentLogger } from '@sparse-learning/core';
import { createModel } from '@sparse-learning/models';
import { activateBackend } from './backend.js';
import { loadResumePoint } from './resume.js';
import { RUN_FILES } from './run-directory.js';

/** What {@link exportRun} wrote. */
export interface RunExport {
  readonly path: string;
  readonly modelId: string;
  /** Completed epochs of the checkpoint exported and of the whole run. */
  readonly epoch: number;
  readonly epochs: number;
  readonly step: number;
  /** True when the run had finished (the final checkpoint). */
  readonly complete: boolean;
  readonly density: number;
  readonly sparseBytes: number;
  readonly denseBytes: number;
  /** `sparseBytes / denseBytes`. */
  readonly ratio: number;
  readonly sha256: string;
}

/**
 * Exports the trained sparse model of a run directory (its latest good checkpoint — the final one once the
 * run has finished) as a compact `.slsparse` file (`@sparse-learning/checkpoint` `exportSparseModel`: float32
 * values of the active weights + gap-encoded indices, biases and batch norm dense), and reports its size
 * against the dense float32 model. `loadSparseModel(path, (id, options) => createModel(id, options))` rebuilds
 * a TensorFlow.js model from it for inference.
 *
 * Runs on the `cpu` backend: export only copies tensors, so it needs neither the training backend nor data.
 */
export async function exportRun(runDir: string, options: { out?: string; logger?: Logger } = {}): Promise<RunExport> {
  const dir = resolve(runDir);
  const point = await loadResumePoint(dir, options.logger ?? silentLogger);
  const { checkpoint, config, extra } = point;
  await activateBackend('cpu', config.model);
  const modelOptions = { inputShape: extra.modelOptions.inputShape as [number, number, number], numClasses: extra.modelOptions.numClasses };
  const model = createModel(checkpoint.modelId, modelOptions);
  try {
    restoreVariables(model.variables, checkpoint.tensors);
    const path = resolve(options.out ?? join(dir, RUN_FILES.export));
    const result: SparseExportResult = await exportSparseModel(path, model, checkpoint.tensors.masks, {
      modelId: checkpoint.modelId,
      modelOptions: { inputShape: [...modelOptions.inputShape], numClasses: modelOptions.numClasses },
      density: config.density,
      extra: { runDir: dir, epoch: checkpoint.epoch, step: checkpoint.step, complete: extra.complete, preset: config.preset, seed: config.seed },
    });
    return {
      path,
      modelId: checkpoint.modelId,
      epoch: checkpoint.epoch,
      epochs: config.epochs,
      step: checkpoint.step,
      complete: extra.complete,
      density: config.density,
      sparseBytes: result.sparseBytes,
      denseBytes: result.denseBytes,
      ratio: result.ratio,
      sha256: result.sha256,
    };
  } finally {
    model.dispose();
  }
}
