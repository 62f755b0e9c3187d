/**
 * Gradient overrides that make the stock `wasm` backend train fast and train CNNs at all (issue 6, item 1).
 *
 * - `BatchMatMul`: wasm runs a matmul through XNNPACK only when neither operand is transposed; with
 *   `transposeA` or `transposeB` it falls back to a naive loop (measured here: 100x784 * 784x300 takes 25 ms
 *   with transposeA and 17 ms with transposeB, against 1.7 ms plain). The stock gradient asks for exactly
 *   those transposed products, so the override materialises the transposes (`tf.transpose`) and calls the
 *   plain matmul.
 * - `Conv2D`: wasm has no `Conv2DBackpropFilter` kernel at all, so the override computes both gradients with
 *   forward convolutions (filter gradient: a stride-1 convolution dilated by the stride, over transposed
 *   operands; input gradient: a convolution of the zero-interleaved `dy` with the flipped, transposed filter).
 *
 * The overrides are global in tfjs (`registerGradient` replaces by kernel name), so every override checks the
 * active backend and calls the saved original gradient (`getGradient` at registration time) on any backend
 * outside its scope, or for attributes it does not handle (rank > 2 matmul, NCHW, dilated convolutions).
 * Results equal the stock gradients within float32 rounding (see the tests).
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node entry registers no gradients; tfjs-layers' bundle registers all stock ones. Import it
// first so the originals exist when they are wrapped (and a later import cannot silently replace ours).
import '@tensorflow/tfjs-layers';
import { backend_util } from '@tensorflow/tfjs-core';
import type { GradConfig, Tensor, Tensor4D } from '@tensorflow/tfjs-core';
import { SparseLearningError } from '@sparse-learning/core';
import { planPadCrop, type ExplicitPad4 } from './pad-crop-plan.js';

/** Options of {@link registerWasmTrainingGradients}. */
export interface WasmTrainingGradientOptions {
  /** Backend names the overrides apply to; default `['wasm']`. On any other backend the stock gradient runs. */
  readonly backends?: readonly string[];
}

interface Registration {
  readonly originals: Map<string, GradConfig | undefined>;
  readonly scope: Set<string>;
}

let registration: Registration | null = null;
/** The configs this module registered, to recognise them (another tfjs bundle may re-register the stock ones). */
const ours = new WeakSet<GradConfig>();

/** True when {@link registerWasmTrainingGradients} is in effect. */
export function wasmTrainingGradientsRegistered(): boolean {
  return registration !== null;
}

/** The backend names the registered overrides apply to (empty when not registered). */
export function wasmTrainingGradientScope(): string[] {
  return registration ? [...registration.scope] : [];
}

function stock(original: GradConfig | undefined, dy: Tensor | Tensor[], saved: Tensor[], attrs: tf.NamedAttrMap) {
  if (!original) {
    throw new SparseLearningError('E_ENGINE_STATE', 'no stock gradient was registered to fall back to (import @tensorflow/tfjs-layers or @tensorflow/tfjs)');
  }
  return original.gradFunc(dy, saved, attrs);
}

function inScope(): boolean {
  return registration !== null && registration.scope.has(tf.getBackend());
}

/** `op(x)` with the transpose materialised, so wasm's matmul takes its XNNPACK path. */
function plain(x: Tensor, transposed: boolean): Tensor {
  return transposed ? tf.transpose(x) : x;
}

/** `op(a) * op(b)` computed as a non-transposed rank-2 matmul. */
function fastMatMul(a: Tensor, b: Tensor, transposeA: boolean, transposeB: boolean): Tensor {
  return tf.matMul(plain(a, transposeA) as tf.Tensor2D, plain(b, transposeB) as tf.Tensor2D);
}

function batchMatMulGrad(original: GradConfig | undefined): GradConfig {
  return {
    kernelName: tf.BatchMatMul,
    inputsToSave: ['a', 'b'],
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved;
      const dyT = dy as Tensor;
      if (!inScope() || a.rank !== 2 || b.rank !== 2 || dyT.rank !== 2) {
        return stock(original, dy, saved, attrs);
      }
      const { transposeA, transposeB } = attrs as unknown as { transposeA: boolean; transposeB: boolean };
      // Same four cases as tfjs-core's BatchMatMul_grad, with every transposed operand materialised.
      if (!transposeA && !transposeB) {
        return { a: () => fastMatMul(dyT, b, false, true), b: () => fastMatMul(a, dyT, true, false) };
      }
      if (!transposeA && transposeB) {
        return { a: () => fastMatMul(dyT, b, false, false), b: () => fastMatMul(dyT, a, true, false) };
      }
      if (transposeA && !transposeB) {
        return { a: () => fastMatMul(b, dyT, false, true), b: () => fastMatMul(a, dyT, false, false) };
      }
      return { a: () => fastMatMul(b, dyT, true, true), b: () => fastMatMul(dyT, a, true, true) };
    },
  };
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: 'valid' | 'same' | number | backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

/** Pads (non-negative) or crops (negative) rows/columns of an NHWC tensor. */
function padOrCrop(x: Tensor4D, top: number, bottom: number, left: number, right: number): { x: Tensor4D; pad: ExplicitPad4 } {
  const { crop, pad } = planPadCrop(x.shape, top, bottom, left, right);
  return { x: crop ? tf.slice(x, crop.begin, crop.size) : x, pad };
}

