import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-layers'; // stock gradients (tfjs-core's Node entry registers none)
import { SparseLearningError } from '@sparse-learning/core';
import { beforeAll, describe, expect, it } from 'vitest';

import { nativeAddonStatus } from './addon.js';
import { nativeSkipOptions } from './native-test-skip.js';
import {
  convGeometry,
  convNnzOf,
  fromChannelMajor,
  scatterConvDense,
  sparseConvAddonOf,
  sparseConvFromDense,
  toChannelMajor,
  type SparseConvLayer,
} from './sparse-conv-layout.js';
import { paddedBatch, sparseAddonOf } from './sparse-layout.js';
import { rng } from './test-helpers.js';

// The sparse convolution kernels (issue 9) against tf.conv2d and its gradients on the cpu backend: odd sizes,
// batch 1, batches that need several register chunks, strides 1 and 2 (and mixed), 'valid' and 'same',
// densities 0 / one nonzero / 100 %, on every instruction set this CPU has and on 1 and 2 threads. Tolerances:
// relative 1e-5 for the forward and input gradient, 1e-4 for the filter gradients (float32 sums of up to
// n·oh·ow = 2 560 products, in another order than the reference).
const status = nativeAddonStatus();
const conv = sparseConvAddonOf(status.addon);
const sparse = sparseAddonOf(status.addon);

interface Case {
  readonly label: string;
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly cin: number;
  readonly cout: number;
  readonly kh: number;
  readonly kw: number;
  readonly strides: [number, number];
  readonly padding: 'valid' | 'same';
  /** Fraction of active weights; 'one' = exactly one nonzero. */
  readonly density: number | 'one';
}

const CASES: Case[] = [
  { label: 'odd sizes, 3x3 same, 30 %', n: 5, h: 9, w: 7, cin: 3, cout: 5, kh: 3, kw: 3, strides: [1, 1], padding: 'same', density: 0.3 },
  { label: 'stride 2 valid, 25 %', n: 3, h: 11, w: 10, cin: 4, cout: 6, kh: 3, kw: 3, strides: [2, 2], padding: 'valid', density: 0.25 },
  { label: 'stride 2 same, 5x5, 40 %', n: 2, h: 8, w: 9, cin: 2, cout: 3, kh: 5, kw: 5, strides: [2, 2], padding: 'same', density: 0.4 },
  { label: '2x3 kernel, strides [2, 1], same, 50 %', n: 7, h: 7, w: 6, cin: 3, cout: 4, kh: 2, kw: 3, strides: [2, 1], padding: 'same', density: 0.5 },
  { label: 'batch 1, valid, 50 %', n: 1, h: 6, w: 6, cin: 2, cout: 4, kh: 3, kw: 3, strides: [1, 1], padding: 'valid', density: 0.5 },
  { label: 'density 0', n: 4, h: 5, w: 5, cin: 2, cout: 3, kh: 3, kw: 3, strides: [1, 1], padding: 'same', density: 0 },
  { label: 'one nonzero', n: 6, h: 7, w: 8, cin: 3, cout: 4, kh: 3, kw: 3, strides: [2, 2], padding: 'same', density: 'one' },
  { label: '100 %, batch 17 (two pad blocks)', n: 17, h: 6, w: 5, cin: 3, cout: 2, kh: 3, kw: 3, strides: [1, 1], padding: 'same', density: 1 },
  { label: 'LeNet-like 5x5 valid, batch 40, 20 % (parallel split)', n: 40, h: 12, w: 12, cin: 6, cout: 8, kh: 5, kw: 5, strides: [1, 1], padding: 'valid', density: 0.2 },
  { label: 'batch 130 (several register chunks), 1x1 and stride 2', n: 130, h: 5, w: 5, cin: 4, cout: 3, kh: 1, kw: 1, strides: [2, 2], padding: 'valid', density: 0.6 },
  // Rows of > 512 KiB per output row: the input channels (forward) and output channels (input gradient) are
  // processed in blocks whose partial sums accumulate in the output (4 and 3 blocks, then 4 and 2 blocks here).
  { label: 'channel blocks, 3x3 same, batch 100, 60 %', n: 100, h: 3, w: 200, cin: 4, cout: 3, kh: 3, kw: 3, strides: [1, 1], padding: 'same', density: 0.6 },
  { label: 'channel blocks, stride 2, batch 100, 50 %', n: 100, h: 5, w: 200, cin: 4, cout: 8, kh: 3, kw: 3, strides: [2, 2], padding: 'same', density: 0.5 },
  { label: 'wide row (several pixel tiles), 3x3 same, 10 %', n: 9, h: 4, w: 29, cin: 8, cout: 6, kh: 3, kw: 3, strides: [1, 1], padding: 'same', density: 0.1 },
];

