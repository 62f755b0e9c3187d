/**
 * The LeNet-5 kernels of lenet5-step (issue 10): direct one-input-channel convolutions (native/conv_small.cc),
 * the AVX-512 2×2/2 max-pool pair (native/pool_small.cc) — each against a double-precision reference or the
 * generic kernel it replaces, on odd shapes and batch 1, every ISA variant the CPU has, 1, 2 and 3 threads.
 * The direct forward pass and filter gradient must not depend on the thread count (fixed per-row work and
 * fixed image chunks); the pooling pair must equal conv.cc's generic kernels bit for bit.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { nativeAddonStatus } from './addon.js';
import { nativeSkipOptions } from './native-test-skip.js';
import { randomData } from './test-helpers.js';

const status = nativeAddonStatus();
const addon = status.addon;
const suite = nativeSkipOptions(addon ? null : status.reason);
const isas = addon?.info().isas ?? ['generic'];
const active = addon?.info().isa;

afterEach(() => {
  delete process.env.SL_CONV_SMALL;
  delete process.env.SL_POOL_DIRECT;
  addon?.setThreads(2);
  if (active) addon?.setIsa?.(active);
});

interface ConvShape {
  name: string;
  n: number;
  h: number;
  w: number;
  co: number;
  kh: number;
  kw: number;
}

// LeNet-5-Caffe's conv1; batch 1 with a 3×5 window; 7×7 with 37 channels (blocks 16 + 16 + 4 + 1); 3×3 with
// one output channel and a batch of 5 (a last image chunk of one image).
const CONV: ConvShape[] = [
  { name: "LeNet-5 conv1 (28×28, 1→20, 5×5), batch 3", n: 3, h: 28, w: 28, co: 20, kh: 5, kw: 5 },
  { name: 'batch 1, 3×5 window on 9×7, 7 channels', n: 1, h: 9, w: 7, co: 7, kh: 3, kw: 5 },
  { name: '7×7 on 10×11, 37 channels, batch 2', n: 2, h: 10, w: 11, co: 37, kh: 7, kw: 7 },
  { name: '3×3 on 6×5, 1 channel, batch 5', n: 5, h: 6, w: 5, co: 1, kh: 3, kw: 3 },
];

/** 'valid' stride-1 convolution of one input channel and its filter gradient in double precision. */
function convReference(s: ConvShape, x: Float32Array, f: Float32Array, dy: Float32Array) {
  const [oh, ow] = [s.h - s.kh + 1, s.w - s.kw + 1];
  const y = new Float64Array(s.n * oh * ow * s.co);
  const df = new Float64Array(f.length);
  for (let b = 0; b < s.n; b += 1)
    for (let oy = 0; oy < oh; oy += 1)
      for (let ox = 0; ox < ow; ox += 1)
        for (let ky = 0; ky < s.kh; ky += 1)
          for (let kx = 0; kx < s.kw; kx += 1) {
            const xv = x[(b * s.h + oy + ky) * s.w + ox + kx];
            for (let o = 0; o < s.co; o += 1) {
              const fi = (ky * s.kw + kx) * s.co + o;
              const yi = ((b * oh + oy) * ow + ox) * s.co + o;
              y[yi] += xv * f[fi];
              df[fi] += xv * dy[yi];
            }
          }
  return { y, df };
}

const worst = (got: Float32Array, ref: Float64Array): number =>
  got.reduce((m, g, i) => Math.max(m, Math.abs(g - ref[i]) / (1 + Math.abs(ref[i]))), 0);

