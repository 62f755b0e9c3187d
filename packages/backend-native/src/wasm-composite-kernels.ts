/**
 * Composite convolution-gradient KERNELS for the `wasm` backend (issue 6, item 1), built from wasm's own
 * kernels at backend level.
 *
 * Why kernels and not only gradient overrides: `tf.layers.conv2d` (hence every CNN of
 * `@sparse-learning/models`) runs as the fused conv op (`FusedConv2D`), whose gradient is a `customGrad`
 * closure inside tfjs-core: it never looks at `registerGradient`, and calls the `Conv2DBackpropFilter` and
 * `Conv2DBackpropInput` kernels directly. wasm has no `Conv2DBackpropFilter` kernel at all (so no CNN could
 * train), and its `Conv2DBackpropInput` is a direct loop without XNNPACK. Both are rewritten here as forward
 * convolutions, the same identities as `wasm-training-gradients.ts`:
 *
 * - dL/dW: a stride-1 convolution *dilated by the stride* of `x` transposed to `[Ci,H,W,N]` with `dy`
 *   transposed to `[OH,OW,N,Co]` as the filter (cropped/padded so the output is exactly `KH×KW`),
 *   transposed back to `[KH,KW,Ci,Co]`;
 * - dL/dx: a convolution of `dy` zero-interleaved by the stride with the spatially flipped, in/out-swapped
 *   filter, padded `KH-1-padTop` at the top (negative pads become slices).
 *
 * TOOLCHAIN.md rule: a kernel must not call `tf.*` ops (that re-enters the engine from inside a kernel and
 * corrupts reference counts). Every step here calls another registered kernel's `kernelFunc` with the same
 * backend, and frees each intermediate with `backend.disposeData` (wasm reference-counts data ids, so an
 * aliasing `Reshape` output is released correctly).
 */
import * as tf from '@tensorflow/tfjs-core';
import { backend_util } from '@tensorflow/tfjs-core';
import type { KernelBackend, KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { SparseLearningError } from '@sparse-learning/core';
import { planPadCrop, type ExplicitPad4 } from './pad-crop-plan.js';

type Pad = 'valid' | 'same' | number | backend_util.ExplicitPadding;
type Shape4 = [number, number, number, number];

interface ConvGradAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  inputShape?: Shape4;
  filterShape?: Shape4;
}

/** Runs kernels of `kernelsOf` on `backend`, remembering every output so the caller can free them. */
class KernelRunner {
  private readonly temps: TensorInfo[] = [];

  constructor(
    private readonly backend: KernelBackend,
    private readonly kernelsOf: string,
  ) {}

  run(kernelName: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
    const kernel = tf.getKernel(kernelName, this.kernelsOf);
    if (!kernel) {
      throw new SparseLearningError('E_BACKEND_UNAVAILABLE', `composite kernel needs '${kernelName}' on backend '${this.kernelsOf}', which is not registered`, {
        kernelName,
        backend: this.kernelsOf,
      });
    }
    const out = kernel.kernelFunc({ inputs, attrs, backend: this.backend }) as TensorInfo;
    this.temps.push(out);
    return out;
  }

  /** Frees every intermediate except `keep` (the kernel's result). */
  release(keep: TensorInfo): TensorInfo {
    for (const t of this.temps) if (t !== keep) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
    return keep;
  }

  /** Frees everything (error path). */
  releaseAll(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
  }
}

/** Pads (>= 0) or crops (< 0) the two spatial axes of an NHWC tensor; returns the cropped tensor and the pad. */
function padOrCrop(r: KernelRunner, x: TensorInfo, top: number, bottom: number, left: number, right: number): { x: TensorInfo; pad: ExplicitPad4 } {
  const { crop, pad } = planPadCrop(x.shape, top, bottom, left, right);
  return { x: crop ? r.run('Slice', { x }, crop) : x, pad };
}