interface Data {
  readonly layer: SparseConvLayer;
  readonly geom: Int32Array;
  readonly oh: number;
  readonly ow: number;
  readonly x: Float32Array; // channel-major
  readonly dy: Float32Array; // channel-major, padding columns zero
  readonly prev: Float32Array; // channel-major activations for the fused ReLU derivative
  readonly yRef: Float32Array; // NHWC, relu(conv + bias)
  readonly dxRef: Float32Array; // NHWC, convᵀ(dy) · (prev > 0)
  readonly dwRef: Float32Array; // HWIO dense filter gradient
}

function makeData(c: Case): Data {
  const r = rng(c.n * 7919 + c.h * 131 + c.w * 31 + c.cin * 7 + c.cout);
  const size = c.kh * c.kw * c.cin * c.cout;
  const mask = new Uint8Array(size);
  if (c.density === 'one') mask[Math.floor(r() * size)] = 1;
  else for (let k = 0; k < size; k++) mask[k] = r() < c.density ? 1 : 0;
  const weight = new Float32Array(size);
  for (let k = 0; k < size; k++) if (mask[k]) weight[k] = r() * 2 - 1;
  const bias = Float32Array.from({ length: c.cout }, () => r() - 0.5);
  const layer = sparseConvFromDense(weight, mask, c.kh, c.kw, c.cin, c.cout, { bias, relu: true });
  const { oh, ow, geom } = convGeometry(c.h, c.w, c.kh, c.kw, c.strides, c.padding);
  const xN = Float32Array.from({ length: c.n * c.h * c.w * c.cin }, () => r() * 2 - 1);
  const dyN = Float32Array.from({ length: c.n * oh * ow * c.cout }, () => r() * 2 - 1);
  const prevN = Float32Array.from({ length: xN.length }, () => (r() < 0.6 ? r() * 2 - 1 : 0));
  const refs = tf.tidy(() => {
    const x = tf.tensor4d(xN, [c.n, c.h, c.w, c.cin]);
    const f = tf.tensor4d(weight, [c.kh, c.kw, c.cin, c.cout]);
    const dy = tf.tensor4d(dyN, [c.n, oh, ow, c.cout]);
    const y = tf.relu(tf.add(tf.conv2d(x, f, c.strides, c.padding), tf.tensor1d(bias)));
    const [gx, gf] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.strides, c.padding), dy)))([x, f]);
    const dx = tf.mul(gx, tf.cast(tf.greater(tf.tensor4d(prevN, [c.n, c.h, c.w, c.cin]), 0), 'float32'));
    return [y.dataSync(), dx.dataSync(), gf.dataSync()] as Float32Array[];
  });
  return {
    layer,
    geom,
    oh,
    ow,
    x: toChannelMajor(xN, c.n, c.h, c.w, c.cin),
    dy: toChannelMajor(dyN, c.n, oh, ow, c.cout),
    prev: toChannelMajor(prevN, c.n, c.h, c.w, c.cin),
    yRef: Float32Array.from(refs[0]),
    dxRef: Float32Array.from(refs[1]),
    dwRef: Float32Array.from(refs[2]),
  };
}

function expectNear(actual: Float32Array, expected: Float32Array, tol: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let k = 0; k < expected.length; k++) {
    const err = Math.abs(actual[k] - expected[k]) / (1 + Math.abs(expected[k]));
    if (!(err <= worst)) [worst, at] = [Number.isNaN(err) ? Infinity : err, k];
  }
  expect(worst, `${what}: worst relative error at ${at}: ${actual[at]} vs ${expected[at]}`).toBeLessThan(tol);
}

