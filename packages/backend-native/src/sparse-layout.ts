/**
 * Compact storage of one sparse Dense layer (issue 9): only the active weights, their momentum and their
 * indices, in the two orders the native kernels need — CSC by output (forward gather, weight gradient at the
 * nonzeros) and CSR by input with a permutation into the CSC slots (input gradient). Memory is
 * `nnz × (4 value + 4 momentum + 4 row + 4 column + 4 permutation)` bytes plus `O(in + out)` pointers: it
 * scales with the active weights, not with the dense shape.
 *
 * The dense layout used for conversions is the tfjs Dense kernel's `[in, out]` row-major (flat index
 * `i·out + o`), the same as the masks of `@sparse-learning/core`'s `Masking`.
 */
import { SparseLearningError } from '@sparse-learning/core';
import type { NativeAddon } from './addon.js';
import { indexByInput } from './compressed-transpose.js';

/** Floats of batch padding: activations are `[features][paddedBatch]` rows, a multiple of 16 floats. */
export const SPARSE_BATCH_PAD = 16;

/** The batch rounded up to {@link SPARSE_BATCH_PAD}. */
export function paddedBatch(batch: number): number {
  return Math.ceil(batch / SPARSE_BATCH_PAD) * SPARSE_BATCH_PAD;
}

/** One sparse Dense layer `y = act(Wᵀx + b)`, `W` of dense shape `[in, out]`, as the native kernels read it. */
export interface SparseDenseLayer {
  readonly in: number;
  readonly out: number;
  /** CSC by output: the entries of output `o` are `colptr[o] … colptr[o+1]−1`. */
  colptr: Int32Array;
  /** Input index of every CSC entry (ascending within an output). */
  rowidx: Int32Array;
  /** Weight of every CSC entry. */
  vals: Float32Array;
  /** SGD momentum buffer of every CSC entry. */
  mom: Float32Array;
  /** CSR by input: the entries of input `i` are `rowptr[i] … rowptr[i+1]−1`. */
  rowptr: Int32Array;
  /** Output index of every CSR entry. */
  colidx: Int32Array;
  /** CSC slot of every CSR entry (the input gradient reads `vals[perm[k]]`: one value array for both orders). */
  perm: Int32Array;
  bias: Float32Array | null;
  biasMom: Float32Array | null;
  /** ReLU after the layer (else linear). */
  readonly relu: boolean;
}

/** The sparse functions of the addon (`native/sparse_binding.cc`); absent in builds older than issue 9. */
export interface SparseAddon {
  sparseForward(layer: SparseDenseLayer, x: Float32Array, y: Float32Array, bp: number): void;
  sparseBackwardInput(layer: SparseDenseLayer, dy: Float32Array, reluOf: Float32Array | null, dx: Float32Array, bp: number): void;
  sparseWeightGrad(layer: SparseDenseLayer, dy: Float32Array, x: Float32Array, grad: Float32Array, bp: number): void;
  sparseWeightGradSgd(
    layer: SparseDenseLayer,
    dy: Float32Array,
    x: Float32Array,
    bp: number,
    lr: number,
    momentum: number,
    weightDecay: number,
    nesterov: boolean,
  ): void;
  sparseMlpPlan(layers: readonly SparseDenseLayer[], maxBatch: number): object;
  sparseMlpStep(
    plan: object,
    x: Float32Array,
    labels: Int32Array,
    batch: number,
    train: boolean,
    lr: number,
    momentum: number,
    weightDecay: number,
    nesterov: boolean,
    out?: Float64Array,
  ): number;
  sparseMlpDenseGrad(plan: object, layer: number, dW: Float32Array): void;
  sparseMlpDenseMomentum(plan: object, layer: number, m: Float32Array, dW: Float32Array, momentum: number, first: boolean): void;
  sparseInfo(): { isa: string; threads: number; pad: number };
  sparseSetIsa(isa: 'generic' | 'avx2' | 'avx512'): boolean;
}

/** The addon's sparse functions, or null when the loaded build has none. */
export function sparseAddonOf(addon: NativeAddon | null): SparseAddon | null {
  const candidate = addon as unknown as Partial<SparseAddon> | null;
  return candidate && typeof candidate.sparseMlpStep === 'function' ? (candidate as SparseAddon) : null;
}

