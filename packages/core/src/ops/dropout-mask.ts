import * as tf from '@tensorflow/tfjs-core';

import { outOfRangeError } from '../errors.js';

/**
 * Name of the optional dropout-mask kernel (issue 10, wrn-parity: WRN-16-8 draws 14.7 M dropout uniforms per
 * step, and tfjs draws them one at a time in JavaScript — ≈ 0.2 s of a 2.9 s step). A backend that registers it
 * (the `native` backend of `@sparse-learning/backend-native` does) draws a dropout multiplier in one launch;
 * everywhere else {@link dropoutMultiplier} runs tfjs's own chain, unchanged.
 *
 * Contract: no inputs; attributes `shape` (number[]), `keepProb` (float32, `1 − rate`) and the generator state
 * `s0`, `s1`, `s2`, `c` of {@link aleaState}; one float32 output of `shape` whose element i is
 * `floor(u_i + keepProb) / keepProb` in float32 arithmetic, u_i the i-th draw of seedrandom's Alea generator from
 * that state rounded to float32 — bit for bit what `tf.div(tf.floor(tf.add(tf.randomUniform(shape, 0, 1,
 * 'float32', seed), keepProb)), keepProb)` (the multiplier inside `tf.dropout`) gives.
 */
export const DROPOUT_MASK_KERNEL = 'SparseLearningDropoutMask';

/** True when the active backend registers {@link DROPOUT_MASK_KERNEL}. */
export function hasDropoutMaskKernel(): boolean {
  return tf.getKernel(DROPOUT_MASK_KERNEL, tf.getBackend()) !== undefined;
}

/** The state of seedrandom's Alea generator (Johannes Baagøe's algorithm), which tfjs's `randomUniform` uses. */
export interface AleaState {
  readonly s0: number;
  readonly s1: number;
  readonly s2: number;
  readonly c: number;
}

/** Baagøe's Mash hash as seedrandom implements it (its state `n` persists across calls of one instance). */
function mash(): (data: string) => number {
  let n = 0xefc8249d;
  return (data) => {
    for (let i = 0; i < data.length; i += 1) {
      n += data.charCodeAt(i);
      let h = 0.02519603282416938 * n;
      n = h >>> 0;
      h -= n;
      h *= n;
      n = h >>> 0;
      h -= n;
      n += h * 0x100000000; // 2^32
    }
    return (n >>> 0) * 2.3283064365386963e-10; // 2^-32
  };
}

/**
 * The initial state of `seedrandom.alea(seed)` — the generator of `tf.randomUniform(shape, 0, 1, 'float32',
 * seed)` — computed here (seedrandom's seeding, restated) so a backend can continue the sequence natively: draw
 * i is `t = 2091639·s0 + c·2^-32; c = t | 0; (s0, s1, s2) = (s1, s2, t − c)`, returning the new s2.
 */
export function aleaState(seed: string): AleaState {
  const m = mash();
  let s0 = m(' ');
  let s1 = m(' ');
  let s2 = m(' ');
  s0 -= m(seed);
  if (s0 < 0) s0 += 1;
  s1 -= m(seed);
  if (s1 < 0) s1 += 1;
  s2 -= m(seed);
  if (s2 < 0) s2 += 1;
  return { s0, s1, s2, c: 1 };
}

/**
 * The multiplier `tf.dropout(x, rate, undefined, seed)` multiplies x by: `floor(u + keep)/keep` per element, u
 * uniform in [0, 1) from the seeded generator, keep = 1 − rate (docs/algorithm.md#models: PyTorch's
 * `F.dropout` zeroes with probability p and scales the rest by 1/(1 − p)). Drawn in one kernel launch by a
 * backend that registers {@link DROPOUT_MASK_KERNEL}, else by tfjs's own chain (`randomUniform`, `add`,
 * `floor`, `div`); bit-identical either way, so masks — hence runs, and runs resumed from a checkpoint — do
 * not depend on the backend.
 */
export function dropoutMultiplier(shape: readonly number[], rate: number, seed: string): tf.Tensor {
  if (!(rate >= 0 && rate < 1)) throw outOfRangeError('dropout rate', rate, '0 <= rate < 1');
  const keepProb = 1 - rate;
  if (!hasDropoutMaskKernel()) {
    return tf.tidy(() => tf.div(tf.floor(tf.add(tf.randomUniform([...shape], 0, 1, 'float32', seed), keepProb)), keepProb));
  }
  const { s0, s1, s2, c } = aleaState(seed);
  const attrs = { shape: [...shape], keepProb: Math.fround(keepProb), s0, s1, s2, c };
  return tf.engine().runKernel(DROPOUT_MASK_KERNEL, {}, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/**
 * `tf.dropout(x, rate, undefined, seed)` (training mode), with its multiplier from {@link dropoutMultiplier}: the
 * same ops for the gradient (one `mul` by a constant multiplier) and bit-identical values on every backend.
 */
export function seededDropout(x: tf.Tensor, rate: number, seed: string): tf.Tensor {
  if (!(rate >= 0 && rate < 1)) throw outOfRangeError('dropout rate', rate, '0 <= rate < 1');
  if (rate === 0) return tf.clone(x);
  return tf.tidy(() => tf.mul(x, dropoutMultiplier(x.shape, rate, seed)));
}
