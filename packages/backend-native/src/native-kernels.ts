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
import { backend_util, broadcast_util, util } from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';

import { SparseLearningError, unknownIdError } from '@sparse-learning/core';

import type { NativeAddon } from './addon.js';

/** Memory access of the base backend. Outputs must all be allocated before any view is taken (wasm grows). */
export interface TensorStore {
  /** Allocates an uninitialised float32 output on the backend. */
  alloc(backend: KernelBackend, shape: number[]): TensorInfo;
  /** A zero-copy Float32Array view of a float32 tensor's data. */
  view(backend: KernelBackend, t: TensorInfo): Float32Array;
  /** Frees a temporary allocated with {@link TensorStore.alloc}. */
  free(backend: KernelBackend, t: TensorInfo): void;
}

type Args = { inputs: Record<string, TensorInfo | undefined>; backend: KernelBackend; attrs?: NamedAttrMap };
type Fallbacks = ReadonlyMap<string, KernelFunc>;

/** A kernel implementation: returns `null` to ask for the base backend's stock kernel. */
type NativeImpl = (args: Args, addon: NativeAddon, store: TensorStore) => TensorInfo | null;

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

function matMulImpl(args: Args, addon: NativeAddon, store: TensorStore, fused: boolean): TensorInfo | null {
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
  const out = store.alloc(args.backend, [...outer, m, n]);
  const av = store.view(args.backend, a);
  const bv = store.view(args.backend, b);
  const ov = store.view(args.backend, out);
  if (batch === 1) {
    addon.gemm(transposeA, transposeB, m, n, k, 1, av, bv, 0, ov);
  } else {
    for (let i = 0; i < batch; i += 1) {
      const sa = batchA === 1 ? av : av.subarray(i * m * k, (i + 1) * m * k);
      const sb = batchB === 1 ? bv : bv.subarray(i * k * n, (i + 1) * k * n);
      addon.gemm(transposeA, transposeB, m, n, k, 1, sa, sb, 0, ov.subarray(i * m * n, (i + 1) * m * n));
    }
  }
  if (fused) applyBiasActivation(addon, ov, n, bias ? store.view(args.backend, bias) : null, activation);
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
  addon.conv2d(store.view(args.backend, x), store.view(args.backend, filter), ov, convParams(info));
  if (fused) applyBiasActivation(addon, ov, info.outChannels, bias ? store.view(args.backend, bias) : null, activation);
  return out;
}

function conv2dBackpropInputImpl(args: Args, addon: NativeAddon, store: TensorStore): TensorInfo | null {
  const { dy, filter } = args.inputs;
  const a = args.attrs as unknown as ConvAttrs;
  if (!dy || !filter || !isF32(dy, filter) || a.dataFormat === 'NCHW' || !a.inputShape) return null;
  const info = backend_util.computeConv2DInfo(
    a.inputShape, filter.shape as [number, number, number, number], a.strides, 1, a.pad, a.dimRoundingMode,
  );
  if (info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2]) return null;
  const out = store.alloc(args.backend, info.inShape);
  addon.conv2dBackpropInput(
    store.view(args.backend, dy), store.view(args.backend, filter), store.view(args.backend, out), convParams(info),
  );
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

/** Kernel names the native backend overrides, with their implementations. */
export const NATIVE_KERNELS: ReadonlyMap<string, NativeImpl> = new Map<string, NativeImpl>([
  ['BatchMatMul', (args, addon, store) => matMulImpl(args, addon, store, false)],
  ['_FusedMatMul', (args, addon, store) => matMulImpl(args, addon, store, true)],
  ['Conv2D', (args, addon, store) => conv2dImpl(args, addon, store, false)],
  ['FusedConv2D', (args, addon, store) => conv2dImpl(args, addon, store, true)],
  ['Conv2DBackpropInput', conv2dBackpropInputImpl],
  ['Conv2DBackpropFilter', conv2dBackpropFilterImpl],
  ['MaxPool', maxPoolImpl],
  ['MaxPoolGrad', maxPoolGradImpl],
]);

/** Wraps a native implementation: stock kernel of the base backend whenever the native one declines. */
export function makeNativeKernel(
  kernelName: string,
  addon: NativeAddon,
  store: TensorStore,
  fallbacks: Fallbacks,
): KernelFunc {
  const impl = NATIVE_KERNELS.get(kernelName);
  if (!impl) throw unknownIdError('native kernel', kernelName, [...NATIVE_KERNELS.keys()]);
  return ((args: Args) => {
    const out = impl(args, addon, store);
    if (out) return out;
    const fallback = fallbacks.get(kernelName);
    if (!fallback) {
      throw new SparseLearningError('E_BACKEND_UNAVAILABLE', `native ${kernelName}: these inputs/attributes are not supported natively and the base backend has no ${kernelName} kernel`, { kernelName });
    }
    return fallback(args as Parameters<KernelFunc>[0]);
  }) as KernelFunc;
}
