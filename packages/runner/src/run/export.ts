import { join, resolve } from 'node:path';
import { exportSparseModel, exportSparseTensors, restoreVariables, type SparseExportResult } from '@sparse-learning/checkpoint';
import { compactExportTensors } from './sparse-compact-checkpoint.js';
import { SparseLearningError, silentLogger, type Logger } from '@sparse-learning/core';
import { SPARSE_MODEL_MAGIC, listCheckpoints } from '@sparse-learning/checkpoint';
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createModel } from '@sparse-learning/models';
import { activateBackend } from './backend.js';
import { loadResumePoint } from './resume.js';
import { RUN_FILES } from './run-directory.js';
import { acquireRunLock } from './run-lock.js';

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
 *
 * Holds the run directory's lock while it works (`E_RUN_LOCKED` while a run trains there). The checkpoint
 * must belong to the run (`checkRunIdentity`). When the newest checkpoint is unusable (corrupt, truncated)
 * the export fails with `E_CHECKPOINT_INVALID` — an older checkpoint is exported only with
 * `allowOlderCheckpoint` (`--allow-older-checkpoint`), never silently.
 */
export async function exportRun(
  runDir: string,
  options: { out?: string; logger?: Logger; allowOlderCheckpoint?: boolean } = {},
): Promise<RunExport> {
  const dir = resolve(runDir);
  const logger = options.logger ?? silentLogger;
  const lock = await acquireRunLock(dir, 'export', logger).catch((error: unknown) => {
    // A directory that does not exist gets the checkpoint loader's own message.
    if ((error as { code?: string }).code === 'E_WRITE_FAILED') return null;
    throw error;
  });
  try {
    return await exportLocked(dir, { ...options, logger });
  } finally {
    await lock?.release();
  }
}

/**
 * Refuses an output path that would overwrite something that is not a sparse export (a user's file, a
 * directory): `export` replaces only its own earlier output.
 */
function checkExportTarget(path: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch {
    return; // nothing there yet
  }
  const head = Buffer.alloc(SPARSE_MODEL_MAGIC.length);
  if (isFile) {
    const fd = openSync(path, 'r');
    try {
      readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
    if (head.toString('latin1') === SPARSE_MODEL_MAGIC) return;
  }
  throw new SparseLearningError(
    'E_CONFIG_INVALID',
    `export would overwrite '${path}', which is ${isFile ? 'not a sparse model export' : 'a directory'}; choose another --out file`,
    { path },
  );
}

/** The newest step a run directory claims to have (its `latest.json`, or its newest checkpoint file name). */
async function newestClaimedStep(dir: string): Promise<number> {
  const listed = (await listCheckpoints(dir))[0]?.step ?? -1;
  try {
    const pointer = JSON.parse(await readFile(join(dir, 'latest.json'), 'utf8')) as { step?: unknown };
    return typeof pointer.step === 'number' ? Math.max(pointer.step, listed) : listed;
  } catch {
    return listed;
  }
}

async function exportLocked(dir: string, options: { out?: string; logger: Logger; allowOlderCheckpoint?: boolean }): Promise<RunExport> {
  const problems: string[] = [];
  const point = await loadResumePoint(dir, {
    ...options.logger,
    warn: (message, data) => {
      problems.push(message);
      options.logger.warn(message, data);
    },
  });
  const { checkpoint, config, extra } = point;
  const newest = await newestClaimedStep(dir);
  if (checkpoint.step < newest) {
    const what = `the newest checkpoint of '${dir}' (step ${newest}) is unusable${problems.length ? ` (${problems.join('; ')})` : ''}`;
    if (!options.allowOlderCheckpoint) {
      throw new SparseLearningError(
        'E_CHECKPOINT_INVALID',
        `${what}; not exporting the older '${checkpoint.path}' (epoch ${checkpoint.epoch} of ${config.epochs}, step ${checkpoint.step}) without --allow-older-checkpoint`,
        { path: checkpoint.path, newestStep: newest, step: checkpoint.step },
      );
    }
    options.logger.warn(`${what}; exporting the older checkpoint of epoch ${checkpoint.epoch}, step ${checkpoint.step} (--allow-older-checkpoint)`);
  }
  const modelOptions = { inputShape: extra.modelOptions.inputShape as [number, number, number], numClasses: extra.modelOptions.numClasses };
  const meta = {
    modelId: checkpoint.modelId,
    modelOptions: { inputShape: [...modelOptions.inputShape], numClasses: modelOptions.numClasses },
    density: config.density,
    extra: { runDir: dir, epoch: checkpoint.epoch, step: checkpoint.step, complete: extra.complete, preset: config.preset, seed: config.seed },
  };
  const path = resolve(options.out ?? join(dir, RUN_FILES.export));
  const summary = (result: SparseExportResult): RunExport => ({
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
  });
  if (extra.sparseState) {
    // A compact sparse run (issue 9): the active weights straight from the checkpoint, no dense model.
    checkExportTarget(path);
    return summary(await exportSparseTensors(path, compactExportTensors(checkpoint, extra.sparseState), meta));
  }
  await activateBackend('cpu', config.model);
  const model = createModel(checkpoint.modelId, modelOptions);
  try {
    restoreVariables(model.variables, checkpoint.tensors);
    checkExportTarget(path);
    const result: SparseExportResult = await exportSparseModel(path, model, checkpoint.tensors.masks, meta);
    return summary(result);
  } finally {
    model.dispose();
  }
}