/** dL/dfilter: see the module comment. Exported for tests. */
export function conv2dBackpropFilterComposite(
  backend: KernelBackend,
  x: TensorInfo,
  dy: TensorInfo,
  attrs: ConvGradAttrs,
  kernelsOf = 'wasm',
): TensorInfo {
  const filterShape = attrs.filterShape as Shape4;
  const info = backend_util.computeConv2DInfo(x.shape as Shape4, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const r = new KernelRunner(backend, kernelsOf);
  try {
    const [kh, kw] = [info.filterHeight, info.filterWidth];
    const [sh, sw] = [info.strideHeight, info.strideWidth];
    const xT = r.run('Transpose', { x }, { perm: [3, 1, 2, 0] }); // [Ci, H, W, N]
    const dyT = r.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, N, Co]
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    // The dilated conv's output height is H + top + bottom - (OH-1)*sh; it must equal KH.
    const bottom = kh + (info.outHeight - 1) * sh - info.inHeight - top;
    const right = kw + (info.outWidth - 1) * sw - info.inWidth - left;
    const p = padOrCrop(r, xT, top, bottom, left, right);
    const conv = r.run('Conv2D', { x: p.x, filter: dyT }, { strides: [1, 1], pad: p.pad, dataFormat: 'NHWC', dilations: [sh, sw] }); // [Ci, KH, KW, Co]
    return r.release(r.run('Transpose', { x: conv }, { perm: [1, 2, 0, 3] }));
  } catch (error) {
    r.releaseAll();
    throw error;
  }
}

/** dL/dx: see the module comment. Exported for tests. */
export function conv2dBackpropInputComposite(
  backend: KernelBackend,
  dy: TensorInfo,
  filter: TensorInfo,
  attrs: ConvGradAttrs,
  kernelsOf = 'wasm',
): TensorInfo {
  const inputShape = attrs.inputShape as Shape4;
  const info = backend_util.computeConv2DInfo(inputShape, filter.shape as Shape4, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const r = new KernelRunner(backend, kernelsOf);
  try {
    const [kh, kw] = [info.filterHeight, info.filterWidth];
    const [sh, sw] = [info.strideHeight, info.strideWidth];
    const [n, oh, ow, c] = dy.shape;
    let d = dy;
    if (sh !== 1 || sw !== 1) {
      // Zero-interleave: [N,OH,1,OW,1,C] padded to [N,OH,sh,OW,sw,C], viewed as [N,OH*sh,OW*sw,C], cropped.
      const spread = r.run('Reshape', { x: dy }, { shape: [n, oh, 1, ow, 1, c] });
      const padded = r.run('PadV2', { x: spread }, { paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]], constantValue: 0 });
      const full = r.run('Reshape', { x: padded }, { shape: [n, oh * sh, ow * sw, c] });
      d = r.run('Slice', { x: full }, { begin: [0, 0, 0, 0], size: [n, (oh - 1) * sh + 1, (ow - 1) * sw + 1, c] });
    }
    // Flip spatially and swap in/out channels: [KH, KW, Co, Ci].
    const reversed = r.run('Reverse', { x: filter }, { dims: [0, 1] });
    const flipped = r.run('Transpose', { x: reversed }, { perm: [0, 1, 3, 2] });
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    const bottom = info.inHeight + kh - 1 - d.shape[1] - top;
    const right = info.inWidth + kw - 1 - d.shape[2] - left;
    const p = padOrCrop(r, d, top, bottom, left, right);
    return r.release(r.run('Conv2D', { x: p.x, filter: flipped }, { strides: [1, 1], pad: p.pad, dataFormat: 'NHWC', dilations: [1, 1] }));
  } catch (error) {
    r.releaseAll();
    throw error;
  }
}

/**
 * `op(a)·op(b)` with every transposed operand materialised by the `Transpose` kernel first: wasm's
 * `BatchMatMul` uses XNNPACK only without transposes (100x784·784x300: 1.7 ms plain, 25 ms with transposeA).
 * The gradients of `tf.fused.matMul` (every `tf.layers.dense`) are such transposed products, and like the
 * fused conv they bypass `registerGradient`. Also used for `_FusedMatMul`, whose stock wasm kernel adds the
 * bias at wrong positions when an operand is transposed (tfjs 4.22: `fused.matMul({a: [[1,2,3],[4,5,6]],
 * b: I, transposeA: true, bias: [10,20]})` gives 11,24,22,... instead of 11,24,12,...). Exported for tests.
 */
