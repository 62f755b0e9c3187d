import * as tf from '@tensorflow/tfjs-core';

/**
 * What `tf.sign` returns for a float32 value on the active backend, as a threshold `t`: `1` for `x ≥ t`,
 * `-1` for `x ≤ −t`, `+0` otherwise (NaN included). Backends disagree: tfjs `cpu` has `t` = the smallest
 * denormal (plain `x > 0`), `wasm` (and `native`, which takes its `Sign` from wasm) returns 0 below the
 * float32 machine epsilon, `t = 2^-23`. The DeepR transform computes `sign(w)` in JavaScript only when the
 * backend's kernel is one of these rules on every probe value, so its result is the kernel's, bit for bit
 * (issue 14); otherwise it keeps the kernel.
 */
const THRESHOLDS: readonly number[] = [2 ** -149, 2 ** -23];

/** Zeros, denormals, the boundaries of both rules from either side, infinities, NaN. */
const PROBES = new Float32Array([
  Number.NaN, -0, 0, 2 ** -149, -(2 ** -149), 1e-40, -1e-40, 2 ** -126, -(2 ** -126), 2 ** -23 - 2 ** -47, -(2 ** -23 - 2 ** -47),
  2 ** -23, -(2 ** -23), 1e-3, -1e-3, 1, -1, 3.4e38, -3.4e38, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY,
]);

const known = new WeakMap<object, number | null>();

/** `tf.sign` of one value by the threshold rule `t` (see {@link backendSignThreshold}). */
export function signByThreshold(x: number, t: number): number {
  return x >= t ? 1 : x <= -t ? -1 : 0;
}

/**
 * The sign threshold of the active backend's `Sign` kernel, probed once per backend instance, or `null`
 * when the kernel follows neither rule (then only the kernel itself may compute signs).
 */
export function backendSignThreshold(): number | null {
  const backend = tf.backend();
  const cached = known.get(backend);
  if (cached !== undefined) return cached;
  const got = tf.tidy(() => tf.sign(tf.tensor1d(PROBES, 'float32')).dataSync());
  const threshold = THRESHOLDS.find((t) => PROBES.every((x, i) => Object.is(got[i], signByThreshold(x, t)))) ?? null;
  known.set(backend, threshold);
  return threshold;
}
