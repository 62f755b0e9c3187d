/**
 * The compact checkpoint of a compact sparse session (issue 9): the active weights only, in the same atomic,
 * versioned, checksummed container as every checkpoint (`@sparse-learning/checkpoint`), so that its size
 * follows the active weights, not the dense shape. Format `compact-mlp`, version {@link COMPACT_STATE_VERSION}
 * (recorded in the run record as `sparseState`, with each layer's name, shape and activation):
 *
 * - variables `<weight>#colptr` int32 `[out + 1]`, `<weight>#rowidx` int32 `[nnz]`, `<weight>#values` float32
 *   `[nnz]` (CSC by output: the inputs of output `o` are `rowidx[colptr[o] … colptr[o+1]−1]`, ascending; the
 *   dense position is `input · out + o`), and each bias under its own name `[out]`;
 * - optimizer slots (`sgd`): `momentum_buffer` per nonzero for every weight (`[nnz]`, CSC order) and per
 *   unit for every bias, plus `window-momentum` `[in · out]` for a layer whose dense-gradient window is open;
 * - trainer state (counters, prune rate, controller, `mask-update` and `noise` streams), stateful strategies,
 *   epoch progress and metrics history exactly as in the dense form.
 *
 * Resume is bit-exact: the restored layers are the saved arrays and the trainer continues its streams. A
 * dense-form checkpoint (a sparse run of an earlier version, or with `--sparse-state dense`) resumes into a
 * compact session too: its weights, masks and momentum are converted once (they fit: they were written).
 */
import { SPARSE_NARROW_POSITIONS, type CapturedVariable, type CheckpointData, type JsonValue, type LoadedCheckpoint, type SparseExportTensor } from '@sparse-learning/checkpoint';
import { MOMENTUM_BUFFER_SLOT, SparseLearningError, type SparseTrainerState } from '@sparse-learning/core';
import { maskOf, scatterDense, sparseLayerFromCsc, sparseLayerFromDense, type SparseDenseLayer } from '@sparse-learning/backend-native';
import type { ExperimentConfig } from '../config/schema.js';
import { checkpointParts, resumeExtraOf, statefulParts, type CheckpointReason, type CompactStateRecord, type ResumeExtra, type RunRecord } from './checkpointing.js';
import type { EpochProgress } from './epoch-progress.js';
import type { EpochMetrics } from './metrics.js';
import type { CompactSession } from './sparse-compact-state.js';
import { decodeState } from './state-codec.js';

/** Version of the `compact-mlp` checkpoint layout. */
export const COMPACT_STATE_VERSION = 1;
/** Optimizer slot of an open dense-gradient window's momentum. */
export const WINDOW_MOMENTUM_SLOT = 'window-momentum';

const f32 = (values: Float32Array): CapturedVariable => ({ shape: [values.length], dtype: 'float32', values: values.slice() });
const i32 = (values: Int32Array): CapturedVariable => ({ shape: [values.length], dtype: 'int32', values: values.slice() });

/** The layout record of `session`'s layers. */
export function compactStateRecord(session: CompactSession): CompactStateRecord {
  return {
    format: 'compact-mlp',
    version: COMPACT_STATE_VERSION,
    layers: session.layers.map((s) => ({ weightName: s.weightName, biasName: s.biasName, in: s.layer.in, out: s.layer.out, relu: s.layer.relu })),
  };
}

