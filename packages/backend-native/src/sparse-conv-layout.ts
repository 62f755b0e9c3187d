/**
 * Compact storage of one sparse convolution layer (issue 9, "sparse convolution where it pays"): only the active
 * filter entries, their momentum and their indices, in the two orders the native kernels need — grouped by
 * output channel (forward, weight gradient at the nonzeros; threads split output rows by nonzero count) and an
 * index by input channel with a permutation into the same slots (input gradient). Memory is
 * `nnz × (4 value + 4 momentum + 4 channel + 4 tap + 4 output channel + 4 permutation)` bytes plus
 * `O(cin + cout)` pointers: it scales with the active weights, not with the dense filter.
 *
 * The dense layout used for conversions is the tfjs conv2d filter's HWIO `[kh, kw, cin, cout]` row-major (flat
 * index `((ky·kw + kx)·cin + c)·cout + o`), the same as the masks of `@sparse-learning/core`'s `Masking`.
 *
 * Activations are channel-major with the batch innermost, `[C][H][W][paddedBatch]` ({@link toChannelMajor}),
 * so each nonzero applied to a run of output pixels is a contiguous vector FMA over the batch (see
 * `native/sparse_conv.h`). Padding columns of a gradient fed to the kernels must be zero.
 */
import { SparseLearningError } from '@sparse-learning/core';
import type { NativeAddon } from './addon.js';
import { indexByInput } from './compressed-transpose.js';
import { paddedBatch } from './sparse-layout.js';

/** One sparse conv layer `y = act(conv(x, W) + b)`, `W` of dense shape `[kh, kw, cin, cout]`. */
export interface SparseConvLayer {
  readonly cin: number;
  readonly cout: number;
  readonly kh: number;
  readonly kw: number;
  /** By output channel: the entries of output `o` are `optr[o] … optr[o+1]−1`. */
  optr: Int32Array;
  /** Input channel of every entry (ascending within an output, then by tap). */
  chan: Int32Array;
  /** Filter tap `ky·kw + kx` of every entry. */
  tap: Int32Array;
  /** Weight of every entry. */
  vals: Float32Array;
  /** SGD momentum buffer of every entry. */
  mom: Float32Array;
  /** By input channel: the entries of input `c` are `iptr[c] … iptr[c+1]−1`. */
  iptr: Int32Array;
  /** Output channel of every by-input entry. */
  ochan: Int32Array;
  /** By-output slot of every by-input entry (value and tap are read through it: one value array). */
  perm: Int32Array;
  bias: Float32Array | null;
  /** ReLU after the layer (else linear). */
  readonly relu: boolean;
}

/** The sparse convolution functions of the addon (`native/sparse_conv_binding.cc`). */
export interface SparseConvAddon {
  /** `Y = act(conv(X) + bias)`; X `[cin][h][w][bp]`, Y `[cout][oh][ow][bp]`; `geom` from {@link convGeometry}. */
  sparseConvForward(layer: SparseConvLayer, geom: Int32Array, x: Float32Array, y: Float32Array, bp: number): void;
  /** `dX = convᵀ(dY)` (times `reluOf > 0` when given); every element of dX is written. */
  sparseConvBackwardInput(
    layer: SparseConvLayer,
    geom: Int32Array,
    dy: Float32Array,
    reluOf: Float32Array | null,
    dx: Float32Array,
    bp: number,
  ): void;
  /** Weight gradient at the nonzeros only, `grad[k]` in the layer's slot order. */
  sparseConvWeightGrad(layer: SparseConvLayer, geom: Int32Array, dy: Float32Array, x: Float32Array, grad: Float32Array, bp: number): void;
  /**
   * Weight gradient at the nonzeros, then SGD on the nonzeros in place (`vals`, and `mom` when momentum > 0):
   * PyTorch semantics in the float32 operation order of core's `SgdOptimizer`, as `sparseWeightGradSgd`.
   */
  sparseConvWeightGradSgd(
    layer: SparseConvLayer,
    geom: Int32Array,
    dy: Float32Array,
    x: Float32Array,
    bp: number,
    lr: number,
    momentum: number,
    weightDecay: number,
    nesterov: boolean,
  ): void;
  /** Dense HWIO filter gradient of the first `batch` columns (the dense-gradient window of momentum growth). */
  sparseConvDenseFilterGrad(
    layer: SparseConvLayer,
    geom: Int32Array,
    dy: Float32Array,
    x: Float32Array,
    dW: Float32Array,
    bp: number,
    batch: number,
  ): void;
}

