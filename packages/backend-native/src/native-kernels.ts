/**
 * TensorFlow.js kernels backed by the native addon: GEMM (`BatchMatMul`, `_FusedMatMul`), convolutions
 * (`Conv2D`, `FusedConv2D`, `Conv2DBackpropInput`, `Conv2DBackpropFilter`) and max pooling (`MaxPool`,
 * `MaxPoolGrad`), the ops a profile of a LeNet/WRN training step shows to dominate (issue 6, item 2).
 *
 * The kernels are written against a {@link TensorStore}, a two-method view of the base backend's memory, so
 * the same code runs on a backend derived from wasm (views into the wasm heap) or from cpu (the backend's own
 * Float32Arrays). Any case a kernel does not handle (non-float32, NCHW, dilated pooling, prelu, broadcasting
 * the addon does not do) is delegated to the base backend's stock kernel, so behaviour stays identical.
 */
import { backend_util, broadcast_util, getBackend, getKernel, slice_util, util } from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

import { SparseLearningError, unknownIdError } from '@sparse-learning/core';

import type { NativeAddon } from './addon.js';
import type { LazyOutputs } from './lazy-outputs.js';
import type { TensorStore } from './tensor-store.js';

type Args = { inputs: Record<string, TensorInfo | undefined>; backend: KernelBackend; attrs?: NamedAttrMap };
type Fallbacks = ReadonlyMap<string, KernelFunc>;

/** A kernel implementation: returns `null` to ask for the base backend's stock kernel. */
type NativeImpl = (args: Args, addon: NativeAddon, store: TensorStore, lazy?: LazyOutputs) => TensorInfo | TensorInfo[] | null;

/**
 * Runs `compute` now, or defers it until the output is read when `lazy` is given (see lazy-outputs.ts).
 * `compute` takes its views itself, so it is correct at any later time.
 */
function runOrDefer(lazy: LazyOutputs | undefined, backend: KernelBackend, out: TensorInfo, held: TensorInfo[], compute: () => void): void {
  if (lazy?.supported) lazy.defer(backend, out, held, compute);
  else compute();
}

const isF32 = (...ts: (TensorInfo | undefined)[]): boolean => ts.every((t) => t === undefined || t.dtype === 'float32');

const ACTIVATION_CODE: Readonly<Record<string, 0 | 1 | 2>> = { linear: 0, relu: 1, relu6: 2 };

/** Bias + activation of the fused kernels: in the addon (threaded) when it has `biasActivation`, else in JS. */
function applyBiasActivation(
  addon: NativeAddon,
  out: Float32Array,
  channels: number,
  bias: Float32Array | null,
  activation: string,
): void {
  if (!bias && activation === 'linear') return;
  if (addon.biasActivation) {
    addon.biasActivation(out, bias, channels, ACTIVATION_CODE[activation]);
    return;
  }
  if (bias) {
    if (bias.length === 1) {
      const b = bias[0];
      for (let i = 0; i < out.length; i += 1) out[i] += b;
    } else {
      for (let i = 0; i < out.length; i += channels) for (let c = 0; c < channels; c += 1) out[i + c] += bias[c];
    }
  }
  if (activation === 'relu') {
    for (let i = 0; i < out.length; i += 1) if (!(out[i] > 0)) out[i] = out[i] === out[i] ? 0 : out[i];
  } else if (activation === 'relu6') {
    for (let i = 0; i < out.length; i += 1) out[i] = out[i] < 0 ? 0 : out[i] > 6 ? 6 : out[i];
  }
}

const SUPPORTED_ACTIVATIONS = new Set(['linear', 'relu', 'relu6']);

function biasOk(bias: TensorInfo | undefined, channels: number): boolean {
  if (!bias) return true;
  const size = util.sizeFromShape(bias.shape);
  return size === 1 || (size === channels && bias.shape[bias.shape.length - 1] === channels);
}

function matMulImpl(args: Args, addon: NativeAddon, store: TensorStore, fused: boolean, lazy?: LazyOutputs): TensorInfo | null {
  const { a, b, bias, preluActivationWeights } = args.inputs;
  const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean; activation?: string };
  const transposeA = attrs.transposeA === true;
  const transposeB = attrs.transposeB === true;
  const activation = fused ? attrs.activation ?? 'linear' : 'linear';
  if (!a || !b || !isF32(a, b, bias) || preluActivationWeights || !SUPPORTED_ACTIVATIONS.has(activation)) return null;
  if (a.shape.length < 2 || b.shape.length < 2) return null;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = transposeA ? a.shape[ra - 2] : a.shape[ra - 1];
  const kb = transposeB ? b.shape[rb - 1] : b.shape[rb - 2];
  const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
  if (k !== kb) return null; // let the stock kernel raise its own error
  const outerA = a.shape.slice(0, -2);
  const outerB = b.shape.slice(0, -2);
  const batchA = util.sizeFromShape(outerA);
  const batchB = util.sizeFromShape(outerB);
  // Only the broadcasts a flat loop can do: equal batch shapes, or one side without batch.
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) return null;
  let outer: number[];
  try {
    outer = broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  } catch {
    return null; // the stock kernel raises the error
  }
  if (!biasOk(bias, n)) return null;
  const batch = Math.max(batchA, batchB);
  const backend = args.backend;
  const out = store.alloc(backend, [...outer, m, n]);
  const compute = () => {
    const av = store.view(backend, a);
    const bv = store.view(backend, b);
    const ov = store.view(backend, out);
    if (batch === 1) {
      addon.gemm(transposeA, transposeB, m, n, k, 1, av, bv, 0, ov);
    } else {
      for (let i = 0; i < batch; i += 1) {
        const sa = batchA === 1 ? av : av.subarray(i * m * k, (i + 1) * m * k);
        const sb = batchB === 1 ? bv : bv.subarray(i * k * n, (i + 1) * k * n);
        addon.gemm(transposeA, transposeB, m, n, k, 1, sa, sb, 0, ov.subarray(i * m * n, (i + 1) * m * n));
      }
    }
    if (fused) applyBiasActivation(addon, ov, n, bias ? store.view(backend, bias) : null, activation);
  };
  // Plain BatchMatMul is what the fused-matmul gradient runs: deferred, so the unread input gradient of the
  // first layer is never computed. _FusedMatMul (forward) runs at once.
  if (fused) compute();
  else runOrDefer(lazy, backend, out, [a, b], compute);
  return out;
}

