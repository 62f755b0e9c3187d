/**
 * The addon's convolution passes with chunks claimed dynamically by the pool's threads (issue 10, wrn-conv;
 * native/conv.cc `ForTasks`): forward, input and filter gradients against a double-precision reference on odd
 * shapes (stride 2, 1×1 pointwise and strided, 'valid' and 'same'-style padding, batch 1, several chunks per
 * thread and the partial-image row pieces), every ISA variant the CPU has, 1, 2 and 3 threads. Forward and
 * input gradient must not depend on the thread count at all (each chunk is one one-thread GEMM, whoever runs
 * it); the filter gradient's fixed slices must make it independent of timing (repeated calls bit-identical).
 */
import { describe, expect, it } from 'vitest';

import { nativeAddonStatus } from './addon.js';
import { nativeSkipOptions } from './native-test-skip.js';
import { randomData } from './test-helpers.js';

const status = nativeAddonStatus();
const addon = status.addon;
const suite = nativeSkipOptions(addon?.setConvChunking ? null : addon ? 'addon without setConvChunking (version < 6)' : status.reason);

interface Shape {
  name: string;
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number;
  s: number;
  pad: number;
}

const SHAPES: Shape[] = [
  { name: '3x3 stride 2, pad 1 (WRN downsampling), odd 9x7', n: 3, h: 9, w: 7, ci: 5, co: 6, k: 3, s: 2, pad: 1 },
  { name: '1x1 stride 1 (pointwise GEMM)', n: 2, h: 5, w: 6, ci: 7, co: 3, k: 1, s: 1, pad: 0 },
  { name: '1x1 stride 2 (WRN shortcut), odd 7x5', n: 3, h: 7, w: 5, ci: 6, co: 5, k: 1, s: 2, pad: 0 },
  { name: "3x3 'valid' (no padding), batch 1", n: 1, h: 8, w: 6, ci: 4, co: 5, k: 3, s: 1, pad: 0 },
  { name: "3x3 'same' (pad 1), batch 5", n: 5, h: 6, w: 6, ci: 3, co: 4, k: 3, s: 1, pad: 1 },
];

function outSize(size: number, k: number, s: number, pad: number): number {
  return Math.floor((size + 2 * pad - k) / s) + 1;
}

/** Direct convolution and both gradients in double precision (NHWC, HWIO). */
function reference(sh: Shape, x: Float32Array, f: Float32Array, dy: Float32Array) {
  const [oh, ow] = [outSize(sh.h, sh.k, sh.s, sh.pad), outSize(sh.w, sh.k, sh.s, sh.pad)];
  const y = new Float64Array(sh.n * oh * ow * sh.co);
  const dx = new Float64Array(x.length);
  const df = new Float64Array(f.length);
  for (let b = 0; b < sh.n; b += 1) {
    for (let oy = 0; oy < oh; oy += 1) {
      for (let ox = 0; ox < ow; ox += 1) {
        for (let ky = 0; ky < sh.k; ky += 1) {
          for (let kx = 0; kx < sh.k; kx += 1) {
            const iy = oy * sh.s + ky - sh.pad;
            const ix = ox * sh.s + kx - sh.pad;
            if (iy < 0 || iy >= sh.h || ix < 0 || ix >= sh.w) continue;
            for (let c = 0; c < sh.ci; c += 1) {
              const xi = ((b * sh.h + iy) * sh.w + ix) * sh.ci + c;
              for (let o = 0; o < sh.co; o += 1) {
                const fi = ((ky * sh.k + kx) * sh.ci + c) * sh.co + o;
                const yi = ((b * oh + oy) * ow + ox) * sh.co + o;
                y[yi] += x[xi] * f[fi];
                dx[xi] += dy[yi] * f[fi];
                df[fi] += x[xi] * dy[yi];
              }
            }
          }
        }
      }
    }
  }
  return { y, dx, df };
}

const worst = (got: Float32Array, ref: Float64Array): number =>
  got.reduce((m, g, i) => Math.max(m, Math.abs(g - ref[i]) / (1 + Math.abs(ref[i]))), 0);

