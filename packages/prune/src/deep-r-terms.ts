import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '@sparse-learning/core';
import { backendSignThreshold, signByThreshold } from './backend-sign.js';

/** The DeepR terms of one masked tensor: what {@link deepRMaskedTerm} adds to its gradient. */
export interface DeepRTermInput {
  readonly variable: tf.Tensor;
  /** The float32 0/1 mask tensor of the variable. */
  readonly mask: tf.Tensor;
  /** The same mask as 0/1 bytes, if the caller holds it (saves reading `mask` back); ignored if its length differs. */
  readonly maskValues?: Uint8Array;
  /** L1 strength `α` (0: no L1 term). */
  readonly l1: number;
  /** Noise standard deviation `sqrt(2ηT)` (0: no noise, nothing drawn). */
  readonly std: number;
  /** The noise stream: one normal per position whose mask is not 0, in index order. */
  readonly rng: Rng;
}

/**
 * The noise of one tensor, drawn as DeepR always drew it: `std · N(0, 1)` rounded to float32 at every
 * position whose mask is not 0, in index order; 0 elsewhere.
 */
function drawNoise(maskValues: ArrayLike<number>, std: number, rng: Rng): Float32Array {
  const noise = new Float32Array(maskValues.length);
  for (let i = 0; i < maskValues.length; i++) if (maskValues[i] !== 0) noise[i] = std * rng.normal();
  return noise;
}

/**
 * The reference form: `(α·sign(w) + noise) ⊙ mask` as TensorFlow.js ops (four element-wise kernels over the
 * whole tensor). Used when the backend's `Sign` kernel follows no known rule, or the mask is not 0/1.
 */
export function deepRTermByKernels(variable: tf.Tensor, mask: tf.Tensor, l1: number, noise: Float32Array | null): tf.Tensor {
  let extra: tf.Tensor | null = null;
  if (l1 > 0) extra = tf.mul(tf.sign(variable), l1);
  if (noise) {
    const noiseTensor = tf.tensor(noise, mask.shape, 'float32');
    extra = extra ? tf.add(extra, noiseTensor) : noiseTensor;
  }
  // Called with an L1 term or noise (deepRMaskedTerm returns null without either), so `extra` is set.
  return tf.mul(extra!, mask);
}

/**
 * `(α·sign(w) + noise) ⊙ mask` for one tensor (Bellec et al. 2018, §2; docs/algorithm.md#baselines), the
 * term DeepR adds to the gradient. One pass in JavaScript over the weights and the mask, one upload (issue 14:
 * it runs after every step), computing exactly what the kernels of {@link deepRTermByKernels} compute: each
 * float32 operation is one `Math.fround` of the double result (exact for one +, ×: double rounding of a
 * single operation on float32 inputs is innocuous), `sign` follows the backend's own rule
 * ({@link backendSignThreshold}), and the noise is drawn in the same order from the same stream. When the
 * backend's rule is unknown, a tensor is not float32 or a mask value is not 0/1, the kernels compute it (with
 * the same noise).
 *
 * @returns a new tensor of the mask's shape, or `null` when there is neither an L1 term nor noise.
 */
export function deepRMaskedTerm(input: DeepRTermInput): tf.Tensor | null {
  const { variable, mask, l1, std, rng } = input;
  if (!(l1 > 0) && !(std > 0)) return null;
  const threshold = l1 > 0 ? backendSignThreshold() : 0;
  const bytes = input.maskValues && input.maskValues.length === mask.size ? input.maskValues : null;
  const maskValues = bytes ?? mask.dataSync();
  const weights = l1 > 0 && threshold !== null ? variable.dataSync() : null;
  if (threshold === null || !(bytes || maskValues instanceof Float32Array) || (weights !== null && !(weights instanceof Float32Array))) {
    return deepRTermByKernels(variable, mask, l1, std > 0 ? drawNoise(maskValues, std, rng) : null);
  }
  const n = maskValues.length;
  const l1f = Math.fround(l1);
  const term = new Float32Array(n);
  const noisy = std > 0;
  // Where the stream stood: a mask value other than 0/1 (found late) hands the work to the kernels, which
  // draw the same noise again from here.
  const start = noisy ? rng.getState() : null;
  // Bit views: a position whose mask is +0 and whose weight is ±0 (or without an L1 term) gets +0, which the
  // new array already holds — every inactive position of a masked layer; the others are computed in full.
  // (For bytes the values are their own bits.)
  const maskBits = bytes ?? new Uint32Array(maskValues.buffer, maskValues.byteOffset, n);
  const weightBits = weights ? new Uint32Array(weights.buffer, weights.byteOffset, n) : maskBits;
  let binary = true;
  for (let i = 0; i < n; i++) {
    if ((maskBits[i] | (weightBits[i] & 0x7fffffff)) === 0) continue;
    const m = maskValues[i];
    // α·sign(w): ±α or +0, exact in float32.
    let e = weights ? signByThreshold(weights[i], threshold) * l1f : 0;
    if (noisy) {
      const v = m !== 0 ? Math.fround(std * rng.normal()) : 0;
      e = weights ? Math.fround(e + v) : v;
    }
    if (m !== 0 && m !== 1) binary = false;
    // The Float32Array store rounds the product to float32.
    term[i] = e * m;
  }
  if (!binary) {
    if (start) rng.setState(start);
    return deepRTermByKernels(variable, mask, l1, noisy ? drawNoise(maskValues, std, rng) : null);
  }
  return tf.tensor(term, mask.shape, 'float32');
}