type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;

function convParams(info: backend_util.Conv2DInfo): Int32Array {
  return Int32Array.from([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.filterHeight, info.filterWidth, info.outChannels,
    info.outHeight, info.outWidth, info.strideHeight, info.strideWidth,
    info.dilationHeight, info.dilationWidth, info.padInfo.top, info.padInfo.left,
  ]);
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dilations?: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  activation?: string;
  inputShape?: [number, number, number, number];
  filterShape?: [number, number, number, number];
}

function conv2dImpl(args: Args, addon: NativeAddon, store: TensorStore, fused: boolean): TensorInfo | null {
  const { x, filter, bias, preluActivationWeights } = args.inputs;
  const a = args.attrs as unknown as ConvAttrs;
  const activation = fused ? a.activation ?? 'linear' : 'linear';
  if (!x || !filter || !isF32(x, filter, bias) || preluActivationWeights || a.dataFormat === 'NCHW') return null;
  if (!SUPPORTED_ACTIVATIONS.has(activation) || x.shape.length !== 4 || filter.shape.length !== 4) return null;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filter.shape as [number, number, number, number],
    a.strides, a.dilations ?? 1, a.pad, a.dimRoundingMode,
  );
  if (!biasOk(bias, info.outChannels)) return null;
  const out = store.alloc(args.backend, info.outShape);
  const ov = store.view(args.backend, out);
  // A per-channel bias goes to the addon, which adds it in the convolution when it can (then only the
  // activation is left); same rounding as the separate pass.
  const bv = fused && bias && util.sizeFromShape(bias.shape) === info.outChannels ? store.view(args.backend, bias) : undefined;
  const biased = addon.conv2d(store.view(args.backend, x), store.view(args.backend, filter), ov, convParams(info), bv) === true;
  if (fused) applyBiasActivation(addon, ov, info.outChannels, bias && !biased ? store.view(args.backend, bias) : null, activation);
  return out;
}

function conv2dBackpropInputImpl(args: Args, addon: NativeAddon, store: TensorStore, lazy?: LazyOutputs): TensorInfo | null {
  const { dy, filter } = args.inputs;
  const a = args.attrs as unknown as ConvAttrs;
  if (!dy || !filter || !isF32(dy, filter) || a.dataFormat === 'NCHW' || !a.inputShape) return null;
  const info = backend_util.computeConv2DInfo(
    a.inputShape, filter.shape as [number, number, number, number], a.strides, 1, a.pad, a.dimRoundingMode,
  );
  if (info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2]) return null;
  const backend = args.backend;
  const out = store.alloc(backend, info.inShape);
  const params = convParams(info);
  // Deferred: LeNet conv1's input gradient (the fused-conv gradient always computes it) is never read.
  runOrDefer(lazy, backend, out, [dy, filter], () => {
    addon.conv2dBackpropInput(store.view(backend, dy), store.view(backend, filter), store.view(backend, out), params);
  });
  return out;
}

function conv2dBackpropFilterImpl(args: Args, addon: NativeAddon, store: TensorStore): TensorInfo | null {
  const { x, dy } = args.inputs;
  const a = args.attrs as unknown as ConvAttrs;
  if (!x || !dy || !isF32(x, dy) || a.dataFormat === 'NCHW' || !a.filterShape) return null;
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode,
  );
  if (info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2]) return null;
  const out = store.alloc(args.backend, a.filterShape);
  addon.conv2dBackpropFilter(
    store.view(args.backend, x), store.view(args.backend, dy), store.view(args.backend, out), convParams(info),
  );
  return out;
}

interface PoolAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function poolInfo(xShape: number[], a: PoolAttrs): { info: backend_util.Conv2DInfo; params: Int32Array } {
  const info = backend_util.computePool2DInfo(
    xShape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode,
  );
  const params = Int32Array.from([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.filterHeight, info.filterWidth,
    info.outHeight, info.outWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
  ]);
  return { info, params };
}

function maxPoolImpl(args: Args, addon: NativeAddon, store: TensorStore): TensorInfo | null {
  const { x } = args.inputs;
  const a = args.attrs as unknown as PoolAttrs;
  if (!x || !isF32(x) || x.shape.length !== 4) return null;
  const { info, params } = poolInfo(x.shape, a);
  // A 1x1 window with stride 1 is the identity: tfjs returns the input itself; keep the stock behaviour.
  if (info.filterHeight === 1 && info.filterWidth === 1 && util.arraysEqual(info.inShape, info.outShape)) return null;
  const out = store.alloc(args.backend, info.outShape);
  addon.maxPool(store.view(args.backend, x), store.view(args.backend, out), params);
  return out;
}

function maxPoolGradImpl(args: Args, addon: NativeAddon, store: TensorStore): TensorInfo | null {
  const { dy, input } = args.inputs;
  const a = args.attrs as unknown as PoolAttrs;
  if (!dy || !input || !isF32(dy, input) || input.shape.length !== 4) return null;
  const { info, params } = poolInfo(input.shape, a);
  if (info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2]) return null;
  const out = store.alloc(args.backend, input.shape);
  addon.maxPoolGrad(store.view(args.backend, input), store.view(args.backend, dy), store.view(args.backend, out), params);
  return out;
}

/**
 * Name of the fused SGD kernel; must equal `SGD_STEP_KERNEL` of `@sparse-learning/core` (checked by a test;
 * not imported so this module does not depend on core's optimizer code at load time).
 */
export const SGD_STEP_KERNEL_NAME = 'SparseLearningSgdStep';

interface SgdAttrs {
  learningRate: number;
  momentum: number;
  nesterov: boolean;
  weightDecay: number;
}

/**
 * The same update in JavaScript for an addon without `sgdStep` (version < 3), or without its mask argument
 * (version < 5): `Math.fround` after every operation rounds exactly as the float32 tfjs ops and the C++ loop do.
 */
