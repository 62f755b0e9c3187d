/**
 * Gradient overrides for the `native` backend (lenet5-step, issue 10 deliverable 3: fewer kernel launches and
 * memory passes per step). tfjs's `Relu` gradient is `mul(dy, cast(step(x), 'float32'))`: a `Step` pass, an
 * (aliased) `Cast` and a `Multiply` pass over the activation — on LeNet-5-Caffe's conv1 output (100×24×24×20,
 * 4.6 MB) 1.9 ms of a ≈ 29 ms one-thread step (profile in BENCHMARKS.md, "LeNet-5-Caffe step per op class").
 * The override computes the same product in one native pass (`SparseLearningReluGrad`, the addon's
 * `reluBackward`): each element is `dy · step(x)` with step(x) = 1 for x > 0, NaN for NaN, else 0 — the same
 * single IEEE multiply as the stock pair, so the result is bit-identical (sign of zero and NaN included).
 *
 * Like `wasm-training-gradients.ts`, the override is global in tfjs (`registerGradient` replaces by kernel
 * name): it runs the native kernel only on a backend in its scope that has the kernel, for float32 operands
 * of one shape, and the saved stock gradient everywhere else.
 */
import * as tf from '@tensorflow/tfjs-core';
// Stock gradients must be registered before they are wrapped (see wasm-training-gradients.ts).
import '@tensorflow/tfjs-layers';
import type { GradConfig, Tensor } from '@tensorflow/tfjs-core';
import { SparseLearningError } from '@sparse-learning/core';

import { RELU_GRAD_KERNEL_NAME } from './native-kernels.js';

interface Registration {
  readonly original: GradConfig | undefined;
  readonly scope: Set<string>;
}

let registration: Registration | null = null;
const ours = new WeakSet<GradConfig>();

function reluGrad(original: GradConfig | undefined): GradConfig {
  return {
    kernelName: tf.Relu,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const g = dy as Tensor;
      const backend = tf.getBackend();
      const native =
        registration !== null &&
        registration.scope.has(backend) &&
        tf.getKernel(RELU_GRAD_KERNEL_NAME, backend) !== undefined &&
        x.dtype === 'float32' &&
        g.dtype === 'float32' &&
        tf.util.arraysEqual(x.shape, g.shape);
      if (native) return { x: () => tf.engine().runKernel(RELU_GRAD_KERNEL_NAME, { dy: g, x }) as Tensor };
      if (!original) {
        throw new SparseLearningError('E_ENGINE_STATE', 'no stock Relu gradient was registered to fall back to (import @tensorflow/tfjs-layers or @tensorflow/tfjs)');
      }
      return original.gradFunc(dy, saved, attrs);
    },
  };
}

/** True when {@link registerNativeTrainingGradients} is in effect. */
export function nativeTrainingGradientsRegistered(): boolean {
  return registration !== null;
}

/**
 * Registers the native backend's gradient overrides for `backends` (default `['native']`). Idempotent: a second
 * call widens the scope and re-installs an override another tfjs bundle replaced. Elsewhere the stock gradient runs.
 */
export function registerNativeTrainingGradients(options: { readonly backends?: readonly string[] } = {}): void {
  const current = tf.getGradient(tf.Relu);
  if (!registration || !(current && ours.has(current))) {
    const original = current && ours.has(current) ? registration?.original : current;
    const wrapped = reluGrad(original);
    ours.add(wrapped);
    registration = { original, scope: registration?.scope ?? new Set() };
    tf.registerGradient(wrapped);
  }
  for (const b of options.backends ?? ['native']) registration.scope.add(b);
}

/** Restores the `Relu` gradient registered before {@link registerNativeTrainingGradients}. */
export function unregisterNativeTrainingGradients(): void {
  if (!registration) return;
  if (registration.original) tf.registerGradient(registration.original);
  else tf.unregisterGradient(tf.Relu);
  registration = null;
}