export function batchMatMulComposite(
  backend: KernelBackend,
  a: TensorInfo,
  b: TensorInfo,
  transposeA: boolean,
  transposeB: boolean,
  stock: KernelFunc,
  kernelsOf = 'wasm',
  extraInputs: Record<string, TensorInfo | undefined> = {},
  extraAttrs: NamedAttrMap = {},
): TensorInfo {
  const r = new KernelRunner(backend, kernelsOf);
  try {
    const swapLast = (t: TensorInfo): TensorInfo => {
      const perm = t.shape.map((_, i) => i);
      [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
      return r.run('Transpose', { x: t }, { perm });
    };
    const pa = transposeA ? swapLast(a) : a;
    const pb = transposeB ? swapLast(b) : b;
    const out = stock({ inputs: { ...extraInputs, a: pa, b: pb }, backend, attrs: { ...extraAttrs, transposeA: false, transposeB: false } }) as TensorInfo;
    return r.release(out);
  } catch (error) {
    r.releaseAll();
    throw error;
  }
}

type Args = { inputs: Record<string, TensorInfo | undefined>; backend: KernelBackend; attrs?: NamedAttrMap };

function handles(a: ConvGradAttrs, ...ts: (TensorInfo | undefined)[]): boolean {
  return a.dataFormat !== 'NCHW' && ts.every((t) => t !== undefined && t.dtype === 'float32' && t.shape.length === 4);
}

/** Options of {@link registerWasmCompositeKernels}. */
export interface WasmCompositeKernelOptions {
  /** Backend to register on; default `'wasm'`. Its `Transpose`/`Conv2D`/... kernels are the building blocks. */
  readonly backend?: string;
  /**
   * Also replace `BatchMatMul` and `_FusedMatMul` so transposed operands are materialised first (faster, and
   * fixes the stock fused kernel's bias bug with transposes); default true.
   */
  readonly replaceMatMul?: boolean;
  /**
   * Also replace the backend's stock `Conv2DBackpropInput` (a direct loop on wasm) with the composite;
   * default true (measured faster for every layer of LeNet-5 and WRN, see ARCHITECTURE.md).
   */
  readonly replaceInputGradient?: boolean;
}

const installed = new Map<string, { kernelName: string; previous: KernelConfig | undefined }[]>();

/**
 * Registers `Conv2DBackpropFilter` (missing on wasm) and, by default, a faster `Conv2DBackpropInput` and
 * `BatchMatMul` / `_FusedMatMul` kernels that materialise transposes, on the wasm backend. Idempotent per backend; returns the kernel names it registered. NCHW and non-float32 inputs
 * go to the stock `Conv2DBackpropInput` (there is no stock filter kernel: those throw a clear error).
 */
export function registerWasmCompositeKernels(options: WasmCompositeKernelOptions = {}): string[] {
  const backendName = options.backend ?? 'wasm';
  const done = installed.get(backendName);
  if (done) return done.map((d) => d.kernelName);
  if (!tf.findBackendFactory(backendName)) {
    throw new SparseLearningError('E_BACKEND_UNAVAILABLE', `cannot register composite kernels: backend '${backendName}' is not registered`, { backend: backendName });
  }
  const record: { kernelName: string; previous: KernelConfig | undefined }[] = [];
  const stockInput = tf.getKernel('Conv2DBackpropInput', backendName) as KernelConfig | undefined;
  const stockInputFunc = stockInput?.kernelFunc;

  const filterKernel = ((args: Args) => {
    const { x, dy } = args.inputs;
    const a = (args.attrs ?? {}) as unknown as ConvGradAttrs;
    if (!handles(a, x, dy) || !a.filterShape) {
      throw new SparseLearningError('E_BACKEND_UNAVAILABLE', `${backendName} Conv2DBackpropFilter (composite) supports float32 NHWC only; got dataFormat ${a.dataFormat ?? 'NHWC'}, dtypes ${x?.dtype}/${dy?.dtype}`, { backend: backendName });
    }
    return conv2dBackpropFilterComposite(args.backend, x as TensorInfo, dy as TensorInfo, a, backendName);
  }) as KernelFunc;

  const inputKernel = ((args: Args) => {
    const { dy, filter } = args.inputs;
    const a = (args.attrs ?? {}) as unknown as ConvGradAttrs;
    if (!handles(a, dy, filter) || !a.inputShape) {
      if (!stockInputFunc) {
        throw new SparseLearningError('E_BACKEND_UNAVAILABLE', `${backendName} Conv2DBackpropInput: unsupported inputs and no stock kernel`, { backend: backendName });
      }
      return stockInputFunc(args as Parameters<KernelFunc>[0]);
    }
    return conv2dBackpropInputComposite(args.backend, dy as TensorInfo, filter as TensorInfo, a, backendName);
  }) as KernelFunc;

  const stockMatMul = tf.getKernel('BatchMatMul', backendName) as KernelConfig | undefined;
  const stockMatMulFunc = stockMatMul?.kernelFunc;
  const matMulKernel = ((args: Args) => {
    const { a, b } = args.inputs;
    const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    const ta = attrs.transposeA === true;
    const tb = attrs.transposeB === true;
    const call = stockMatMulFunc as KernelFunc;
    if ((!ta && !tb) || !a || !b || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) {
      return call(args as Parameters<KernelFunc>[0]);
    }
    return batchMatMulComposite(args.backend, a, b, ta, tb, call, backendName);
  }) as KernelFunc;

  const stockFused = tf.getKernel('_FusedMatMul', backendName) as KernelConfig | undefined;
  const stockFusedFunc = stockFused?.kernelFunc;
  const fusedMatMulKernel = ((args: Args) => {
    const { a, b, ...rest } = args.inputs;
    const attrs = (args.attrs ?? {}) as { transposeA?: boolean; transposeB?: boolean };
    const ta = attrs.transposeA === true;
    const tb = attrs.transposeB === true;
    const call = stockFusedFunc as KernelFunc;
    if ((!ta && !tb) || !a || !b || a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) {
      return call(args as Parameters<KernelFunc>[0]);
    }
    return batchMatMulComposite(args.backend, a, b, ta, tb, call, backendName, rest, args.attrs ?? {});
  }) as KernelFunc;

  const replace = (kernelName: string, kernelFunc: KernelFunc, setupFunc?: KernelConfig['setupFunc']) => {
    const previous = tf.getKernel(kernelName, backendName) as KernelConfig | undefined;
    if (previous) tf.unregisterKernel(kernelName, backendName);
    tf.registerKernel({ kernelName, backendName, kernelFunc, setupFunc });
    record.push({ kernelName, previous });
  };
  if (!tf.getKernel('Conv2DBackpropFilter', backendName)) replace('Conv2DBackpropFilter', filterKernel);
  // Keep the stock setupFunc: the fallback path calls the stock kernelFunc, which binds its wasm function there.
  if (options.replaceInputGradient ?? true) replace('Conv2DBackpropInput', inputKernel, stockInput?.setupFunc);
  if ((options.replaceMatMul ?? true) && stockMatMulFunc) replace('BatchMatMul', matMulKernel, stockMatMul?.setupFunc);
  if ((options.replaceMatMul ?? true) && stockFusedFunc) replace('_FusedMatMul', fusedMatMulKernel, stockFused?.setupFunc);
  installed.set(backendName, record);
  return record.map((d) => d.kernelName);
}

/** Restores the kernels {@link registerWasmCompositeKernels} replaced (tests). */
export function unregisterWasmCompositeKernels(backendName = 'wasm'): void {
  const record = installed.get(backendName);
  if (!record) return;
  for (const { kernelName, previous } of record.reverse()) {
    tf.unregisterKernel(kernelName, backendName);
    if (previous) tf.registerKernel(previous);
  }
  installed.delete(backendName);
}

/** Kernel names the composite registration put on `backendName` (empty when not registered). */
export function wasmCompositeKernels(backendName = 'wasm'): string[] {
  return (installed.get(backendName) ?? []).map((d) => d.kernelName);
}