/** Snapshots a compact session (the counterpart of `captureRunState`; see the module comment). */
export function captureCompactRunState(
  session: CompactSession,
  args: { readonly history: readonly EpochMetrics[]; readonly progress: EpochProgress; readonly reason: CheckpointReason; readonly record: RunRecord },
): CheckpointData {
  const trainer = session.trainer;
  if (!trainer) throw new SparseLearningError('E_ENGINE_STATE', 'compact checkpoint before the sparse trainer was bound');
  session.layers = trainer.layers;
  const trainerState = trainer.getState();
  const position = trainer.position();
  const variables: Record<string, CapturedVariable> = {};
  const slots: Record<string, Record<string, Float32Array>> = {};
  const window = trainer.windowMomentum();
  for (const { weightName, biasName, layer } of trainer.layers) {
    variables[`${weightName}#colptr`] = i32(layer.colptr);
    variables[`${weightName}#rowidx`] = i32(layer.rowidx);
    variables[`${weightName}#values`] = f32(layer.vals);
    slots[weightName] = { [MOMENTUM_BUFFER_SLOT]: layer.mom.slice(), ...(window[weightName] ? { [WINDOW_MOMENTUM_SLOT]: window[weightName] } : {}) };
    if (biasName && layer.bias) {
      variables[biasName] = { shape: [layer.out], dtype: 'float32', values: layer.bias.slice() };
      if (layer.biasMom) slots[biasName] = { [MOMENTUM_BUFFER_SLOT]: layer.biasMom.slice() };
    }
  }
  return {
    ...checkpointParts(session, trainerState, position, args, { baselineNonzero: session.baselineNonzero, sparseState: compactStateRecord(session) }),
    tensors: { variables, masks: {}, optimizer: { id: session.composition.optimizer.id, iterations: position.step, slots } },
  };
}

function incompatible(checkpoint: LoadedCheckpoint, problem: string): SparseLearningError {
  return new SparseLearningError(
    'E_CHECKPOINT_INCOMPATIBLE',
    `cannot resume from '${checkpoint.path}' (epoch ${checkpoint.epoch}, step ${checkpoint.step}) in compact sparse state: ${problem}`,
    { path: checkpoint.path, problem },
  );
}

/** The compact layers stored in a `compact-mlp` checkpoint, checked against `record`. */
export function layersFromCompactCheckpoint(checkpoint: LoadedCheckpoint, record: CompactStateRecord): { layers: SparseDenseLayer[]; window: Record<string, Float32Array> } {
  if (record.format !== 'compact-mlp' || record.version > COMPACT_STATE_VERSION) {
    throw incompatible(checkpoint, `its sparse state is '${record.format}' version ${record.version}; this runner reads 'compact-mlp' up to version ${COMPACT_STATE_VERSION}`);
  }
  const { variables } = checkpoint.tensors;
  const slots = checkpoint.tensors.optimizer?.slots ?? {};
  const window: Record<string, Float32Array> = {};
  const layers = record.layers.map((l) => {
    const get = (suffix: string) => {
      const v = variables[`${l.weightName}#${suffix}`];
      if (!v) throw incompatible(checkpoint, `'${l.weightName}#${suffix}' is missing`);
      return v.values;
    };
    const colptr = get('colptr') as Int32Array;
    const rowidx = get('rowidx') as Int32Array;
    const vals = get('values') as Float32Array;
    const nnz = rowidx.length;
    const mom = slots[l.weightName]?.[MOMENTUM_BUFFER_SLOT];
    if (colptr.length !== l.out + 1 || colptr[l.out] !== nnz || vals.length !== nnz || (mom && mom.length !== nnz)) {
      throw incompatible(checkpoint, `the arrays of '${l.weightName}' do not form a [${l.in}, ${l.out}] layer of ${nnz} entries`);
    }
    for (let k = 0; k < nnz; k++) if (rowidx[k] < 0 || rowidx[k] >= l.in) throw incompatible(checkpoint, `'${l.weightName}' has input index ${rowidx[k]} outside 0..${l.in - 1}`);
    const bias = l.biasName ? ((variables[l.biasName]?.values as Float32Array | undefined) ?? null) : null;
    const biasMom = l.biasName ? (slots[l.biasName]?.[MOMENTUM_BUFFER_SLOT] ?? null) : null;
    const w = slots[l.weightName]?.[WINDOW_MOMENTUM_SLOT];
    if (w) window[l.weightName] = w;
    return sparseLayerFromCsc(l.in, l.out, colptr.slice(), rowidx.slice(), vals.slice(), {
      mom: mom ? mom.slice() : new Float32Array(nnz),
      bias: bias ? bias.slice() : null,
      biasMom: biasMom ? biasMom.slice() : bias ? new Float32Array(l.out) : null,
      relu: l.relu,
    });
  });
  return { layers, window };
}

