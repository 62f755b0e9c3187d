import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmCompositeKernels } from '@sparse-learning/backend-native';
import { expect } from 'vitest';
import type { LayersTrainableModel } from '../layers-trainable-model.js';

declare module 'vitest' {
  interface TaskMeta {
    /** Why a test (or every test of a suite) is skipped; printed by `npm test` above its last line. */
    skipReason?: string;
  }
}

/**
 * TEST SUPPORT ONLY: the `wasm` backend with `@sparse-learning/backend-native`'s composite kernels — what
 * `--backend wasm` trains with. The CNN tests take their training step here because tfjs-cpu's
 * `Conv2DBackpropFilter` walks `TensorBuffer.get` in a 7-deep loop (a VGG step takes about a minute), and
 * wasm has no filter-gradient kernel of its own: the composite is the project's one JavaScript filter
 * gradient, so these tests also check it on every zoo CNN. A test-only dependency (devDependencies): the
 * models themselves never import a backend.
 */
export async function useWasmWithCompositeKernels(): Promise<void> {
  registerWasmCompositeKernels();
  expect(await tf.setBackend('wasm')).toBe(true);
  expect(tf.getBackend()).toBe('wasm');
}

/** One loss and gradient evaluation of a model built on `backend`. */
export interface ModelGradients {
  readonly loss: number;
  readonly weights: Float32Array[];
  readonly grads: Float32Array[];
  /** The non-trainable variables after the step (batch norm's running statistics). */
  readonly state: Float32Array[];
}

/**
 * TEST SUPPORT ONLY: builds `make()` on `backend`, optionally with the trainable weights given (so two
 * backends evaluate the same function), and evaluates the loss and its gradients on a fixed batch; asserts
 * that no tensor leaks.
 */
export async function modelGradientsOn(backend: string, make: () => LayersTrainableModel, batch: number, weights?: Float32Array[]): Promise<ModelGradients> {
  expect(await tf.setBackend(backend)).toBe(true);
  const model = make();
  const vars = model.variables.filter((v) => v.trainable).map((v) => v.variable);
  if (weights) vars.forEach((v, i) => v.assign(tf.tensor(weights[i], v.shape)));
  const inputs = Float32Array.from({ length: batch * model.inputShape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 12.9898) * 0.5);
  const xs = tf.tensor4d(inputs, [batch, ...model.inputShape] as [number, number, number, number]);
  const ys = tf.tensor1d(Array.from({ length: batch }, (_, i) => (i * 3) % model.numClasses), 'int32');
  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(() => model.loss(xs, ys), vars);
  const result = {
    loss: value.dataSync()[0],
    weights: vars.map((v) => v.dataSync() as Float32Array),
    grads: vars.map((v) => grads[v.name].dataSync() as Float32Array),
    state: model.variables.filter((v) => !v.trainable).map((v) => v.variable.dataSync() as Float32Array),
  };
  tf.dispose([value, ...Object.values(grads)]);
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([xs, ys]);
  model.dispose();
  return result;
}

/** The largest `|a − e| / (1 + |e|)` over all elements of all arrays. */
export function worstRelativeError(actual: Float32Array[], expected: Float32Array[]): number {
  expect(actual.map((a) => a.length)).toEqual(expected.map((e) => e.length));
  let worst = 0;
  actual.forEach((a, k) => a.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - expected[k][i]) / (1 + Math.abs(expected[k][i]))))));
  return worst;
}
