/**
 * The `BatchMatMul` gradient override that makes the stock `wasm` backend train dense layers fast (issue 6,
 * item 1): wasm runs a matmul through XNNPACK only when neither operand is transposed; with `transposeA` or
 * `transposeB` it falls back to a naive loop (measured here: 100x784 * 784x300 takes 25 ms with transposeA and
 * 17 ms with transposeB, against 1.7 ms plain). The stock gradient asks for exactly those transposed products,
 * so the override materialises the transposes (`tf.transpose`) and calls the plain matmul.
 *
 * Convolution gradients are not overridden here: the stock `Conv2D` gradient calls the `Conv2DBackpropFilter`
 * and `Conv2DBackpropInput` kernels, which `registerWasmCompositeKernels` (`wasm-composite-kernels.ts`)
 * provides on wasm as forward convolutions — the one JavaScript implementation of the conv filter gradient,
 * shared by the plain and the fused conv ops.
 *
 * The override is global in tfjs (`registerGradient` replaces by kernel name), so it checks the active
 * backend and calls the saved original gradient (`getGradient` at registration time) on any backend outside
 * its scope, or for operands it does not handle (rank > 2). Results equal the stock gradients within float32
 * rounding (see the tests).
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core's Node entry registers no gradients; tfjs-layers' bundle registers all stock ones. Import it
// first so the originals exist when they are wrapped (and a later import cannot silently replace ours).
import '@tensorflow/tfjs-layers';
import type { GradConfig, Tensor } from '@tensorflow/tfjs-core';
import { SparseLearningError } from '@sparse-learning/core';

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

const OVERRIDES: ReadonlyArray<[string, (original: GradConfig | undefined) => GradConfig]> = [
  [tf.BatchMatMul, batchMatMulGrad],
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
