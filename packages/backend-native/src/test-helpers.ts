/**
 * Shared test helpers (not exported from the package): deterministic random data, running one function on
 * two backends with identical inputs, and float32 comparisons.
 */
import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';

/** A seeded uniform [0, 1) stream (32-bit LCG) for the sparse kernels' tests: cheap and reproducible. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Deterministic uniform(-1, 1) data (mulberry32), so failures reproduce. */
export function randomData(size: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i += 1) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** Input spec: shape plus data. */
export interface Input {
  readonly shape: number[];
  readonly data: Float32Array;
}

export function input(shape: number[], seed: number): Input {
  return { shape, data: randomData(shape.reduce((a, b) => a * b, 1), seed) };
}

/** Runs `fn` on `backend` with fresh tensors made from `inputs`; returns the outputs' data and shapes. */
export async function runOn(
  backend: string,
  inputs: Input[],
  fn: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[],
): Promise<{ shape: number[]; data: Float32Array }[]> {
  expect(await tf.setBackend(backend)).toBe(true);
  expect(tf.getBackend()).toBe(backend);
  const before = tf.memory().numTensors;
  const xs = inputs.map((i) => tf.tensor(i.data, i.shape));
  const out = tf.tidy(() => fn(...xs));
  const outs = Array.isArray(out) ? out : [out];
  const result = outs.map((t) => ({ shape: t.shape, data: t.dataSync() as Float32Array }));
  tf.dispose([...outs, ...xs]);
  expect(tf.memory().numTensors).toBe(before);
  return result;
}

/** Every element within float32 tolerance: |a - e| <= tol * (1 + |e|). */
export function expectClose(actual: { shape: number[]; data: Float32Array }[], expected: { shape: number[]; data: Float32Array }[], tol = 1e-4): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, k) => {
    const e = expected[k];
    expect(a.shape).toEqual(e.shape);
    let worst = 0;
    let at = -1;
    for (let i = 0; i < e.data.length; i += 1) {
      const err = Math.abs(a.data[i] - e.data[i]) / (1 + Math.abs(e.data[i]));
      if (!(err <= worst)) {
        worst = err;
        at = i;
      }
    }
    expect(worst, `output ${k}: worst relative error at ${at}: ${a.data[at]} vs ${e.data[at]}`).toBeLessThanOrEqual(tol);
  });
}

/** Every padding/stride/kernel case the models use, with odd sizes and batch 1. */
export interface ConvCase {
  readonly name: string;
  readonly x: number[];
  readonly f: number[];
  readonly stride: number;
  readonly pad: 'valid' | 'same' | [[number, number], [number, number], [number, number], [number, number]];
}

const sym = (p: number): ConvCase['pad'] => [[0, 0], [p, p], [p, p], [0, 0]];

export const CONV_CASES: ConvCase[] = [
  { name: '5x5 valid s1 (LeNet-5 conv1)', x: [3, 13, 11, 1], f: [5, 5, 1, 7], stride: 1, pad: 'valid' },
  { name: '5x5 valid s1 odd channels', x: [2, 9, 9, 5], f: [5, 5, 5, 11], stride: 1, pad: 'valid' },
  { name: '3x3 explicit 1 s1 batch 1', x: [1, 7, 9, 3], f: [3, 3, 3, 9], stride: 1, pad: sym(1) },
  { name: '3x3 explicit 1 s2 (WRN downsample)', x: [2, 9, 8, 4], f: [3, 3, 4, 6], stride: 2, pad: sym(1) },
  { name: '3x3 valid s2 leftover rows', x: [2, 10, 11, 3], f: [3, 3, 3, 5], stride: 2, pad: 'valid' },
  { name: '1x1 valid s1 (pointwise)', x: [2, 5, 7, 6], f: [1, 1, 6, 10], stride: 1, pad: 'valid' },
  { name: '1x1 valid s2 (WRN shortcut)', x: [3, 9, 7, 5], f: [1, 1, 5, 13], stride: 2, pad: 'valid' },
  { name: '5x5 explicit 2 s2 (AlexNet-like)', x: [1, 13, 13, 3], f: [5, 5, 3, 4], stride: 2, pad: sym(2) },
  { name: '3x3 same s2 (asymmetric TF pad)', x: [2, 8, 7, 3], f: [3, 3, 3, 5], stride: 2, pad: 'same' },
  { name: '3x3 same s1', x: [1, 6, 5, 17], f: [3, 3, 17, 9], stride: 1, pad: 'same' },
];