/** Options of {@link sparseLayerFromDense}. */
export interface FromDenseOptions {
  readonly bias?: Float32Array | null;
  readonly biasMom?: Float32Array | null;
  /** Dense momentum `[in, out]` to keep at the active positions (else zeros). */
  readonly momentum?: Float32Array | null;
  /**
   * Without `momentum`: the layer this one replaces (same shape); positions active in both keep its momentum,
   * new ones start at 0 — what `momentum: scatterDense(previous, previous.mom)` gives, in O(nnz) instead of a
   * dense `[in, out]` array.
   */
  readonly previous?: SparseDenseLayer | null;
  readonly relu?: boolean;
}

/**
 * The positions `k` (ascending) with `mask[k] ≠ 0`, or with `weight[k] ≠ 0` when there is no mask. Mask bytes
 * are read four at a time where the mask is word-aligned: at 1 % density nearly every word is zero, so the
 * two passes over an 11 M-position layer (count, then list) cost a quarter of the per-byte loop.
 */
function activePositions(weight: Float32Array, mask: Uint8Array | null, size: number): Int32Array {
  if (!mask) {
    let count = 0;
    for (let k = 0; k < size; k++) if (weight[k] !== 0) count++;
    const positions = new Int32Array(count);
    for (let k = 0, n = 0; k < size; k++) if (weight[k] !== 0) positions[n++] = k;
    return positions;
  }
  const words = (mask.byteOffset & 3) === 0 ? new Uint32Array(mask.buffer, mask.byteOffset, size >>> 2) : new Uint32Array(0);
  const tail = words.length << 2;
  let count = 0;
  for (let w = 0; w < words.length; w++) {
    if (words[w] === 0) continue;
    for (let k = w << 2; k < (w << 2) + 4; k++) if (mask[k] !== 0) count++;
  }
  for (let k = tail; k < size; k++) if (mask[k] !== 0) count++;
  const positions = new Int32Array(count);
  let n = 0;
  for (let w = 0; w < words.length; w++) {
    if (words[w] === 0) continue;
    for (let k = w << 2; k < (w << 2) + 4; k++) if (mask[k] !== 0) positions[n++] = k;
  }
  for (let k = tail; k < size; k++) if (mask[k] !== 0) positions[n++] = k;
  return positions;
}

/**
 * Builds the compact layer of the active positions of a dense `[in, out]` weight: `mask[i·out+o] ≠ 0`
 * (`mask` null: every nonzero weight is active).
 */
export function sparseLayerFromDense(
  weight: Float32Array,
  mask: Uint8Array | null,
  inFeatures: number,
  outFeatures: number,
  options: FromDenseOptions = {},
): SparseDenseLayer {
  const size = inFeatures * outFeatures;
  if (weight.length !== size || (mask && mask.length !== size)) {
    throw new SparseLearningError('E_CONFIG_INVALID', `sparse layer: weight/mask of ${weight.length} entries, expected ${inFeatures}×${outFeatures}`);
  }
  // The active positions in row-major order (a mask update rebuilds every layer; issue 9).
  const positions = activePositions(weight, mask, size);
  const count = positions.length;
  const colptr = new Int32Array(outFeatures + 1);
  for (let n = 0; n < count; n++) colptr[(positions[n] % outFeatures) + 1]++;
  for (let o = 0; o < outFeatures; o++) colptr[o + 1] += colptr[o];
  const nnz = colptr[outFeatures];
  const rowidx = new Int32Array(nnz);
  const vals = new Float32Array(nnz);
  const mom = new Float32Array(nnz);
  const fill = colptr.slice(0, outFeatures);
  const momentum = options.momentum;
  // Rows in ascending order: each output's inputs come out sorted.
  for (let n = 0; n < count; n++) {
    const k = positions[n];
    const i = (k / outFeatures) | 0;
    const slot = fill[k - i * outFeatures]++;
    rowidx[slot] = i;
    vals[slot] = weight[k];
    if (momentum) mom[slot] = momentum[k];
  }
  const previous = momentum ? null : options.previous;
  if (previous) {
    if (previous.in !== inFeatures || previous.out !== outFeatures) {
      throw new SparseLearningError('E_CONFIG_INVALID', `sparse layer: previous layer is ${previous.in}×${previous.out}, expected ${inFeatures}×${outFeatures}`);
    }
    // Both layers list each output's inputs in ascending order: one merge walk per output.
    for (let o = 0; o < outFeatures; o++) {
      let p = previous.colptr[o];
      const pEnd = previous.colptr[o + 1];
      for (let slot = colptr[o]; slot < colptr[o + 1] && p < pEnd; slot++) {
        const i = rowidx[slot];
        while (p < pEnd && previous.rowidx[p] < i) p++;
        if (p < pEnd && previous.rowidx[p] === i) mom[slot] = previous.mom[p];
      }
    }
  }
  return withCsr({
    in: inFeatures,
    out: outFeatures,
    colptr,
    rowidx,
    vals,
    mom,
    rowptr: new Int32Array(inFeatures + 1),
    colidx: new Int32Array(0),
    perm: new Int32Array(0),
    bias: options.bias ?? null,
    biasMom: options.biasMom ?? (options.bias ? new Float32Array(outFeatures) : null),
    relu: options.relu ?? false,
  });
}