/**
 * Puts a fresh compact session into a checkpoint's state: a `compact-mlp` checkpoint as stored, a dense-form one
 * (weights, masks, dense momentum) converted to compact layers. Counters, streams, strategies and
 * `baselineNonzero` are restored; the trainer is bound afterwards and continues from them.
 *
 * @throws `E_CHECKPOINT_INCOMPATIBLE` naming what differs (model, configuration, layer arrays, a newer format).
 */
export function restoreCompactRunState(session: CompactSession, checkpoint: LoadedCheckpoint, config: ExperimentConfig): ResumeExtra {
  const extra = resumeExtraOf(checkpoint);
  if (checkpoint.modelId !== config.model) throw incompatible(checkpoint, `it holds model '${checkpoint.modelId}', this run '${config.model}'`);
  const recorded = decodeState(checkpoint.config as JsonValue) as Partial<ExperimentConfig>;
  const differing = (['model', 'dataset', 'preset', 'density', 'seed'] as const).filter((k) => recorded[k] !== config[k]);
  if (differing.length > 0) throw incompatible(checkpoint, `its configuration differs in ${differing.map((k) => `${k} (${String(recorded[k])} vs ${String(config[k])})`).join(', ')}`);
  const parts = statefulParts(session);
  const missing = parts.filter(([key]) => !(key in checkpoint.strategyStates)).map(([key]) => key);
  if (missing.length > 0) throw incompatible(checkpoint, `it has no state for ${missing.join(', ')}`);
  let layers: SparseDenseLayer[];
  let window: Record<string, Float32Array> = {};
  if (extra.sparseState) {
    ({ layers, window } = layersFromCompactCheckpoint(checkpoint, extra.sparseState));
  } else {
    // A dense-form checkpoint of this model: convert it once.
    const { variables, masks } = checkpoint.tensors;
    const slots = checkpoint.tensors.optimizer?.slots ?? {};
    layers = session.layers.map(({ weightName, biasName, layer }) => {
      // The dense momentum is what the dense-state sparse execution starts its window from (SparseMlpTrainer's
      // `denseMomentum`); the trainer keeps it only when its window or strategies read it.
      const denseMomentum = slots[weightName]?.[MOMENTUM_BUFFER_SLOT];
      if (denseMomentum) window[weightName] = denseMomentum;
      const w = variables[weightName];
      if (!w || w.values.length !== layer.in * layer.out) throw incompatible(checkpoint, `dense weight '${weightName}' [${layer.in}, ${layer.out}] is missing or has another shape`);
      const mask = masks[weightName];
      if (!mask) throw incompatible(checkpoint, `mask '${weightName}' is missing (a dense run's checkpoint cannot resume in sparse execution)`);
      const bias = biasName ? ((variables[biasName]?.values as Float32Array | undefined)?.slice() ?? null) : null;
      return sparseLayerFromDense(w.values as Float32Array, mask, layer.in, layer.out, {
        bias,
        biasMom: biasName && bias ? (slots[biasName]?.[MOMENTUM_BUFFER_SLOT]?.slice() ?? new Float32Array(bias.length)) : null,
        momentum: slots[weightName]?.[MOMENTUM_BUFFER_SLOT] ?? null,
        relu: layer.relu,
      });
    });
  }
  if (layers.length !== session.layers.length || layers.some((l, i) => l.in !== session.layers[i].layer.in || l.out !== session.layers[i].layer.out)) {
    throw incompatible(checkpoint, `its layers [${layers.map((l) => `${l.in}×${l.out}`).join(', ')}] are not the model's`);
  }
  session.layers = session.layers.map((s, i) => ({ ...s, layer: layers[i] }));
  if (extra.baselineNonzero !== null) session.baselineNonzero = extra.baselineNonzero;
  for (const [key, part] of parts) part.setState(decodeState(checkpoint.strategyStates[key]));
  // The trainer is bound afterwards and continues from these books and window buffers.
  session.restored = { state: decodeState(checkpoint.trainerState as JsonValue) as SparseTrainerState, window };
  return extra;
}

