import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createRng, type Rng } from '@sparse-learning/core';
import { backendSignThreshold, signByThreshold } from './backend-sign.js';
import { deepRMaskedTerm, deepRTermByKernels } from './deep-r-terms.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Float32 bits, so that +0/-0 and NaN payloads count as different values. */
const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));

/**
 * Weights that probe every branch: ±0, denormals, both sides of the float32 epsilon (the wasm kernel's sign
 * threshold), ordinary values, huge values, infinities and NaN, cycled over `n` positions.
 */
function edgeWeights(n: number, rng: Rng): Float32Array {
  const specials = [0, -0, 1e-40, -1e-40, 2 ** -23, -(2 ** -23), 2 ** -23 - 2 ** -47, 1e-3, -1e-3, 3e38, -3e38, Infinity, -Infinity, NaN];
  return Float32Array.from({ length: n }, (_, i) => (i % 3 === 0 ? specials[(i / 3) % specials.length] : rng.normal() * 0.05));
}

/** The pre-issue-14 transform's term: noise drawn into an array for mask ≠ 0, then the four kernels. */
function reference(variable: tf.Tensor, mask: tf.Tensor, l1: number, std: number, rng: Rng): tf.Tensor {
  let noise: Float32Array | null = null;
  if (std > 0) {
    const m = mask.dataSync();
    noise = new Float32Array(m.length);
    for (let i = 0; i < m.length; i++) if (m[i] !== 0) noise[i] = std * rng.normal();
  }
  return deepRTermByKernels(variable, mask, l1, noise);
}

describe('DeepR terms in one JavaScript pass (issue 14)', () => {
  it('knows the cpu kernel: sign(x) = ±1 for any nonzero x, denormals included', () => {
    expect(backendSignThreshold()).toBe(2 ** -149);
    expect([1e-40, -1e-40, 0, -0, NaN, 2 ** -24].map((x) => signByThreshold(Math.fround(x), 2 ** -23))).toEqual([0, 0, 0, 0, 0, 0]);
    expect(Object.is(signByThreshold(-0, 2 ** -149), 0)).toBe(true);
  });

  it('equals the kernels bit for bit and draws the same noise, on every path', () => {
    let compared = 0;
    for (const [l1, std] of [[1e-5, 0.004], [1e-5, 0], [0, 0.3], [0.25, 1e-9]]) {
      for (const kind of ['binary', 'bytes', 'odd values']) {
        const rng = createRng(`terms/${l1}/${std}/${kind}`);
        const n = 999;
        const w = edgeWeights(n, rng);
        const maskArray = Float32Array.from({ length: n }, (_, i) => (i % 7 === 0 || rng.next() < 0.2 ? 1 : 0));
        // A non-0/1 mask value sends the pass to the kernels (with the noise already drawn for it).
        if (kind === 'odd values') [maskArray[10], maskArray[500]] = [0.5, -0];
        const variable = tf.tensor(w, [27, 37]);
        const mask = tf.tensor(maskArray, [27, 37]);
        const bytes = kind === 'bytes' ? Uint8Array.from(maskArray) : undefined;
        const fast = createRng('noise');
        const slow = createRng('noise');
        const got = deepRMaskedTerm({ variable, mask, maskValues: bytes, l1, std, rng: fast })!;
        const want = reference(variable, mask, l1, std, slow);
        expect(bits(got), `l1 ${l1}, std ${std}, ${kind}`).toEqual(bits(want));
        // Both streams stand at the same place afterwards.
        expect(fast.getState()).toEqual(slow.getState());
        tf.dispose([variable, mask, got, want]);
        compared++;
      }
    }
    expect(compared).toBe(12);
  });

  it('hand-worked: α·sign(w) + noise on active positions, −0 where a masked weight is negative, nothing without terms', () => {
    const variable = tf.tensor1d([0.5, -0.25, -2, 0]);
    const mask = tf.tensor1d([1, 1, 0, 1]);
    const term = deepRMaskedTerm({ variable, mask, l1: 0.5, std: 0, rng: createRng(1) })!;
    const values = Array.from(term.dataSync());
    expect(values).toEqual([0.5, -0.5, -0, 0]);
    expect(Object.is(values[2], -0)).toBe(true);
    expect(deepRMaskedTerm({ variable, mask, l1: 0, std: 0, rng: createRng(1) })).toBeNull();
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      deepRMaskedTerm({ variable, mask, l1: 0.5, std: 1, rng: createRng(1) });
    });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([variable, mask, term]);
  });
});