/** Builds a layer from its CSC arrays (the CSR index is derived). */
export function sparseLayerFromCsc(
  inFeatures: number,
  outFeatures: number,
  colptr: Int32Array,
  rowidx: Int32Array,
  vals: Float32Array,
  options: { readonly mom?: Float32Array; readonly bias?: Float32Array | null; readonly biasMom?: Float32Array | null; readonly relu?: boolean } = {},
): SparseDenseLayer {
  return withCsr({
    in: inFeatures,
    out: outFeatures,
    colptr,
    rowidx,
    vals,
    mom: options.mom ?? new Float32Array(vals.length),
    rowptr: new Int32Array(inFeatures + 1),
    colidx: new Int32Array(0),
    perm: new Int32Array(0),
    bias: options.bias ?? null,
    biasMom: options.biasMom ?? (options.bias ? new Float32Array(outFeatures) : null),
    relu: options.relu ?? false,
  });
}

/** (Re)derives `rowptr`, `colidx`, `perm` from the CSC arrays (a counting sort by input: O(nnz + in)). */
export function withCsr(layer: SparseDenseLayer): SparseDenseLayer {
  const { ptr, output, perm } = indexByInput(layer.colptr, layer.rowidx, layer.out, layer.in);
  layer.rowptr = ptr;
  layer.colidx = output;
  layer.perm = perm;
  return layer;
}

/** Active weights of the layer. */
export function nnzOf(layer: SparseDenseLayer): number {
  return layer.colptr[layer.out];
}

/** Scatters a per-nonzero array (`vals`, `mom`) into a dense `[in, out]` array (zeros elsewhere). */
export function scatterDense(layer: SparseDenseLayer, values: Float32Array, into?: Float32Array): Float32Array {
  const out = into ?? new Float32Array(layer.in * layer.out);
  if (into) out.fill(0);
  for (let o = 0; o < layer.out; o++) {
    for (let k = layer.colptr[o]; k < layer.colptr[o + 1]; k++) out[layer.rowidx[k] * layer.out + o] = values[k];
  }
  return out;
}

/** The dense `[in, out]` mask of the active positions. */
export function maskOf(layer: SparseDenseLayer): Uint8Array {
  const mask = new Uint8Array(layer.in * layer.out);
  for (let o = 0; o < layer.out; o++) {
    for (let k = layer.colptr[o]; k < layer.colptr[o + 1]; k++) mask[layer.rowidx[k] * layer.out + o] = 1;
  }
  return mask;
}

/** Bytes held by the layer's compact arrays (values, momentum, both indices, biases). */
export function sparseLayerBytes(layer: SparseDenseLayer): number {
  const arrays = [layer.colptr, layer.rowidx, layer.vals, layer.mom, layer.rowptr, layer.colidx, layer.perm, layer.bias, layer.biasMom];
  return arrays.reduce((acc, a) => acc + (a ? a.byteLength : 0), 0);
}