function sgdStepJs(
  w: Float32Array,
  grad: Float32Array,
  buf: Float32Array | null,
  wOut: Float32Array,
  bufOut: Float32Array | null,
  a: SgdAttrs,
  mask: Float32Array | null,
): void {
  const f = Math.fround;
  const lr = f(a.learningRate);
  const mu = f(a.momentum);
  const wd = f(a.weightDecay);
  for (let i = 0; i < w.length; i += 1) {
    const g = wd !== 0 ? f(grad[i] + f(w[i] * wd)) : grad[i];
    let upd = g;
    if (mu !== 0 && bufOut) {
      const b = buf ? f(f(buf[i] * mu) + g) : g;
      bufOut[i] = b;
      upd = a.nesterov ? f(g + f(b * mu)) : b;
    }
    const next = f(w[i] - f(upd * lr));
    wOut[i] = mask ? next * mask[i] : next;
  }
}

/**
 * `SparseLearningSgdStep` (contract: `SGD_STEP_KERNEL` in core's sgd-optimizer.ts) and, with `masked`,
 * `SparseLearningSgdStepMasked` (`SGD_STEP_MASKED_KERNEL`: the same plus `w' ⊙ mask`): one launch per variable.
 */
function sgdStepImpl(args: Args, addon: NativeAddon, store: TensorStore, masked: boolean): TensorInfo[] | null {
  const { w, grad, buf, mask } = args.inputs;
  const a = args.attrs as unknown as SgdAttrs;
  if (!w || !grad || !isF32(w, grad, buf, mask) || (masked && !mask)) return null;
  const n = util.sizeFromShape(w.shape);
  if (util.sizeFromShape(grad.shape) !== n || (buf && util.sizeFromShape(buf.shape) !== n)) return null;
  if (masked && mask && util.sizeFromShape(mask.shape) !== n) return null;
  const backend = args.backend;
  const hasMomentum = a.momentum > 0;
  // In place when only the variable holds w and only the slot holds buf (reference count 1: the tape's saved
  // clones are gone by the optimizer step, and a clone a caller keeps makes the count 2): the outputs then alias
  // the inputs, like Identity's, and the memory-bound loop streams two arrays fewer and allocates nothing.
  // Version 5's loop (reluBackward marks it) has the in-place variant; the first step (no buffer yet) is not.
  const inPlace =
    store.soleOwner !== undefined &&
    store.retain !== undefined &&
    addon.reluBackward !== undefined &&
    addon.sgdStep !== undefined &&
    store.soleOwner(backend, w.dataId as object) &&
    (!hasMomentum || (buf !== undefined && buf.dataId !== w.dataId && store.soleOwner(backend, buf.dataId as object))) &&
    grad.dataId !== w.dataId &&
    grad.dataId !== buf?.dataId &&
    mask?.dataId !== w.dataId &&
    mask?.dataId !== buf?.dataId;
  if (inPlace) {
    const wv = store.view(backend, w);
    const bv = hasMomentum ? store.view(backend, buf!) : null;
    const mv = masked && mask ? store.view(backend, mask) : null;
    addon.sgdStep!(wv, store.view(backend, grad), bv, wv, bv, a.learningRate, a.momentum, a.weightDecay, a.nesterov === true, mv);
    const alias = (t: TensorInfo): TensorInfo => {
      store.retain!(backend, t.dataId as object);
      return { dataId: t.dataId, shape: [...t.shape], dtype: t.dtype };
    };
    return hasMomentum ? [alias(w), alias(buf!)] : [alias(w)];
  }
  const wOut = store.alloc(backend, [...w.shape]);
  const bufOut = hasMomentum ? store.alloc(backend, [...w.shape]) : null;
  const wv = store.view(backend, w);
  const gv = store.view(backend, grad);
  const bv = buf ? store.view(backend, buf) : null;
  const mv = masked && mask ? store.view(backend, mask) : null;
  const wov = store.view(backend, wOut);
  const bov = bufOut ? store.view(backend, bufOut) : null;
  // The mask argument exists from addon version 5 on (the version that added reluBackward).
  if (addon.sgdStep && (!mv || addon.reluBackward)) {
    addon.sgdStep(wv, gv, bv, wov, bov, a.learningRate, a.momentum, a.weightDecay, a.nesterov === true, mv);
  } else {
    sgdStepJs(wv, gv, bv, wov, bov, a, mv);
  }
  return bufOut ? [wOut, bufOut] : [wOut];
}

/**
 * Names of the fused dense kernels; must equal `FUSED_DENSE_KERNEL` / `FUSED_DENSE_GRAD_KERNEL` of
 * `@sparse-learning/core` (checked by a test).
 */
export const DENSE_KERNEL_NAME = 'SparseLearningDense';
export const DENSE_GRAD_KERNEL_NAME = 'SparseLearningDenseGrad';
/** Name of the masked fused SGD kernel; must equal `SGD_STEP_MASKED_KERNEL` of core (checked by a test). */
export const SGD_STEP_MASKED_KERNEL_NAME = 'SparseLearningSgdStepMasked';

/**
 * `SparseLearningDense` (contract: `FUSED_DENSE_KERNEL` in core's ops/fused-dense.ts): `act(x·w + bias)` as
 * one GEMM plus the bias/activation pass — the very calls `_FusedMatMul` makes here for a batch-1 3-D
 * operand, with the ReLU (exact) folded into the bias pass.
 */
function denseImpl(args: Args, addon: NativeAddon, store: TensorStore): TensorInfo | null {
  const { x, w, bias } = args.inputs;
  const activation = (args.attrs as { activation?: string } | undefined)?.activation ?? 'linear';
  if (!x || !w || !isF32(x, w, bias) || x.shape.length !== 2 || w.shape.length !== 2) return null;
  if (activation !== 'linear' && activation !== 'relu') return null;
  const [m, k] = x.shape;
  const [kw, n] = w.shape;
  if (k !== kw || (bias && util.sizeFromShape(bias.shape) !== n)) return null;
  const backend = args.backend;
  const out = store.alloc(backend, [m, n]);
  const ov = store.view(backend, out);
  addon.gemm(false, false, m, n, k, 1, store.view(backend, x), store.view(backend, w), 0, ov);
  applyBiasActivation(addon, ov, n, bias ? store.view(backend, bias) : null, activation);
  return out;
}

