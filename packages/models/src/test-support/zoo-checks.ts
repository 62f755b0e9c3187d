import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import type { LayersTrainableModel } from '../layers-trainable-model.js';
import { modelInfo } from '../registry.js';
import { SPEC_COUNTS } from './spec-table.js';
import { sgdStep } from './training-step.js';

/** Cpu backend, quietly. */
export async function useCpu(): Promise<void> {
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
}

/**
 * TEST SUPPORT ONLY: the invariants every zoo model must satisfy — counts equal the docs/algorithm.md#models table and the
 * static `modelInfo`, prunable exactly for conv/linear kernels (rank ≥ 2), BN running stats non-trainable
 * and last, unique stable names, and every tfjs weight mapped exactly once.
 */
export function checkZooModel(model: LayersTrainableModel, id: string): void {
  expect(model.id).toBe(id);
  expect(model.counts).toEqual(SPEC_COUNTS[id]);
  const info = modelInfo(id);
  expect({ masked: info.maskedWeights, total: info.totalParameters }).toEqual(model.counts);
  expect(model.inputShape).toEqual(info.inputShape);

  const names = model.variables.map((v) => v.name);
  expect(new Set(names).size).toBe(names.length);
  for (const v of model.variables) {
    const isKernel = v.variable.shape.length >= 2;
    expect(v.prunable, v.name).toBe(isKernel);
    expect(v.prunable, v.name).toBe(v.name.endsWith('.weight') && isKernel);
    const isBuffer = v.name.endsWith('.running_mean') || v.name.endsWith('.running_var');
    expect(v.trainable, v.name).toBe(!isBuffer);
    expect(v.variable.trainable, v.name).toBe(!isBuffer);
  }
  const firstBuffer = model.variables.findIndex((v) => !v.trainable);
  if (firstBuffer >= 0) expect(model.variables.slice(firstBuffer).every((v) => !v.trainable)).toBe(true);

  const tfNames = model.layersModel.weights.map((w) => (w.read() as tf.Variable).name).sort();
  expect(model.variables.map((v) => v.variable.name).sort()).toEqual(tfNames);
}

/** Random NHWC inputs and int32 labels. */
export function randomBatch(batch: number, shape: readonly number[], numClasses: number): { x: tf.Tensor; y: tf.Tensor } {
  const x = tf.randomNormal([batch, ...shape], 0, 1, 'float32', 42);
  const y = tf.tensor1d(
    Array.from({ length: batch }, (_, i) => (i * 3 + 1) % numClasses),
    'int32',
  );
  return { x, y };
}

/**
 * TEST SUPPORT ONLY: one SGD training step on the cpu backend; asserts a finite loss, a gradient for every
 * trainable variable, an update of every prunable kernel and no leaked tensors.
 */
export async function checkTrainingStep(model: LayersTrainableModel, batch: number): Promise<number> {
  const { x, y } = randomBatch(batch, model.inputShape, model.numClasses);
  const result = await sgdStep(model, x, y, 0.05);
  tf.dispose([x, y]);
  expect(Number.isFinite(result.loss)).toBe(true);
  expect(result.leaked).toBe(0);
  expect([...result.gradNames]).toEqual(model.variables.filter((v) => v.trainable).map((v) => v.name));
  const kernels = model.variables.filter((v) => v.prunable).map((v) => v.name);
  expect(kernels.filter((k) => !result.changed.includes(k))).toEqual([]);
  return result.loss;
}

/** TEST SUPPORT ONLY: inference output is `[batch, classes]` log-probabilities (rows sum to 1 in prob space). */
export async function checkForward(model: LayersTrainableModel, batch: number): Promise<void> {
  const { x, y } = randomBatch(batch, model.inputShape, model.numClasses);
  const before = tf.memory().numTensors;
  const logp = model.predict(x);
  expect(logp.shape).toEqual([batch, model.numClasses]);
  const sums = tf.tidy(() => tf.sum(tf.exp(logp), -1));
  for (const s of await sums.data()) expect(s).toBeCloseTo(1, 4);
  tf.dispose([logp, sums]);
  expect(tf.memory().numTensors).toBe(before);
  tf.dispose([x, y]);
}