/** The addon's sparse conv functions, or null when the loaded build has none. */
export function sparseConvAddonOf(addon: NativeAddon | null): SparseConvAddon | null {
  const candidate = addon as unknown as Partial<SparseConvAddon> | null;
  return candidate && typeof candidate.sparseConvForward === 'function' ? (candidate as SparseConvAddon) : null;
}

/** Output size and explicit padding of a conv, as TensorFlow's `'valid'` / `'same'` rules compute them. */
export interface ConvGeometry {
  readonly oh: number;
  readonly ow: number;
  readonly padTop: number;
  readonly padLeft: number;
  /** `[h, w, oh, ow, sh, sw, padTop, padLeft]`, the form the kernels take. */
  readonly geom: Int32Array;
}

/**
 * The geometry of a stride-`[sh, sw]` conv with a `kh × kw` filter over `h × w` inputs. `'same'`: output
 * `ceil(size / stride)`, total padding `max((out − 1)·stride + k − size, 0)`, the smaller half on top/left
 * (TensorFlow's rule); `'valid'`: output `ceil((size − k + 1) / stride)`, no padding.
 */
export function convGeometry(
  h: number,
  w: number,
  kh: number,
  kw: number,
  strides: readonly [number, number],
  padding: 'valid' | 'same',
): ConvGeometry {
  const [sh, sw] = strides;
  for (const [name, v] of [['h', h], ['w', w], ['kh', kh], ['kw', kw], ['stride', sh], ['stride', sw]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new SparseLearningError('E_CONFIG_INVALID', `sparse conv: ${name} = ${v}; expected an integer >= 1`);
  }
  if (padding !== 'valid' && padding !== 'same') {
    throw new SparseLearningError('E_CONFIG_INVALID', `sparse conv: padding = ${String(padding)}; expected 'valid' or 'same'`);
  }
  let oh: number;
  let ow: number;
  let padTop = 0;
  let padLeft = 0;
  if (padding === 'same') {
    oh = Math.ceil(h / sh);
    ow = Math.ceil(w / sw);
    padTop = Math.floor(Math.max((oh - 1) * sh + kh - h, 0) / 2);
    padLeft = Math.floor(Math.max((ow - 1) * sw + kw - w, 0) / 2);
  } else {
    oh = Math.ceil((h - kh + 1) / sh);
    ow = Math.ceil((w - kw + 1) / sw);
    if (oh < 1 || ow < 1) {
      throw new SparseLearningError('E_CONFIG_INVALID', `sparse conv: a ${kh}×${kw} 'valid' filter does not fit a ${h}×${w} input; use 'same' or a smaller filter`);
    }
  }
  return { oh, ow, padTop, padLeft, geom: Int32Array.from([h, w, oh, ow, sh, sw, padTop, padLeft]) };
}

/** Options of {@link sparseConvFromDense}. */
export interface ConvFromDenseOptions {
  readonly bias?: Float32Array | null;
  /** Dense HWIO momentum to keep at the active positions (else zeros). */
  readonly momentum?: Float32Array | null;
  readonly relu?: boolean;
}

/**
 * Builds the compact layer of the active positions of a dense HWIO filter: `mask[k] ≠ 0` (`mask` null: every
 * nonzero weight is active).
 */
export function sparseConvFromDense(
  weight: Float32Array,
  mask: Uint8Array | null,
  kh: number,
  kw: number,
  cin: number,
  cout: number,
  options: ConvFromDenseOptions = {},
): SparseConvLayer {
  const size = kh * kw * cin * cout;
  if (weight.length !== size || (mask && mask.length !== size)) {
    throw new SparseLearningError('E_SHAPE_MISMATCH', `sparse conv layer: weight/mask of ${weight.length} entries, expected ${kh}×${kw}×${cin}×${cout} = ${size}`);
  }
  const taps = kh * kw;
  const active = (k: number): boolean => (mask ? mask[k] !== 0 : weight[k] !== 0);
  const optr = new Int32Array(cout + 1);
  for (let k = 0; k < size; k++) if (active(k)) optr[(k % cout) + 1]++;
  for (let o = 0; o < cout; o++) optr[o + 1] += optr[o];
  const nnz = optr[cout];
  const chan = new Int32Array(nnz);
  const tap = new Int32Array(nnz);
  const vals = new Float32Array(nnz);
  const mom = new Float32Array(nnz);
  const fill = optr.slice(0, cout);
  // Visit by (channel, tap) so each output's entries come out sorted by input channel, then tap: the forward
  // gather then walks input planes in order.
  for (let c = 0; c < cin; c++) {
    for (let t = 0; t < taps; t++) {
      const base = (t * cin + c) * cout;
      for (let o = 0; o < cout; o++) {
        const k = base + o;
        if (!active(k)) continue;
        const slot = fill[o]++;
        chan[slot] = c;
        tap[slot] = t;
        vals[slot] = weight[k];
        if (options.momentum) mom[slot] = options.momentum[k];
      }
    }
  }
  return withInputIndex({
    cin,
    cout,
    kh,
    kw,
    optr,
    chan,
    tap,
    vals,
    mom,
    iptr: new Int32Array(cin + 1),
    ochan: new Int32Array(0),
    perm: new Int32Array(0),
    bias: options.bias ?? null,
    relu: options.relu ?? false,
  });
}

/** (Re)derives `iptr`, `ochan`, `perm` from the by-output arrays (a counting sort by input channel). */
export function withInputIndex(layer: SparseConvLayer): SparseConvLayer {
  const { ptr, output, perm } = indexByInput(layer.optr, layer.chan, layer.cout, layer.cin);
  layer.iptr = ptr;
  layer.ochan = output;
  layer.perm = perm;
  return layer;
}

/** Active entries of the layer. */
export function convNnzOf(layer: SparseConvLayer): number {
  return layer.optr[layer.cout];
}

/** Scatters a per-entry array (`vals`, `mom`, a weight gradient) into a dense HWIO array (zeros elsewhere). */
export function scatterConvDense(layer: SparseConvLayer, values: Float32Array, into?: Float32Array): Float32Array {
  const out = into ?? new Float32Array(layer.kh * layer.kw * layer.cin * layer.cout);
  if (into) out.fill(0);
  for (let o = 0; o < layer.cout; o++) {
    for (let k = layer.optr[o]; k < layer.optr[o + 1]; k++) out[(layer.tap[k] * layer.cin + layer.chan[k]) * layer.cout + o] = values[k];
  }
  return out;
}

/**
 * One step of the dense-gradient window's momentum for a conv filter (docs/algorithm.md#the-mask-update):
 * `M ← μM + ∇W` over the dense HWIO filter, then the active positions overwritten with their exact
 * (weight-decayed) per-entry momentum — the masked path's buffer, where inactive weights are 0 and get no decay.
 */
export function accumulateConvMomentum(layer: SparseConvLayer, m: Float32Array, g: Float32Array, mu: number): void {
  for (let k = 0; k < m.length; k++) m[k] = Math.fround(Math.fround(m[k] * mu) + g[k]);
  for (let o = 0; o < layer.cout; o++) {
    for (let k = layer.optr[o]; k < layer.optr[o + 1]; k++) m[(layer.tap[k] * layer.cin + layer.chan[k]) * layer.cout + o] = layer.mom[k];
  }
}

/** Bytes held by the layer's compact arrays. */
export function sparseConvLayerBytes(layer: SparseConvLayer): number {
  const arrays = [layer.optr, layer.chan, layer.tap, layer.vals, layer.mom, layer.iptr, layer.ochan, layer.perm, layer.bias];
  return arrays.reduce((acc, a) => acc + (a ? a.byteLength : 0), 0);
}

/** NHWC `[n, h, w, c]` → channel-major `[c][h][w][paddedBatch(n)]` (padding columns zero). */
export function toChannelMajor(nhwc: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  const bp = paddedBatch(n);
  const out = new Float32Array(c * h * w * bp);
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < h * w; p++) {
      const src = (b * h * w + p) * c;
      for (let ch = 0; ch < c; ch++) out[(ch * h * w + p) * bp + b] = nhwc[src + ch];
    }
  }
  return out;
}

/** Channel-major `[c][h][w][paddedBatch(n)]` → NHWC `[n, h, w, c]` (padding columns dropped). */
export function fromChannelMajor(cm: Float32Array, n: number, h: number, w: number, c: number): Float32Array {
  const bp = paddedBatch(n);
  const out = new Float32Array(n * h * w * c);
  for (let b = 0; b < n; b++) {
    for (let p = 0; p < h * w; p++) {
      const dst = (b * h * w + p) * c;
      for (let ch = 0; ch < c; ch++) out[dst + ch] = cm[(ch * h * w + p) * bp + b];
    }
  }
  return out;
}