/** `dy · step(y)` into `out` (addon when it has `reluBackward`, else the same loop in JS). */
function reluBackward(addon: NativeAddon, dy: Float32Array, y: Float32Array, out: Float32Array): void {
  if (addon.reluBackward) {
    addon.reluBackward(dy, y, out);
    return;
  }
  for (let i = 0; i < out.length; i += 1) out[i] = dy[i] * (y[i] > 0 ? 1 : y[i] !== y[i] ? y[i] : 0);
}

/**
 * `SparseLearningDenseGrad` (contract: `FUSED_DENSE_GRAD_KERNEL` in core): `[dx, dw, db?]` of one dense layer
 * with the GEMMs (shapes, transposes) and the column sum that tfjs-core's `fusedMatMul` gradient runs here
 * through `BatchMatMul` and `Sum`, after the ReLU gradient `dy · step(y)`. `dx` is deferred (lazy-outputs.ts):
 * the first layer's input gradient is never read, and then never computed.
 */
function denseGradImpl(args: Args, addon: NativeAddon, store: TensorStore, lazy?: LazyOutputs): TensorInfo[] | null {
  const { dy, x, w, y } = args.inputs;
  const attrs = (args.attrs ?? {}) as { activation?: string; hasBias?: boolean };
  const activation = attrs.activation ?? 'linear';
  if (!dy || !x || !w || !y || !isF32(dy, x, w, y) || x.shape.length !== 2 || w.shape.length !== 2) return null;
  if (activation !== 'linear' && activation !== 'relu') return null;
  const [m, k] = x.shape;
  const n = w.shape[1];
  if (w.shape[0] !== k || util.sizeFromShape(dy.shape) !== m * n || util.sizeFromShape(y.shape) !== m * n) return null;
  const backend = args.backend;
  // dyAct = dy · step(y) as a backend tensor of its own: the deferred dx holds it after this kernel returns.
  let dyAct: TensorInfo = dy;
  if (activation === 'relu') {
    dyAct = store.alloc(backend, [m, n]);
    reluBackward(addon, store.view(backend, dy), store.view(backend, y), store.view(backend, dyAct));
  }
  const dw = store.alloc(backend, [k, n]);
  addon.gemm(true, false, k, n, m, 1, store.view(backend, x), store.view(backend, dyAct), 0, store.view(backend, dw));
  const outs: TensorInfo[] = [];
  const dx = store.alloc(backend, [m, k]);
  const act = dyAct;
  runOrDefer(lazy, backend, dx, [act, w], () => {
    addon.gemm(false, true, m, k, n, 1, store.view(backend, act), store.view(backend, w), 0, store.view(backend, dx));
  });
  outs.push(dx, dw);
  if (attrs.hasBias) {
    const db = store.alloc(backend, [n]);
    const dbv = store.view(backend, db);
    // Registered only with sumLeading (nativeKernelAvailable): the native Sum of the composite's bias gradient.
    addon.sumLeading!(store.view(backend, dyAct), dbv, m, n);
    outs.push(db);
  }
  // The deferred dx retained dyAct (or dx was computed already): this kernel's own reference goes.
  if (dyAct !== dy) store.free(backend, dyAct);
  return outs;
}

/** Names of the fused loss kernels; must equal core's `LOG_SOFTMAX_NLL_KERNEL` / `..._GRAD_KERNEL` (tested). */
export const LOSS_KERNEL_NAME = 'SparseLearningLogSoftmaxNll';
export const LOSS_GRAD_KERNEL_NAME = 'SparseLearningLogSoftmaxNllGrad';

/**
 * Runs registered kernels of the active backend directly (`kernelFunc`, no engine: no tape entry, no tensor
 * tracking, no scope), keeping every output as a temporary freed by {@link KernelChain.release} unless kept.
 * The fused loss kernels replay the composite's exact kernel sequence through it, so their results are the
 * composite's bit for bit while the per-kernel engine overhead (most of a small kernel's cost) is gone.
 */
class KernelChain {
  private readonly temps: TensorInfo[] = [];
  private readonly backendName = getBackend();

  constructor(
    private readonly backend: KernelBackend,
    private readonly store: TensorStore,
  ) {}

  run(kernelName: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
    const kernel = getKernel(kernelName, this.backendName);
    if (!kernel) {
      throw new SparseLearningError('E_BACKEND_UNAVAILABLE', `fused loss kernel: '${this.backendName}' has no ${kernelName} kernel`, { kernelName });
    }
    const out = kernel.kernelFunc({ inputs, backend: this.backend, attrs }) as TensorInfo;
    this.temps.push(out);
    return out;
  }

  /** A float32 tensor of `shape` filled with `value` (tfjs's `ones(shape)`, or a scalar operand). */
  fill(shape: number[], value: number): TensorInfo {
    const out = this.store.alloc(this.backend, shape);
    this.store.view(this.backend, out).fill(value);
    this.temps.push(out);
    return out;
  }

  /** Frees every temporary except `keep`. */
  release(...keep: TensorInfo[]): void {
    for (const t of this.temps) if (!keep.includes(t)) this.store.free(this.backend, t);
    this.temps.length = 0;
  }
}

/** `oneHot(cast(reshape(labels, [-1]), 'int32'), C)` cast to float32, as nllLoss and `mul`'s type match do. */
function oneHotF32(chain: KernelChain, labels: TensorInfo, classes: number): TensorInfo {
  const flat = chain.run('Reshape', { x: labels }, { shape: [-1] });
  const ids = chain.run('Cast', { x: flat }, { dtype: 'int32' });
  const hot = chain.run('OneHot', { indices: ids }, { dtype: 'int32', depth: classes, onValue: 1, offValue: 0 });
  return chain.run('Cast', { x: hot }, { dtype: 'float32' });
}

/**
 * `SparseLearningLogSoftmaxNll` (contract: `LOG_SOFTMAX_NLL_KERNEL` in core's ops/log-softmax-nll.ts):
 * `[loss, logProbabilities]` through the kernels tfjs-core's `logSoftmax` and core's `nllLoss` run, in order.
 */