type Isa = 'generic' | 'avx2' | 'avx512';
const isas: Isa[] = sparse && conv ? (['generic', 'avx2', 'avx512'] as const).filter((isa) => sparse.sparseSetIsa(isa)) : ['generic'];
const suite = nativeSkipOptions(sparse && conv ? null : `no sparse conv kernels (${status.reason})`);
const restoreIsa = () => {
  if (!sparse) return;
  for (const isa of ['avx512', 'avx2', 'generic'] as const) if (sparse.sparseSetIsa(isa)) return;
};

describe('sparse conv kernels vs tf.conv2d and its gradients (cpu backend)', suite, () => {
  const data = new Map<string, Data>();
  beforeAll(async () => {
    await tf.setBackend('cpu');
    for (const c of CASES) data.set(c.label, makeData(c));
  });

  it('the compact layout round-trips the dense filter and holds only the active entries', () => {
    const weight = Float32Array.from([0, 1.5, 0, 0, -2, 0, 0, 3]); // [1, 2, 2, 2]: kh 1, kw 2, cin 2, cout 2
    const layer = sparseConvFromDense(weight, null, 1, 2, 2, 2);
    expect(convNnzOf(layer)).toBe(3);
    expect(Array.from(layer.optr)).toEqual([0, 1, 3]);
    // output 0: (c 0, tap 1) = -2; output 1: (c 0, tap 0) = 1.5, (c 1, tap 1) = 3 — sorted by channel, then tap.
    expect(Array.from(layer.chan)).toEqual([0, 0, 1]);
    expect(Array.from(layer.tap)).toEqual([1, 0, 1]);
    expect(Array.from(layer.vals)).toEqual([-2, 1.5, 3]);
    expect(Array.from(layer.iptr)).toEqual([0, 2, 3]);
    expect(Array.from(layer.ochan)).toEqual([0, 1, 1]);
    expect(Array.from(layer.perm)).toEqual([0, 1, 2]);
    expect(Array.from(scatterConvDense(layer, layer.vals))).toEqual(Array.from(weight));
    const nhwc = Float32Array.from({ length: 3 * 2 * 2 * 5 }, (_, i) => i);
    expect(Array.from(fromChannelMajor(toChannelMajor(nhwc, 3, 2, 2, 5), 3, 2, 2, 5))).toEqual(Array.from(nhwc));
  });

  it("computes TensorFlow's 'same' and 'valid' geometry and rejects bad input with a SparseLearningError", () => {
    expect(Array.from(convGeometry(28, 28, 5, 5, [1, 1], 'valid').geom)).toEqual([28, 28, 24, 24, 1, 1, 0, 0]);
    expect(Array.from(convGeometry(8, 9, 5, 5, [2, 2], 'same').geom)).toEqual([8, 9, 4, 5, 2, 2, 1, 2]);
    expect(Array.from(convGeometry(16, 16, 3, 3, [2, 2], 'same').geom)).toEqual([16, 16, 8, 8, 2, 2, 0, 0]);
    expect(() => convGeometry(4, 4, 5, 5, [1, 1], 'valid')).toThrow(SparseLearningError);
    expect(() => convGeometry(4, 4, 3, 3, [0, 1], 'same')).toThrow(/stride = 0/);
    expect(() => convGeometry(4, 4, 3, 3, [1, 1], 'full' as 'same')).toThrow(/'valid' or 'same'/);
    expect(() => sparseConvFromDense(new Float32Array(5), null, 1, 1, 2, 2)).toThrow(SparseLearningError);
  });

  for (const isa of isas) {
    for (const threads of [1, 2]) {
      describe(`${isa}, ${threads} thread${threads > 1 ? 's' : ''}`, () => {
        for (const c of CASES) {
          it(`${c.label}: forward (bias + ReLU), input gradient (ReLU derivative), weight gradient at the nonzeros, fused SGD, dense filter gradient`, () => {
            const s = conv!;
            expect(sparse!.sparseSetIsa(isa)).toBe(true);
            status.addon!.setThreads(threads);
            try {
              const d = data.get(c.label)!;
              const { layer, geom, oh, ow } = d;
              const bp = paddedBatch(c.n);
              if (c.density === 0) expect(convNnzOf(layer)).toBe(0);
              if (c.density === 'one') expect(convNnzOf(layer)).toBe(1);
              if (c.density === 1) expect(convNnzOf(layer)).toBe(c.kh * c.kw * c.cin * c.cout);

              const y = new Float32Array(c.cout * oh * ow * bp).fill(Number.NaN);
              s.sparseConvForward(layer, geom, d.x, y, bp);
              expectNear(fromChannelMajor(y, c.n, oh, ow, c.cout), d.yRef, 1e-5, 'forward');

              const dx = new Float32Array(c.cin * c.h * c.w * bp).fill(Number.NaN);
              s.sparseConvBackwardInput(layer, geom, d.dy, d.prev, dx, bp);
              expectNear(fromChannelMajor(dx, c.n, c.h, c.w, c.cin), d.dxRef, 1e-5, 'input gradient');
              // Every element is written, padding columns included (zero: dy's padding columns are zero).
              expect(dx.every((v) => Number.isFinite(v))).toBe(true);

              const nnz = convNnzOf(layer);
              const grad = new Float32Array(nnz).fill(Number.NaN);
              s.sparseConvWeightGrad(layer, geom, d.dy, d.x, grad, bp);
              const gradRef = new Float32Array(nnz);
              for (let o = 0; o < c.cout; o++)
                for (let k = layer.optr[o]; k < layer.optr[o + 1]; k++) gradRef[k] = d.dwRef[(layer.tap[k] * c.cin + layer.chan[k]) * c.cout + o];
              expectNear(grad, gradRef, 1e-4, 'weight gradient');

              // Fused gradient + SGD (Nesterov, coupled weight decay, per-nonzero momentum) on a copy of the layer.
              const [lr, mu, wd] = [0.05, 0.9, 5e-4];
              const r = rng(nnz + 17);
              const copy = { ...layer, vals: Float32Array.from(layer.vals), mom: Float32Array.from(layer.vals, () => r() - 0.5) };
              const w0 = Float64Array.from(copy.vals);
              const m0 = Float64Array.from(copy.mom);
              s.sparseConvWeightGradSgd(copy, geom, d.dy, d.x, bp, lr, mu, wd, true);
              const mRef = new Float32Array(nnz);
              const wRef = new Float32Array(nnz);
              for (let k = 0; k < nnz; k++) {
                const g = gradRef[k] + wd * w0[k];
                mRef[k] = mu * m0[k] + g;
                wRef[k] = w0[k] - lr * (g + mu * mRef[k]);
              }
              expectNear(copy.mom, mRef, 1e-4, 'fused SGD momentum');
              expectNear(copy.vals, wRef, 1e-4, 'fused SGD weights');

              const dW = new Float32Array(c.kh * c.kw * c.cin * c.cout).fill(Number.NaN);
              s.sparseConvDenseFilterGrad(layer, geom, d.dy, d.x, dW, bp, c.n);
              expectNear(dW, d.dwRef, 1e-4, 'dense filter gradient');
            } finally {
              restoreIsa();
              status.addon!.setThreads(2);
            }
          });
        }
      });
    }
  }

  it('rejects malformed layers and geometry with a RangeError instead of reading out of bounds', () => {
    const c = CASES[0];
    const d = data.get(c.label)!;
    const bp = paddedBatch(c.n);
    const y = new Float32Array(c.cout * d.oh * d.ow * bp);
    const s = conv!;
    expect(() => s.sparseConvForward({ ...d.layer, chan: Int32Array.from(d.layer.chan, () => 99) }, d.geom, d.x, y, bp)).toThrow(/chan\/tap out of range/);
    expect(() => s.sparseConvForward({ ...d.layer, tap: Int32Array.from(d.layer.tap, () => 9) }, d.geom, d.x, y, bp)).toThrow(/chan\/tap out of range/);
    expect(() => s.sparseConvForward(d.layer, d.geom, d.x, y, 15)).toThrow(/multiple of 16/);
    expect(() => s.sparseConvForward(d.layer, d.geom, d.x.subarray(1), y, bp)).toThrow(/X is too short/);
    expect(() => s.sparseConvForward(d.layer, Int32Array.from([9, 7, 9, 7, 1, 1, 5, 1]), d.x, y, bp)).toThrow(/padded input/);
    expect(() => s.sparseConvBackwardInput({ ...d.layer, perm: Int32Array.from(d.layer.perm, () => -1) }, d.geom, d.dy, null, d.x, bp)).toThrow(
      /ochan\/perm out of range/,
    );
  });
});