/** Inserts `s - 1` zeros between rows and columns of dy: [N, (OH-1)*sh+1, (OW-1)*sw+1, C]. */
function dilateDy(dy: Tensor4D, sh: number, sw: number): Tensor4D {
  if (sh === 1 && sw === 1) return dy;
  const [n, oh, ow, c] = dy.shape;
  const spread = tf.pad(tf.reshape(dy, [n, oh, 1, ow, 1, c]), [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]]);
  const full = tf.reshape(spread, [n, oh * sh, ow * sw, c]) as Tensor4D;
  return tf.slice(full, [0, 0, 0, 0], [n, (oh - 1) * sh + 1, (ow - 1) * sw + 1, c]);
}

/** dL/dx of a stride-s NHWC convolution as a forward convolution (exported for tests and the native path). */
export function conv2dInputGradViaForward(
  xShape: [number, number, number, number],
  dy: Tensor4D,
  filter: Tensor4D,
  strides: number | [number, number],
  pad: ConvAttrs['pad'],
  dimRoundingMode?: ConvAttrs['dimRoundingMode'],
): Tensor4D {
  return tf.tidy(() => {
    const info = backend_util.computeConv2DInfo(xShape, filter.shape, strides, 1, pad, dimRoundingMode);
    const [kh, kw] = [info.filterHeight, info.filterWidth];
    const d = dilateDy(dy, info.strideHeight, info.strideWidth);
    // Flip spatially and swap in/out channels: [KH, KW, Co, Ci].
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as Tensor4D;
    const top = kh - 1 - info.padInfo.top;
    const left = kw - 1 - info.padInfo.left;
    const bottom = info.inHeight + kh - 1 - d.shape[1] - top;
    const right = info.inWidth + kw - 1 - d.shape[2] - left;
    const p = padOrCrop(d, top, bottom, left, right);
    return tf.conv2d(p.x, flipped, 1, p.pad);
  });
}

/** dL/dfilter of a stride-s NHWC convolution as a forward convolution (dilation = stride). */
export function conv2dFilterGradViaForward(
  x: Tensor4D,
  dy: Tensor4D,
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  pad: ConvAttrs['pad'],
  dimRoundingMode?: ConvAttrs['dimRoundingMode'],
): Tensor4D {
  return tf.tidy(() => {
    const info = backend_util.computeConv2DInfo(x.shape, filterShape, strides, 1, pad, dimRoundingMode);
    const [kh, kw] = [info.filterHeight, info.filterWidth];
    const [sh, sw] = [info.strideHeight, info.strideWidth];
    // Channels become the batch, the batch becomes the reduced channel axis.
    const xT = tf.transpose(x, [3, 1, 2, 0]) as Tensor4D; // [Ci, H, W, N]
    const dyT = tf.transpose(dy, [1, 2, 0, 3]) as Tensor4D; // [OH, OW, N, Co]
    const top = info.padInfo.top;
    const left = info.padInfo.left;
    // Output height of the dilated conv is H + top + bottom - (OH-1)*sh; it must equal KH.
    const bottom = kh + (info.outHeight - 1) * sh - info.inHeight - top;
    const right = kw + (info.outWidth - 1) * sw - info.inWidth - left;
    const p = padOrCrop(xT, top, bottom, left, right);
    const out = tf.conv2d(p.x, dyT, 1, p.pad, 'NHWC', [sh, sw]); // [Ci, KH, KW, Co]
    return tf.transpose(out, [1, 2, 0, 3]) as Tensor4D;
  });
}

function conv2dGrad(original: GradConfig | undefined): GradConfig {
  return {
    kernelName: tf.Conv2D,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved as [Tensor4D, Tensor4D];
      const a = attrs as unknown as ConvAttrs;
      const dilationsOne = a.dilations == null || backend_util.tupleValuesAreOne(a.dilations);
      if (!inScope() || a.dataFormat === 'NCHW' || !dilationsOne) return stock(original, dy, saved, attrs);
      const dy4 = dy as Tensor4D;
      return {
        x: () => conv2dInputGradViaForward(x.shape, dy4, filter, a.strides, a.pad),
        filter: () => conv2dFilterGradViaForward(x, dy4, filter.shape, a.strides, a.pad),
      };
    },
  };
}

const OVERRIDES: ReadonlyArray<[string, (original: GradConfig | undefined) => GradConfig]> = [
  [tf.BatchMatMul, batchMatMulGrad],
  [tf.Conv2D, conv2dGrad],
];

/**
 * Registers the wasm training gradients. Idempotent: a second call widens the backend scope and re-installs
 * an override that another tfjs bundle replaced (importing `@tensorflow/tfjs` re-registers every stock
 * gradient), wrapping whatever gradient is then current. Results on backends outside the scope are unchanged.
 */
export function registerWasmTrainingGradients(options: WasmTrainingGradientOptions = {}): void {
  const backends = options.backends ?? ['wasm'];
  if (!registration) registration = { originals: new Map(), scope: new Set() };
  for (const b of backends) registration.scope.add(b);
  for (const [kernelName, make] of OVERRIDES) {
    const current = tf.getGradient(kernelName);
    if (current && ours.has(current)) continue;
    const wrapped = make(current);
    ours.add(wrapped);
    registration.originals.set(kernelName, current);
    tf.registerGradient(wrapped);
  }
}

/** Restores the gradients that were registered before {@link registerWasmTrainingGradients}. */
export function unregisterWasmTrainingGradients(): void {
  if (!registration) return;
  for (const [kernelName, config] of registration.originals) {
    if (config) tf.registerGradient(config);
    else tf.unregisterGradient(kernelName);
  }
  registration = null;
}