function lossImpl(args: Args, _addon: NativeAddon, store: TensorStore): TensorInfo[] | null {
  const { logits, labels } = args.inputs;
  if (!logits || !labels || logits.dtype !== 'float32' || logits.shape.length !== 2) return null;
  const chain = new KernelChain(args.backend, store);
  try {
    // logSoftmax(logits, 1): max, sub, cast, exp, sum, log, sub.
    const xMax = chain.run('Max', { x: logits }, { reductionIndices: 1, keepDims: true });
    const shifted = chain.run('Sub', { a: logits, b: xMax });
    const shiftedF32 = chain.run('Cast', { x: shifted }, { dtype: 'float32' });
    const sums = chain.run('Sum', { x: chain.run('Exp', { x: shifted }) }, { axis: 1, keepDims: true });
    const value = chain.run('Sub', { a: shiftedF32, b: chain.run('Log', { x: sums }) });
    // nllLoss: neg(mean(sum(mul(oneHot, logProbabilities), -1))); mul's type match casts both operands.
    const hot = oneHotF32(chain, labels, logits.shape[1]);
    const valueF32 = chain.run('Cast', { x: value }, { dtype: 'float32' });
    const picked = chain.run('Sum', { x: chain.run('Multiply', { a: hot, b: valueF32 }) }, { axis: -1, keepDims: false });
    const loss = chain.run('Neg', { x: chain.run('Mean', { x: picked }, { axis: null as unknown as number, keepDims: false }) });
    chain.release(loss, value);
    return [loss, value];
  } catch (error) {
    chain.release();
    throw error;
  }
}

/**
 * `SparseLearningLogSoftmaxNllGrad` (contract: `LOG_SOFTMAX_NLL_GRAD_KERNEL` in core): `dlogits` through the
 * kernels of tfjs's gradients of the composite, in the order the tape runs them — `Neg`'s, `Mean`'s
 * (reshape, × ones, ÷ N), `Sum`'s (reshape, × ones), `Multiply`'s (× the cast one-hot), then `logSoftmax`'s
 * `dy − sum(dy, 1) · exp(logProbabilities)`.
 */
function lossGradImpl(args: Args, _addon: NativeAddon, store: TensorStore): TensorInfo | null {
  const { dy, logProbabilities, labels } = args.inputs;
  if (!dy || !logProbabilities || !labels || logProbabilities.dtype !== 'float32' || logProbabilities.shape.length !== 2) return null;
  const [n, classes] = logProbabilities.shape;
  const chain = new KernelChain(args.backend, store);
  try {
    const dMean = chain.run('Neg', { x: dy });
    const dPicked = chain.run('RealDiv', {
      a: chain.run('Multiply', { a: chain.run('Reshape', { x: dMean }, { shape: [1] }), b: chain.fill([n], 1) }),
      b: chain.fill([], n),
    });
    const dProduct = chain.run('Multiply', { a: chain.run('Reshape', { x: dPicked }, { shape: [n, 1] }), b: chain.fill([n, classes], 1) });
    const hot = chain.run('Cast', { x: oneHotF32(chain, labels, classes) }, { dtype: 'float32' });
    const dValue = chain.run('Multiply', { a: dProduct, b: hot });
    const softmax = chain.run('Exp', { x: logProbabilities });
    const total = chain.run('Sum', { x: dValue }, { axis: 1, keepDims: true });
    const out = chain.run('Sub', { a: dValue, b: chain.run('Multiply', { a: total, b: softmax }) });
    chain.release(out);
    return out;
  } catch (error) {
    chain.release();
    throw error;
  }
}

/**
 * `Identity` (what `tf.clone` runs) as an alias of the input's data, as tfjs-cpu does, instead of wasm's copy:
 * tfjs data is immutable, so sharing is safe; ~30 copies per training step (gradient bookkeeping) vanish.
 */
function identityImpl(args: Args, _addon: NativeAddon, store: TensorStore): TensorInfo | null {
  const { x } = args.inputs;
  if (!x || x.dtype === 'string' || !store.retain) return null;
  store.retain(args.backend, x.dataId as object);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/**
 * `Sum` over leading axes (`[0..k)`, e.g. the bias gradients: conv `[N,H,W,C]` → `[C]`, dense `[N,C]` → `[C]`)
 * as one pass of column sums; wasm transposes the reduced axes innermost first (a full copy of the
 * activation gradient). Accumulates in double. Other axes/dtypes: stock kernel.
 */
function sumImpl(args: Args, addon: NativeAddon, store: TensorStore): TensorInfo | null {
  const { x } = args.inputs;
  const a = (args.attrs ?? {}) as { axis?: number | number[]; keepDims?: boolean };
  if (!x || x.dtype !== 'float32' || !addon.sumLeading || a.axis === undefined) return null;
  const rank = x.shape.length;
  const axes = util.parseAxisParam(a.axis, x.shape).sort((p, q) => p - q);
  if (axes.length === 0 || !axes.every((ax, i) => ax === i)) return null;
  const k = axes.length;
  const rows = util.sizeFromShape(x.shape.slice(0, k));
  const cols = k === rank ? 1 : util.sizeFromShape(x.shape.slice(k));
  if (rows === 0 || cols === 0) return null;
  const outShape = a.keepDims ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k);
  const out = store.alloc(args.backend, outShape);
  addon.sumLeading(store.view(args.backend, x), store.view(args.backend, out), rows, cols);
  return out;
}

/**
 * `Mean` over leading axes (batch norm's `tf.moments(x, [0, 1, 2])` in NHWC): the column sums of
 * {@link sumImpl} divided by the row count. wasm's `Mean` transposes the reduced axes innermost first (a full
 * copy): on WRN-16-8's `[32,32,32,128]` activations it took about 4× an element-wise op, 28 of them per step
 * (issue 10, measured). Other axes and dtypes: stock kernel.
 */