describe('direct one-input-channel convolutions (conv_small.cc)', suite, () => {
  for (const s of CONV) {
    it(`${s.name}: every ISA, 1/2/3 threads, matches the double reference and the im2col path; identical across thread counts`, () => {
      const [oh, ow] = [s.h - s.kh + 1, s.w - s.kw + 1];
      const x = randomData(s.n * s.h * s.w, 41);
      const f = randomData(s.kh * s.kw * s.co, 42);
      const dy = randomData(s.n * oh * ow * s.co, 43);
      const { y, df } = convReference(s, x, f, dy);
      const params = Int32Array.from([s.n, s.h, s.w, 1, s.kh, s.kw, s.co, oh, ow, 1, 1, 1, 1, 0, 0]);
      let runs = 0;
      for (const isa of isas) {
        expect(addon!.setIsa?.(isa) ?? isa === active).toBe(true);
        let first: { gy: Float32Array; gdf: Float32Array } | null = null;
        for (const threads of [1, 2, 3]) {
          addon!.setThreads(threads);
          const gy = new Float32Array(y.length).fill(Number.NaN);
          const gdf = new Float32Array(df.length).fill(Number.NaN);
          addon!.conv2d(x, f, gy, params);
          addon!.conv2dBackpropFilter(x, dy, gdf, params);
          expect(worst(gy, y)).toBeLessThan(1e-5);
          expect(worst(gdf, df)).toBeLessThan(1e-5);
          if (first) {
            expect(gy).toEqual(first.gy);
            expect(gdf).toEqual(first.gdf);
          } else first = { gy, gdf };
          runs += 1;
        }
        // The im2col + GEMM path (SL_CONV_SMALL=0) within float32 rounding of the direct one.
        process.env.SL_CONV_SMALL = '0';
        const iy = new Float32Array(y.length);
        const idf = new Float32Array(df.length);
        addon!.conv2d(x, f, iy, params);
        addon!.conv2dBackpropFilter(x, dy, idf, params);
        delete process.env.SL_CONV_SMALL;
        expect(worst(iy, Float64Array.from(first!.gy))).toBeLessThan(1e-5);
        expect(worst(idf, Float64Array.from(first!.gdf))).toBeLessThan(1e-5);
      }
      expect(runs).toBe(isas.length * 3);
    });
  }

  it('conv2d with a bias: added inside the direct kernel (returns true) with the rounding of a separate pass; other shapes leave it to the caller', () => {
    const s = CONV[0];
    const [oh, ow] = [s.h - s.kh + 1, s.w - s.kw + 1];
    const x = randomData(s.n * s.h * s.w, 44);
    const f = randomData(s.kh * s.kw * s.co, 45);
    const bias = randomData(s.co, 46);
    const params = Int32Array.from([s.n, s.h, s.w, 1, s.kh, s.kw, s.co, oh, ow, 1, 1, 1, 1, 0, 0]);
    for (const threads of [1, 2]) {
      addon!.setThreads(threads);
      const plain = new Float32Array(s.n * oh * ow * s.co);
      expect(addon!.conv2d(x, f, plain, params)).toBe(false);
      const biased = new Float32Array(plain.length);
      expect(addon!.conv2d(x, f, biased, params, bias)).toBe(true);
      expect(biased).toEqual(plain.map((v, i) => Math.fround(v + bias[i % s.co])));
    }
    // Two input channels: the im2col path, which leaves the bias to the caller.
    const p2 = Int32Array.from([1, 6, 6, 2, 3, 3, 4, 4, 4, 1, 1, 1, 1, 0, 0]);
    const y2 = new Float32Array(64);
    expect(addon!.conv2d(randomData(72, 47), randomData(72, 48), y2, p2, randomData(4, 49))).toBe(false);
  });

  it('a hand-worked case: 3×3 input of 1..9, 2×2 filter [1, 0; 0, -1] (one channel), dy = 1', () => {
    addon!.setThreads(2);
    const x = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // 2×2 is not a direct width (3, 5, 7): use the 3×3 window with zeros outside the 2×2 corner instead.
    const f = Float32Array.from([1, 0, 0, 0, -1, 0, 0, 0, 0]);
    const y = new Float32Array(1);
    addon!.conv2d(x, f, y, Int32Array.from([1, 3, 3, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0]));
    expect(Array.from(y)).toEqual([1 - 5]);
    const df = new Float32Array(9);
    addon!.conv2dBackpropFilter(x, Float32Array.from([1]), df, Int32Array.from([1, 3, 3, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0]));
    expect(Array.from(df)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});

describe('2×2 / 2 max pooling and its gradient (pool_small.cc)', suite, () => {
  // LeNet-5's two pools, batch 1 with 17 channels (a masked 1-channel tail), one channel, odd-width maps.
  const POOL: [number, number, number, number][] = [
    [3, 24, 24, 20],
    [2, 8, 8, 50],
    [1, 6, 10, 17],
    [2, 4, 6, 1],
  ];
  for (const [n, h, w, c] of POOL) {
    it(`${n}×${h}×${w}×${c}, ReLU'd data with ties, NaN and -inf: every ISA, 1/2/3 threads, equals the generic kernels bit for bit`, () => {
      const x = randomData(n * h * w * c, 51).map((v, i) => (i % 97 === 5 ? Number.NaN : i % 89 === 7 ? -Infinity : Math.max(0, v)));
      // A window whose elements are all -inf (no gradient) and one with a NaN first.
      x.fill(-Infinity, 0, 1);
      x[c] = -Infinity;
      x[w * c] = -Infinity;
      x[w * c + c] = -Infinity;
      const [oh, ow] = [h / 2, w / 2];
      const dy = randomData(n * oh * ow * c, 52);
      const params = Int32Array.from([n, h, w, c, 2, 2, oh, ow, 2, 2, 0, 0]);
      const run = () => {
        const y = new Float32Array(n * oh * ow * c).fill(Number.NaN);
        const dx = new Float32Array(x.length).fill(Number.NaN);
        addon!.maxPool(x, y, params);
        addon!.maxPoolGrad(x, dy, dx, params);
        return { y, dx };
      };
      for (const isa of isas) {
        expect(addon!.setIsa?.(isa) ?? isa === active).toBe(true);
        process.env.SL_POOL_DIRECT = '0';
        const generic = run();
        delete process.env.SL_POOL_DIRECT;
        for (const threads of [1, 2, 3]) {
          addon!.setThreads(threads);
          const got = run();
          expect(got.y).toEqual(generic.y);
          expect(got.dx).toEqual(generic.dx);
        }
      }
      // The all -inf window (channel 0 of the first output) routes nothing; its output is -inf.
      const { y, dx } = run();
      expect(y[0]).toBe(-Infinity);
      expect([dx[0], dx[c], dx[w * c], dx[w * c + c]]).toEqual([0, 0, 0, 0]);
    });
  }

  it('a hand-worked window [1, 3; 3, 2]: the maximum is 3, the gradient goes to its first occurrence only', () => {
    addon!.setThreads(1);
    const x = Float32Array.from([1, 3, 3, 2]);
    const y = new Float32Array(1);
    const dx = new Float32Array(4).fill(Number.NaN);
    const params = Int32Array.from([1, 2, 2, 1, 2, 2, 1, 1, 2, 2, 0, 0]);
    addon!.maxPool(x, y, params);
    addon!.maxPoolGrad(x, Float32Array.from([0.5]), dx, params);
    expect(Array.from(y)).toEqual([3]);
    expect(Array.from(dx)).toEqual([0, 0.5, 0, 0]);
  });
});