describe('native convolution passes, chunks claimed dynamically by the pool (conv.cc ForTasks)', suite, () => {
  const isas = addon?.info().isas ?? ['generic'];
  const active = addon?.info().isa;
  // Chunkings: the default, one output row per piece (every image split into row pieces, many tasks), and
  // pieces of 2 rows with a 40-float column cap.
  const chunkings: [number, number][] = [[0, 0], [1, 1], [2, 40]];

  for (const sh of SHAPES) {
    it(`${sh.name}: every ISA, 1/2/3 threads, matches the double reference; forward and input gradient identical across thread counts`, () => {
      const x = randomData(sh.n * sh.h * sh.w * sh.ci, 31);
      const f = randomData(sh.k * sh.k * sh.ci * sh.co, 32);
      const [oh, ow] = [outSize(sh.h, sh.k, sh.s, sh.pad), outSize(sh.w, sh.k, sh.s, sh.pad)];
      const dy = randomData(sh.n * oh * ow * sh.co, 33);
      const { y, dx, df } = reference(sh, x, f, dy);
      const params = Int32Array.from([sh.n, sh.h, sh.w, sh.ci, sh.k, sh.k, sh.co, oh, ow, sh.s, sh.s, 1, 1, sh.pad, sh.pad]);
      let runs = 0;
      // One GEMM implementation for every thread count: under the default `measure` policy the per-shape
      // choice is recorded per thread count (gemm-choices.txt beside the addon), and OpenBLAS on one count
      // against the own kernel on another would round differently — not what this test is about.
      addon!.setGemmPolicy?.('own');
      try {
        for (const isa of isas) {
          expect(addon!.setIsa?.(isa) ?? isa === active).toBe(true);
          for (const [minRows, maxCols] of chunkings) {
            addon!.setConvChunking!(minRows, maxCols);
            let first: { gy: Float32Array; gdx: Float32Array } | null = null;
            for (const threads of [1, 2, 3]) {
              addon!.setThreads(threads);
              const gy = new Float32Array(y.length).fill(Number.NaN);
              const gdx = new Float32Array(dx.length).fill(Number.NaN);
              const gdf = new Float32Array(df.length).fill(Number.NaN);
              const gdf2 = new Float32Array(df.length).fill(Number.NaN);
              addon!.conv2d(x, f, gy, params);
              addon!.conv2dBackpropInput(dy, f, gdx, params);
              addon!.conv2dBackpropFilter(x, dy, gdf, params);
              addon!.conv2dBackpropFilter(x, dy, gdf2, params);
              expect(worst(gy, y)).toBeLessThan(1e-5);
              expect(worst(gdx, dx)).toBeLessThan(1e-5);
              expect(worst(gdf, df)).toBeLessThan(1e-5);
              // Fixed slices summed in a fixed order: the same bits on every call.
              expect(gdf2).toEqual(gdf);
              if (first) {
                expect(gy).toEqual(first.gy);
                expect(gdx).toEqual(first.gdx);
              } else first = { gy, gdx };
              runs += 1;
            }
          }
        }
      } finally {
        addon!.setGemmPolicy?.('measure');
        addon!.setThreads(2);
        addon!.setConvChunking!(0, 0);
        if (active) addon!.setIsa?.(active);
      }
      expect(runs).toBe(isas.length * chunkings.length * 3);
    });
  }

  it('a filter gradient over many tasks (batch 17, one row per piece) sums every image once on 2 threads', () => {
    // 17 images x 4 row pieces = 68 tasks over 4 slices: each slice's range must cover its tasks exactly once.
    const sh: Shape = { name: 'many tasks', n: 17, h: 4, w: 3, ci: 2, co: 3, k: 3, s: 1, pad: 1 };
    const x = new Float32Array(sh.n * sh.h * sh.w * sh.ci).fill(1);
    const dy = new Float32Array(sh.n * sh.h * sh.w * sh.co).fill(1);
    const f = new Float32Array(sh.k * sh.k * sh.ci * sh.co);
    const df = new Float32Array(f.length).fill(Number.NaN);
    const params = Int32Array.from([sh.n, sh.h, sh.w, sh.ci, sh.k, sh.k, sh.co, sh.h, sh.w, 1, 1, 1, 1, 1, 1]);
    try {
      addon!.setThreads(2);
      addon!.setConvChunking!(1, 1);
      addon!.conv2dBackpropFilter(x, dy, df, params);
    } finally {
      addon!.setConvChunking!(0, 0);
    }
    // With all-ones data, df[ky,kx,c,o] counts the output pixels whose window tap (ky,kx) is inside the
    // image: rows 3 of 4 for ky = 0 or 2 (4 for ky = 1), columns 2 of 3 for kx = 0 or 2 (3 for kx = 1),
    // times 17 images. Hand-worked: the centre tap 4*3*17 = 204, a corner tap 3*2*17 = 102.
    const at = (ky: number, kx: number) => df[((ky * 3 + kx) * sh.ci + 0) * sh.co + 0];
    expect(at(1, 1)).toBe(204);
    expect(at(0, 0)).toBe(102);
    expect(at(2, 1)).toBe(3 * 3 * 17);
    expect(at(1, 2)).toBe(4 * 2 * 17);
  });
});