function meanImpl(args: Args, addon: NativeAddon, store: TensorStore): TensorInfo | null {
  const { x } = args.inputs;
  if (!x) return null;
  const out = sumImpl(args, addon, store);
  if (!out) return null;
  const rows = util.sizeFromShape(x.shape) / Math.max(1, util.sizeFromShape(out.shape));
  const v = store.view(args.backend, out);
  for (let i = 0; i < v.length; i += 1) v[i] /= rows;
  return out;
}

/**
 * `Tile` (float32) by block copies: the first repetition of each axis is filled recursively, the others are
 * `copyWithin` copies of it (the repeated block is contiguous in the output). tfjs-core's batch-norm gradient
 * tiles the `[1,1,1,C]` inverse standard deviation to the full `[N,H,W,C]` activation shape for every BN layer;
 * wasm's `Tile` walks the output element by element with index arithmetic and took a fifth of a WRN-16-8 step
 * (13 calls, `tf.profile`, one thread; issue 10). Here it is a few memmoves per axis.
 */
function tileImpl(args: Args, _addon: NativeAddon, store: TensorStore): TensorInfo | null {
  const { x } = args.inputs;
  const reps = (args.attrs as { reps?: number[] } | undefined)?.reps;
  if (!x || x.dtype !== 'float32' || !reps || reps.length !== x.shape.length || x.shape.length === 0) return null;
  const inShape = x.shape;
  const outShape = inShape.map((d, i) => d * reps[i]);
  const size = util.sizeFromShape(outShape);
  if (size === 0) return null;
  const out = store.alloc(args.backend, outShape);
  const src = store.view(args.backend, x);
  const dst = store.view(args.backend, out);
  const rank = inShape.length;
  // Strides (in elements) of the input and the output.
  const inStride = new Array<number>(rank);
  const outStride = new Array<number>(rank);
  inStride[rank - 1] = 1;
  outStride[rank - 1] = 1;
  for (let d = rank - 2; d >= 0; d -= 1) {
    inStride[d] = inStride[d + 1] * inShape[d + 1];
    outStride[d] = outStride[d + 1] * outShape[d + 1];
  }
  const fill = (d: number, inOff: number, outOff: number): void => {
    const n = inShape[d];
    if (d === rank - 1) {
      dst.set(src.subarray(inOff, inOff + n), outOff);
    } else {
      for (let i = 0; i < n; i += 1) fill(d + 1, inOff + i * inStride[d], outOff + i * outStride[d]);
    }
    // Repetitions 1..reps-1 of this axis: copies of the block just written, doubling the copied span.
    const block = n * outStride[d];
    let done = 1;
    while (done < reps[d]) {
      const count = Math.min(done, reps[d] - done);
      dst.copyWithin(outOff + done * block, outOff, outOff + count * block);
      done += count;
    }
  };
  fill(0, 0, 0);
  return out;
}

/**
 * Below this many elements the element-wise kernels stay wasm's: the small models' paths (LeNet) are unchanged,
 * and a native call only pays off on the large activations of a CNN (WRN-16-8: 0.5-4 M values).
 */
const MIN_NATIVE_ELEMENTWISE = 1 << 14;

const BINARY_KIND: Readonly<Record<string, 0 | 1 | 2 | 3>> = { Add: 0, Sub: 1, Multiply: 2, RealDiv: 3 };

/**
 * `Add`, `Sub`, `Multiply`, `RealDiv` on float32 operands of the same shape, or one of them a single value
 * (WRN-16-8's residual adds, ReLU-gradient and dropout products, dropout's scalar divisions): threaded in the
 * addon, one IEEE operation per element as wasm's kernels, so bit-identical. Any other broadcast: stock kernel.
 */
function binaryImpl(kernelName: string, args: Args, addon: NativeAddon, store: TensorStore): TensorInfo | null {
  const { a, b } = args.inputs;
  if (!a || !b || a.dtype !== 'float32' || b.dtype !== 'float32' || !addon.binaryOp) return null;
  const na = util.sizeFromShape(a.shape);
  const nb = util.sizeFromShape(b.shape);
  let outShape: number[];
  if (util.arraysEqual(a.shape, b.shape)) outShape = a.shape;
  else if (nb === 1 && b.shape.length <= a.shape.length) outShape = a.shape;
  else if (na === 1 && a.shape.length <= b.shape.length) outShape = b.shape;
  else return null;
  const n = util.sizeFromShape(outShape);
  if (n < MIN_NATIVE_ELEMENTWISE) return null;
  const out = store.alloc(args.backend, [...outShape]);
  addon.binaryOp(BINARY_KIND[kernelName], store.view(args.backend, a), store.view(args.backend, b), store.view(args.backend, out));
  return out;
}

const UNARY_KIND: Readonly<Record<string, 0 | 1 | 2>> = { Relu: 0, Step: 1, Floor: 2 };

/**
 * `Relu`, `Step` (the ReLU gradient's) and `Floor` (dropout's) on large float32 tensors, threaded in the addon;
 * NaN kept, as tfjs's kernels.
 */
function unaryImpl(kernelName: string, args: Args, addon: NativeAddon, store: TensorStore): TensorInfo | null {
  const { x } = args.inputs;
  if (!x || x.dtype !== 'float32' || !addon.unaryOp || util.sizeFromShape(x.shape) < MIN_NATIVE_ELEMENTWISE) return null;
  const alpha = (args.attrs as { alpha?: number } | undefined)?.alpha ?? 0;
  const out = store.alloc(args.backend, [...x.shape]);
  addon.unaryOp(UNARY_KIND[kernelName], store.view(args.backend, x), store.view(args.backend, out), alpha);
  return out;
}

/**
 * `Cast` to the input's own dtype as an alias of the input's data (tfjs-cpu's behaviour), instead of wasm's copy:
 * tfjs's gradients of `mul` and `relu` cast float32 operands to float32 (16 copies of a 4 M-value activation per
 * WRN-16-8 step). Other casts: stock kernel.
 */
function castImpl(args: Args, addon: NativeAddon, store: TensorStore): TensorInfo | null {
  const { x } = args.inputs;
  const dtype = (args.attrs as { dtype?: string } | undefined)?.dtype;
  if (!x || dtype !== x.dtype || (x.dtype !== 'float32' && x.dtype !== 'int32')) return null;
  return identityImpl(args, addon, store);
}