/**
 * A `compact-mlp` checkpoint in the dense form a `--sparse-state dense` run writes at the same point, so that it
 * resumes into a dense session (`--execution masked`, or `--sparse-state dense`): every weight dense (zeros off
 * the mask), the masks, the biases, and — when the run has momentum — each weight's dense momentum (an open
 * window's `window-momentum`, else the per-nonzero momentum scattered: what the sparse trainer's
 * `denseMomentumOf` gives the dense form) and each bias's. Any other checkpoint is returned as it is. Only for
 * models whose dense form fits: the caller's session holds it already.
 *
 * @throws `E_CHECKPOINT_INCOMPATIBLE` for compact arrays that do not form the recorded layers.
 */
export function denseFormOfCheckpoint(checkpoint: LoadedCheckpoint, withMomentum: boolean): LoadedCheckpoint {
  const extra = resumeExtraOf(checkpoint);
  if (!extra.sparseState) return checkpoint;
  const { layers, window } = layersFromCompactCheckpoint(checkpoint, extra.sparseState);
  const variables: Record<string, CapturedVariable> = {};
  const masks: Record<string, Uint8Array> = {};
  const slots: Record<string, Record<string, Float32Array>> = {};
  extra.sparseState.layers.forEach((l, j) => {
    const layer = layers[j];
    variables[l.weightName] = { shape: [l.in, l.out], dtype: 'float32', values: scatterDense(layer, layer.vals) };
    masks[l.weightName] = maskOf(layer);
    if (withMomentum) slots[l.weightName] = { [MOMENTUM_BUFFER_SLOT]: window[l.weightName]?.slice() ?? scatterDense(layer, layer.mom) };
    if (l.biasName && layer.bias) {
      variables[l.biasName] = { shape: [l.out], dtype: 'float32', values: layer.bias.slice() };
      if (withMomentum && layer.biasMom) slots[l.biasName] = { [MOMENTUM_BUFFER_SLOT]: layer.biasMom.slice() };
    }
  });
  const { sparseState: _compact, ...denseExtra } = checkpoint.extra as Record<string, JsonValue>;
  const optimizer = checkpoint.tensors.optimizer;
  return {
    ...checkpoint,
    extra: denseExtra,
    tensors: { variables, masks, optimizer: optimizer ? { id: optimizer.id, iterations: optimizer.iterations, slots } : null },
  };
}

/**
 * The tensors of a `compact-mlp` checkpoint as a sparse export holds them (the model's variable names, the
 * weights by flat `[in, out]` position, the biases dense), in the model's variable order: weight, bias per layer.
 * A layer of more than 2³² positions (`er-mlp-100000`'s 10¹⁰) gets `Float64Array` positions, which the export
 * stores as 64-bit positions; every other layer the `Uint32Array` of before (the same file bytes).
 */
export function compactExportTensors(checkpoint: LoadedCheckpoint, record: CompactStateRecord): SparseExportTensor[] {
  const { layers } = layersFromCompactCheckpoint(checkpoint, record);
  const out: SparseExportTensor[] = [];
  record.layers.forEach((l, j) => {
    const layer = layers[j];
    const size = l.in * l.out;
    // Positions i·out + o in ascending order: walk the CSR view (by input, outputs ascending).
    const nnz = layer.colptr[l.out];
    const indices = size > SPARSE_NARROW_POSITIONS ? new Float64Array(nnz) : new Uint32Array(nnz);
    const values = new Float32Array(nnz);
    for (let i = 0, k = 0; i < l.in; i++) {
      for (let r = layer.rowptr[i]; r < layer.rowptr[i + 1]; r++, k++) {
        indices[k] = i * l.out + layer.colidx[r];
        values[k] = layer.vals[layer.perm[r]];
      }
    }
    out.push({ name: l.weightName, shape: [l.in, l.out], masked: true, indices, values });
    if (l.biasName && layer.bias) out.push({ name: l.biasName, shape: [l.out], dtype: 'float32', masked: false, dense: layer.bias });
  });
  return out;
}