/**
 * `Slice` (float32, large) as contiguous block copies: the trailing axes taken whole and the last partial axis
 * form one contiguous run, copied with `TypedArray.set` (a memmove). It is the gradient of the explicit padding
 * of WRN-16-8's stride-2 convolutions (`[32,34,34,128]` → `[32,32,32,128]`), where wasm's element-wise loop took
 * as long as a small convolution (issue 10, profile). Values are copied, so bit-identical.
 */
function sliceImpl(args: Args, _addon: NativeAddon, store: TensorStore): TensorInfo | null {
  const { x } = args.inputs;
  const attrs = (args.attrs ?? {}) as { begin?: number | number[]; size?: number | number[] };
  if (!x || x.dtype !== 'float32' || x.shape.length === 0 || attrs.begin === undefined) return null;
  if (util.sizeFromShape(x.shape) < MIN_NATIVE_ELEMENTWISE) return null;
  const [begin, size] = slice_util.parseSliceParams(x, attrs.begin, attrs.size);
  slice_util.assertParamsValid(x, begin, size);
  if (size.some((d) => d === 0)) return null;
  const rank = x.shape.length;
  let run = 1;
  let d = rank - 1;
  while (d >= 0 && begin[d] === 0 && size[d] === x.shape[d]) {
    run *= x.shape[d];
    d -= 1;
  }
  if (d < 0) return null; // the whole tensor: the stock kernel (an alias)
  run *= size[d];
  const stride = new Array<number>(rank).fill(1);
  for (let k = rank - 2; k >= 0; k -= 1) stride[k] = stride[k + 1] * x.shape[k + 1];
  const out = store.alloc(args.backend, size);
  const src = store.view(args.backend, x);
  const dst = store.view(args.backend, out);
  let pos = 0;
  const copy = (axis: number, offset: number): void => {
    if (axis === d) {
      const from = offset + begin[d] * stride[d];
      dst.set(src.subarray(from, from + run), pos);
      pos += run;
      return;
    }
    for (let i = 0; i < size[axis]; i += 1) copy(axis + 1, offset + (begin[axis] + i) * stride[axis]);
  };
  copy(0, 0);
  return out;
}

/** Names of the batch-norm training kernels; must equal core's `BATCH_NORM_TRAIN_KERNEL` / `..._GRAD_KERNEL` (tested). */
export const BATCH_NORM_TRAIN_KERNEL_NAME = 'SparseLearningBatchNormTrain';
export const BATCH_NORM_TRAIN_GRAD_KERNEL_NAME = 'SparseLearningBatchNormTrainGrad';

/** `[rows, channels]` of a batch-norm input whose per-channel operands all have `channels` entries, else null. */
function bnShape(x: TensorInfo, ...perChannel: TensorInfo[]): { channels: number } | null {
  if (x.shape.length < 2 || !isF32(x, ...perChannel)) return null;
  const channels = x.shape[x.shape.length - 1];
  if (channels < 1 || perChannel.some((t) => util.sizeFromShape(t.shape) !== channels)) return null;
  return { channels };
}

/**
 * `SparseLearningBatchNormTrain` (contract: `BATCH_NORM_TRAIN_KERNEL` in core's ops/batch-norm-train.ts):
 * `[y, mean, variance, invStd]` in one threaded native pass pair (native/batch_norm.cc).
 */
function batchNormTrainImpl(args: Args, addon: NativeAddon, store: TensorStore): TensorInfo[] | null {
  const { x, gamma, beta } = args.inputs;
  const epsilon = (args.attrs as { epsilon?: number } | undefined)?.epsilon;
  if (!x || !gamma || !beta || !addon.batchNormTrain || typeof epsilon !== 'number') return null;
  const s = bnShape(x, gamma, beta);
  if (!s) return null;
  const backend = args.backend;
  const [y, mean, variance, invStd] = [x.shape, [s.channels], [s.channels], [s.channels]].map((shape) => store.alloc(backend, shape));
  const v = (t: TensorInfo) => store.view(backend, t);
  addon.batchNormTrain(v(x), v(gamma), v(beta), s.channels, epsilon, v(y), v(mean), v(variance), v(invStd));
  return [y, mean, variance, invStd];
}

/** `SparseLearningBatchNormTrainGrad` (core's `BATCH_NORM_TRAIN_GRAD_KERNEL`): `[dx, dgamma, dbeta]`. */
function batchNormTrainGradImpl(args: Args, addon: NativeAddon, store: TensorStore): TensorInfo[] | null {
  const { dy, x, mean, invStd, gamma } = args.inputs;
  if (!dy || !x || !mean || !invStd || !gamma || !addon.batchNormTrainGrad) return null;
  const s = bnShape(x, mean, invStd, gamma);
  if (!s || !isF32(dy) || util.sizeFromShape(dy.shape) !== util.sizeFromShape(x.shape)) return null;
  const backend = args.backend;
  const [dx, dgamma, dbeta] = [x.shape, [s.channels], [s.channels]].map((shape) => store.alloc(backend, shape));
  const v = (t: TensorInfo) => store.view(backend, t);
  addon.batchNormTrainGrad(v(dy), v(x), v(mean), v(invStd), v(gamma), s.channels, v(dx), v(dgamma), v(dbeta));
  return [dx, dgamma, dbeta];
}

/** Name of the one-pass ReLU-gradient kernel (inputs `dy`, `x`; output `dy · step(x)`; native-training-gradients.ts). */
export const RELU_GRAD_KERNEL_NAME = 'SparseLearningReluGrad';

/**
 * `SparseLearningReluGrad` (native-training-gradients.ts): `dy · step(x)` in one pass, bit-identical to the
 * stock `mul(dy, cast(step(x)))`. Registered only where the addon has `reluBackward`; the gradient override
 * checks dtype and shape before it asks for this kernel, so it never declines.
 */
function reluGradImpl(args: Args, addon: NativeAddon, store: TensorStore): TensorInfo | null {
  const { dy, x } = args.inputs;
  if (!dy || !x || !isF32(dy, x) || !util.arraysEqual(dy.shape, x.shape)) return null;
  const out = store.alloc(args.backend, [...x.shape]);
  reluBackward(addon, store.view(args.backend, dy), store.view(args.backend, x), store.view(args.backend, out));
  return out;
}

/** Name of the dropout-mask kernel; must equal core's `DROPOUT_MASK_KERNEL` (tested). */
export const DROPOUT_MASK_KERNEL_NAME = 'SparseLearningDropoutMask';

/**
 * `SparseLearningDropoutMask` (contract: `DROPOUT_MASK_KERNEL` in core's ops/dropout-mask.ts): tf.dropout's
 * multiplier drawn by the addon (native/dropout_mask.cc) from the Alea state core computed from the seed —
 * bit-identical to tfjs's JavaScript draw and its add/floor/div chain, without the per-value JavaScript loop.
 */
function dropoutMaskImpl(args: Args, addon: NativeAddon, store: TensorStore): TensorInfo | null {
  const a = (args.attrs ?? {}) as { shape?: number[]; keepProb?: number; s0?: number; s1?: number; s2?: number; c?: number };
  if (!addon.dropoutMask || !Array.isArray(a.shape)) return null;
  const { keepProb, s0, s1, s2, c } = a;
  if (![keepProb, s0, s1, s2, c].every((v) => typeof v === 'number')) return null;
  const out = store.alloc(args.backend, [...a.shape]);
  addon.dropoutMask(store.view(args.backend, out), keepProb!, s0!, s1!, s2!, c!);
  return out;
}

/** Kernel names the native backend overrides, with their implementations. */
export const NATIVE_KERNELS: ReadonlyMap<string, NativeImpl> = new Map<string, NativeImpl>([
  ['BatchMatMul', (args, addon, store, lazy) => matMulImpl(args, addon, store, false, lazy)],
  ['_FusedMatMul', (args, addon, store) => matMulImpl(args, addon, store, true)],
  ['Conv2D', (args, addon, store) => conv2dImpl(args, addon, store, false)],
  ['FusedConv2D', (args, addon, store) => conv2dImpl(args, addon, store, true)],
  ['Conv2DBackpropInput', conv2dBackpropInputImpl],
  ['Conv2DBackpropFilter', conv2dBackpropFilterImpl],
  ['MaxPool', maxPoolImpl],
  ['MaxPoolGrad', maxPoolGradImpl],
  ['Identity', identityImpl],
  ['Sum', sumImpl],
  ['Mean', meanImpl],
  ['Tile', tileImpl],
  [SGD_STEP_KERNEL_NAME, (args, addon, store) => sgdStepImpl(args, addon, store, false)],
  [SGD_STEP_MASKED_KERNEL_NAME, (args, addon, store) => sgdStepImpl(args, addon, store, true)],
  [DENSE_KERNEL_NAME, denseImpl],
  [DENSE_GRAD_KERNEL_NAME, denseGradImpl],
  [LOSS_KERNEL_NAME, lossImpl],
  [LOSS_GRAD_KERNEL_NAME, lossGradImpl],
  ['Add', (args, addon, store) => binaryImpl('Add', args, addon, store)],
  ['Sub', (args, addon, store) => binaryImpl('Sub', args, addon, store)],
  ['Multiply', (args, addon, store) => binaryImpl('Multiply', args, addon, store)],
  ['RealDiv', (args, addon, store) => binaryImpl('RealDiv', args, addon, store)],
  ['Relu', (args, addon, store) => unaryImpl('Relu', args, addon, store)],
  ['Step', (args, addon, store) => unaryImpl('Step', args, addon, store)],
  ['Floor', (args, addon, store) => unaryImpl('Floor', args, addon, store)],
  [DROPOUT_MASK_KERNEL_NAME, dropoutMaskImpl],
  ['Cast', castImpl],
  ['Slice', sliceImpl],
  [BATCH_NORM_TRAIN_KERNEL_NAME, batchNormTrainImpl],
  [BATCH_NORM_TRAIN_GRAD_KERNEL_NAME, batchNormTrainGradImpl],
  [RELU_GRAD_KERNEL_NAME, reluGradImpl],
]);

/**
 * Kernels that exist only with some addon functions: registered only when the addon has them, so core's ops
 * see no kernel and run their composite (the fused dense gradient needs `sumLeading` for a bias gradient that
 * equals the native `Sum`, and the version-5 `reluBackward`).
 */
export function nativeKernelAvailable(kernelName: string, addon: NativeAddon): boolean {
  if (kernelName === DENSE_KERNEL_NAME || kernelName === DENSE_GRAD_KERNEL_NAME) {
    return typeof addon.reluBackward === 'function' && typeof addon.sumLeading === 'function';
  }
  if (kernelName === RELU_GRAD_KERNEL_NAME) return typeof addon.reluBackward === 'function';
  if (kernelName === BATCH_NORM_TRAIN_KERNEL_NAME || kernelName === BATCH_NORM_TRAIN_GRAD_KERNEL_NAME) {
    return typeof addon.batchNormTrain === 'function' && typeof addon.batchNormTrainGrad === 'function';
  }
  if (kernelName === DROPOUT_MASK_KERNEL_NAME) return typeof addon.dropoutMask === 'function';
  return true;
}

/** Wraps a native implementation: stock kernel of the base backend whenever the native one declines. */
export function makeNativeKernel(
  kernelName: string,
  addon: NativeAddon,
  store: TensorStore,
  fallbacks: Fallbacks,
  lazy?: LazyOutputs,
): KernelFunc {
  const impl = NATIVE_KERNELS.get(kernelName);
  if (!impl) throw unknownIdError('native kernel', kernelName, [...NATIVE_KERNELS.keys()]);
  return ((args: Args) => {
    lazy?.materializeInputs(args.inputs);
    const out = impl(args, addon, store, lazy);
    if (out) return out;
    const fallback = fallbacks.get(kernelName);
    if (!fallback) {
      throw new SparseLearningError('E_BACKEND_UNAVAILABLE', `native ${kernelName}: these inputs/attributes are not supported natively and the base backend has no ${kernelName} kernel`, { kernelName });
    }
    return fallback(args as Parameters<KernelFunc>[0]);
  }) as KernelFunc;
}
