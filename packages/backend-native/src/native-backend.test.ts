import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers'; // stock gradients (tfjs-core's Node entry registers none)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadAddonFrom, nativeAddonStatus, packageRoot } from './addon.js';
import type { NativeAddon, NativeIsa } from './addon.js';
import { registerNativeBackend } from './native-backend.js';
import { skipWithoutNativeAddon } from './native-test-skip.js';

import { CONV_CASES, expectClose, input, randomData, runOn } from './test-helpers.js';

// Every build found is tested: the default one and the own-kernel build (`npm run build:native:own`, no
// OpenBLAS). Within a build, every ISA variant this CPU supports runs the whole suite with the own kernels
// (issue 10: a machine with only AVX2, or none, gets exactly that code), plus OpenBLAS forced and the default
// per-shape timed choice when OpenBLAS loads. The variant is switched in each describe's beforeAll (the addon's
// state is per process; vitest runs one file's describes in order).
const builds: [string, NativeAddon][] = [];
const defaultStatus = nativeAddonStatus();
// Two threads whatever the load (nativeAddonStatus() may have chosen one on a busy machine): the tests must
// cover the parallel paths.
defaultStatus.addon?.setThreads(2);
if (defaultStatus.addon) builds.push([defaultStatus.addon.info().gemm, defaultStatus.addon]);
const ownPath = join(packageRoot(), 'build', 'own', 'sparse_native.node');
if (existsSync(ownPath)) {
  const own = loadAddonFrom(ownPath).addon;
  if (own && !builds.some(([name]) => name === own.info().gemm)) builds.push([own.info().gemm, own]);
}
// Without an addon the suites below are still registered, as skipped tests with the reason (npm test lists them).
const nativeSuite = skipWithoutNativeAddon(builds, defaultStatus.reason);

interface Variant {
  readonly label: string;
  readonly addon: NativeAddon;
  readonly isa?: NativeIsa;
  readonly policy?: 'measure' | 'own' | 'openblas';
}
const variants: Variant[] = [];
for (const [gemmName, addon] of builds) {
  const info = addon.info();
  if (!addon.setIsa || !addon.setGemmPolicy || !info.isas) {
    variants.push({ label: gemmName, addon });
    continue;
  }
  const best = info.isas[info.isas.length - 1];
  const ownOnly = !info.openblas?.available;
  for (const isa of info.isas) variants.push({ label: `own-${isa}${ownOnly ? ' (own build)' : ''}`, addon, isa, policy: 'own' });
  if (!ownOnly) {
    variants.push({ label: `openblas ${info.openblas?.corename ?? ''}`, addon, isa: best, policy: 'openblas' });
    variants.push({ label: `${best} measured per shape`, addon, isa: best, policy: 'measure' });
  }
}

function activate(v: Variant): void {
  if (v.isa) expect(v.addon.setIsa?.(v.isa)).toBe(true);
  if (v.policy) v.addon.setGemmPolicy?.(v.policy);
}
function restore(v: Variant): void {
  const isas = v.addon.info().isas;
  if (isas) v.addon.setIsa?.(isas[isas.length - 1]);
  v.addon.setGemmPolicy?.('measure');
}

function referenceGemm(ta: boolean, tb: boolean, m: number, n: number, k: number, a: Float32Array, b: Float32Array): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i += 1) {
    for (let j = 0; j < n; j += 1) {
      let s = 0;
      for (let p = 0; p < k; p += 1) s += (ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = s;
    }
  }
  return c;
}

for (const v of variants) {
  const { addon } = v;
  describe(`addon ${v.label}: gemm`, nativeSuite, () => {
    beforeAll(() => activate(v));
    afterAll(() => restore(v));
    const shapes: [number, number, number][] = [[1, 1, 1], [6, 16, 256], [7, 13, 5], [37, 45, 301], [130, 17, 3], [100, 300, 257]];
    for (const [m, n, k] of shapes) {
      it(`${m}x${n}x${k}, all transposes, alpha/beta`, () => {
        for (const ta of [false, true]) {
          for (const tb of [false, true]) {
            const a = randomData(m * k, m + k);
            const b = randomData(k * n, n + 1);
            const c0 = randomData(m * n, 3);
            const c = Float32Array.from(c0);
            addon.gemm(ta, tb, m, n, k, 0.5, a, b, 2, c);
            const ref = referenceGemm(ta, tb, m, n, k, a, b);
            let worst = 0;
            for (let i = 0; i < m * n; i += 1) {
              const e = 0.5 * ref[i] + 2 * c0[i];
              worst = Math.max(worst, Math.abs(c[i] - e) / (1 + Math.abs(e)));
            }
            expect(worst).toBeLessThan(1e-5);
          }
        }
      });
    }

    // The AVX-512 kernel's blocking edges (gemm_avx512.cc: K blocks of up to 384, column blocks of up to 512,
    // row blocks of up to 1536 per thread, 14 x 32 tiles, B packed jointly by the threads when M >= N and a
    // block holds >= 4 M FMAs per thread, else split without sharing): several K blocks with beta applied once
    // (shared: 400x64x800; unshared: 200x40x800), two column blocks through the double-buffered shared B
    // (700x530x30), more than one row block per thread (3100x20x40), few rows split by columns, one-column and
    // 16-column edges. beta = 0 with NaN in C: C must not be read (BLAS semantics), whatever the kernel.
    const edges: [number, number, number][] = [[400, 64, 800], [200, 40, 800], [700, 530, 30], [3100, 20, 40], [60, 600, 390], [29, 1, 769], [47, 16, 5]];
    for (const [m, n, k] of edges) {
      it(`${m}x${n}x${k} (blocking edges), all transposes, beta 0 over NaN and beta 1.5`, () => {
        for (const ta of [false, true]) {
          for (const tb of [false, true]) {
            const a = randomData(m * k, m + 2 * k);
            const b = randomData(k * n, n + 7);
            const ref = referenceGemm(ta, tb, m, n, k, a, b);
            const c = new Float32Array(m * n).fill(Number.NaN);
            addon.gemm(ta, tb, m, n, k, -0.75, a, b, 0, c);
            const c0 = randomData(m * n, 11);
            const d = Float32Array.from(c0);
            addon.gemm(ta, tb, m, n, k, 1, a, b, 1.5, d);
            let worst = 0;
            for (let i = 0; i < m * n; i += 1) {
              const e0 = -0.75 * ref[i];
              const e1 = ref[i] + 1.5 * c0[i];
              worst = Math.max(worst, Math.abs(c[i] - e0) / (1 + Math.abs(e0)), Math.abs(d[i] - e1) / (1 + Math.abs(e1)));
            }
            // NaN anywhere makes `worst` NaN, which fails the comparison.
            expect(worst).toBeLessThan(2e-5);
          }
        }
      });
    }

    it('biasActivation: hand-worked bias + relu / relu6 / linear, NaN kept by relu', () => {
      expect(typeof addon.biasActivation).toBe('function');
      const out = Float32Array.from([-1, 2, 3, -4, Number.NaN, 0.5]);
      addon.biasActivation?.(out, Float32Array.from([0.5, -1, 4]), 3, 1);
      expect(Array.from(out)).toEqual([0, 1, 7, 0, Number.NaN, 4.5]);
      const six = Float32Array.from([-1, 2, 7]);
      addon.biasActivation?.(six, null, 3, 2);
      expect(Array.from(six)).toEqual([0, 2, 6]);
      const lin = Float32Array.from([1, 2, 3, 4]);
      addon.biasActivation?.(lin, Float32Array.from([10]), 2, 0);
      expect(Array.from(lin)).toEqual([11, 12, 13, 14]);
      // Large enough to be split over threads: every row gets the same bias.
      const big = new Float32Array(50_000 * 4).fill(-1);
      addon.biasActivation?.(big, Float32Array.from([0, 1, 2, 3]), 4, 1);
      expect(big.filter((v, i) => v !== [0, 0, 1, 2][i % 4]).length).toBe(0);
      expect(() => addon.biasActivation?.(new Float32Array(5), null, 2, 1)).toThrow(/multiple of channels/);
    });

    it('narrow LeNet-conv1-like products match the reference', () => {
      for (const [ta, tb, m, n, k] of [[false, false, 577, 20, 25], [true, false, 25, 20, 577], [false, true, 577, 25, 20]] as const) {
        const a = randomData(m * k, 5);
        const b = randomData(k * n, 6);
        const c = new Float32Array(m * n);
        addon.gemm(ta, tb, m, n, k, 1, a, b, 0, c);
        const ref = referenceGemm(ta, tb, m, n, k, a, b);
        let worst = 0;
        for (let i = 0; i < m * n; i += 1) worst = Math.max(worst, Math.abs(c[i] - ref[i]) / (1 + Math.abs(ref[i])));
        expect(worst).toBeLessThan(1e-5);
      }
    });

    // Each thread takes a contiguous range of images with its own column buffer and one-thread GEMMs; the
    // filter gradient adds per-thread partials. 40x40x8 with 5x5 windows needs one image per chunk, so a thread
    // runs several chunks; batch 2 on 3 threads leaves a thread without images.
    // Chunkings: the default, then (addon version >= 6) one output row per chunk and chunks of 3 rows of an
    // image (a column cap below one image: the partial-image path of WRN's 32x32x128 layers, where col2im adds
    // a chunk's window rows into rows the next chunk of the same image adds to as well).
    it('conv passes split by image over 1, 2 and 3 threads, and by output rows, match a direct reference', () => {
      const [h, ci, co, k, pad] = [40, 8, 4, 5, 2];
      for (const n of [5, 2]) {
        const params = Int32Array.from([n, h, h, ci, k, k, co, h, h, 1, 1, 1, 1, pad, pad]);
        const x = randomData(n * h * h * ci, 7 + n);
        const f = randomData(k * k * ci * co, 8);
        const dy = randomData(n * h * h * co, 9);
        const y = new Float64Array(n * h * h * co);
        const dx = new Float64Array(n * h * h * ci);
        const df = new Float64Array(k * k * ci * co);
        for (let b = 0; b < n; b += 1) {
          for (let oy = 0; oy < h; oy += 1) {
            for (let ox = 0; ox < h; ox += 1) {
              for (let ky = 0; ky < k; ky += 1) {
                for (let kx = 0; kx < k; kx += 1) {
                  const iy = oy + ky - pad;
                  const ix = ox + kx - pad;
                  if (iy < 0 || iy >= h || ix < 0 || ix >= h) continue;
                  for (let c = 0; c < ci; c += 1) {
                    const xi = ((b * h + iy) * h + ix) * ci + c;
                    for (let o = 0; o < co; o += 1) {
                      const fi = ((ky * k + kx) * ci + c) * co + o;
                      const yi = ((b * h + oy) * h + ox) * co + o;
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
        const worst = (got: Float32Array, ref: Float64Array): number =>
          got.reduce((w, g, i) => Math.max(w, Math.abs(g - ref[i]) / (1 + Math.abs(ref[i]))), 0);
        const chunkings: [number, number][] = addon.setConvChunking ? [[0, 0], [1, 1], [120, 2000]] : [[0, 0]];
        try {
          for (const [threads, [minRows, maxCols]] of [1, 2, 3].flatMap((t) => chunkings.map((c) => [t, c] as const))) {
            addon.setThreads(threads);
            addon.setConvChunking?.(minRows, maxCols);
            const gy = new Float32Array(y.length).fill(Number.NaN);
            const gdx = new Float32Array(dx.length).fill(Number.NaN);
            const gdf = new Float32Array(df.length).fill(Number.NaN);
            addon.conv2d(x, f, gy, params);
            addon.conv2dBackpropInput(dy, f, gdx, params);
            addon.conv2dBackpropFilter(x, dy, gdf, params);
            expect(worst(gy, y)).toBeLessThan(1e-5);
            expect(worst(gdx, dx)).toBeLessThan(1e-5);
            expect(worst(gdf, df)).toBeLessThan(1e-4);
          }
        } finally {
          addon.setThreads(2);
          addon.setConvChunking?.(0, 0);
        }
      }
    });

    it('rejects short operands instead of reading out of bounds', () => {
      expect(() => addon.gemm(false, false, 4, 4, 4, 1, new Float32Array(15), new Float32Array(16), 0, new Float32Array(16))).toThrow(/too short/);
    });
  });
}

for (const [vi, v] of variants.entries()) {
  const { addon } = v;
  // Both bases for the first variant of each build; the wasm base (the one `native` uses) for the others.
  const bases = vi === 0 || v.addon !== variants[vi - 1].addon ? (['wasm', 'cpu'] as const) : (['wasm'] as const);
  for (const base of bases) {
    const name = `native-test-${v.label}-${base}`;
    describe(`backend ${name} matches the stock cpu kernels and gradients`, nativeSuite, () => {
      beforeAll(() => {
        activate(v);
        expect(registerNativeBackend({ name, base, addon })).toBe(true);
      });
      afterAll(() => restore(v));

      for (const [ta, tb] of [[false, false], [false, true], [true, false], [true, true]] as const) {
        it(`matMul 37x29x11 transposeA=${ta} transposeB=${tb} with gradients`, async () => {
          const [m, k, n] = [37, 29, 11];
          const a = input(ta ? [k, m] : [m, k], 1);
          const b = input(tb ? [n, k] : [k, n], 2);
          const fn = (x: tf.Tensor, y: tf.Tensor) => {
            const f = (p: tf.Tensor, q: tf.Tensor) => tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D, ta, tb);
            return [f(x, y), ...tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(f(p, q))))([x, y])];
          };
          expectClose(await runOn(name, [a, b], fn), await runOn('cpu', [a, b], fn));
        });
      }

      it('batched matMul with broadcasting of a batch-1 operand', async () => {
        const a = input([3, 5, 7], 1);
        const b = input([1, 7, 4], 2);
        const c = input([7, 4], 3);
        const fn = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) => [
          tf.matMul(x as tf.Tensor3D, y as tf.Tensor3D),
          tf.matMul(x as tf.Tensor3D, z as tf.Tensor2D),
          tf.matMul(x as tf.Tensor3D, x as tf.Tensor3D, true, false),
        ];
        expectClose(await runOn(name, [a, b, c], fn), await runOn('cpu', [a, b, c], fn));
      });

      it('fused matMul: bias + relu / relu6 / linear, and prelu through the fallback', async () => {
        const a = input([9, 13], 1);
        const b = input([13, 6], 2);
        const bias = input([6], 3);
        const alpha = input([6], 4);
        const fn = (x: tf.Tensor, y: tf.Tensor, z: tf.Tensor, p: tf.Tensor) => [
          tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, bias: z, activation: 'relu' }),
          tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, bias: z, activation: 'relu6' }),
          tf.fused.matMul({ a: y as tf.Tensor2D, b: x as tf.Tensor2D, transposeA: true, transposeB: true }),
          tf.fused.matMul({ a: x as tf.Tensor2D, b: y as tf.Tensor2D, bias: z, activation: 'prelu', preluActivationWeights: p }),
        ];
        expectClose(await runOn(name, [a, b, bias, alpha], fn), await runOn('cpu', [a, b, bias, alpha], fn));
      });

      for (const c of CONV_CASES) {
        it(`conv2d ${c.name}: forward, input and filter gradients`, async () => {
          const x = input(c.x, 3);
          const f = input(c.f, 4);
          const fn = (xt: tf.Tensor, ft: tf.Tensor) => {
            const conv = (p: tf.Tensor, q: tf.Tensor) => tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, c.stride, c.pad);
            return [conv(xt, ft), ...tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(conv(p, q))))([xt, ft])];
          };
          expectClose(await runOn(name, [x, f], fn), await runOn('cpu', [x, f], fn));
        });
      }

      it('fused conv2d with bias + relu, and its gradients (customGrad path)', async () => {
        const x = input([2, 9, 8, 3], 1);
        const f = input([3, 3, 3, 5], 2);
        const bias = input([5], 3);
        const fn = (xt: tf.Tensor, ft: tf.Tensor, bt: tf.Tensor) => {
          const conv = (p: tf.Tensor, q: tf.Tensor, activation: 'relu' | 'linear') =>
            tf.fused.conv2d({ x: p as tf.Tensor4D, filter: q as tf.Tensor4D, strides: 2, pad: [[0, 0], [1, 1], [1, 1], [0, 0]], bias: bt, activation });
          return [conv(xt, ft, 'relu'), ...tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.square(conv(p, q, 'linear'))))([xt, ft])];
        };
        expectClose(await runOn(name, [x, f, bias], fn), await runOn('cpu', [x, f, bias], fn));
      });

      it('maxPool forward and gradient, with ties after relu and odd sizes', async () => {
        const x = input([2, 7, 9, 5], 8);
        const fn = (xt: tf.Tensor) => {
          const pool = (p: tf.Tensor) => [
            tf.maxPool(tf.relu(p) as tf.Tensor4D, 2, 2, 'valid'),
            tf.maxPool(p as tf.Tensor4D, 3, 2, 'same'),
            tf.maxPool(p as tf.Tensor4D, 3, 1, 'valid'),
          ];
          const g = tf.grads((p: tf.Tensor) => tf.addN(pool(p).map((t, i) => tf.sum(tf.mul(t, i + 1)))))([xt]);
          return [...pool(xt), ...g];
        };
        expectClose(await runOn(name, [x], fn), await runOn('cpu', [x], fn));
      });

      it('mean over leading axes (batch-norm moments) natively, other axes through the stock kernel', async () => {
        const x = input([3, 5, 4, 7], 9);
        const fn = (xt: tf.Tensor) => {
          const m = tf.moments(xt, [0, 1, 2], true);
          return [tf.mean(xt, [0, 1, 2]), tf.mean(xt, 0), tf.mean(xt, [0, 1, 2, 3]), tf.mean(xt, [1, 2]), m.mean, m.variance];
        };
        expectClose(await runOn(name, [x], fn), await runOn('cpu', [x], fn));
        await tf.setBackend(name);
        const h = tf.tensor2d([[1, 2], [3, 5]]);
        const mean = tf.mean(h, 0);
        expect(Array.from(mean.dataSync())).toEqual([2, 3.5]);
        tf.dispose([h, mean]);
      });

      it('tile (batch-norm gradient shapes, odd repetitions, every axis) matches the stock kernel', async () => {
        const row = input([1, 1, 1, 5], 4);
        const block = input([2, 3, 1, 2], 5);
        const vec = input([3], 6);
        const fn = (r: tf.Tensor, b: tf.Tensor, v: tf.Tensor) => [
          tf.tile(r, [2, 3, 4, 1]),
          tf.tile(b, [3, 1, 5, 2]),
          tf.tile(b, [1, 1, 1, 1]),
          tf.tile(v, [7]),
          tf.tile(tf.reshape(v, [3, 1]), [2, 3]),
        ];
        expectClose(await runOn(name, [row, block, vec], fn), await runOn('cpu', [row, block, vec], fn), 0);
        await tf.setBackend(name);
        const h = tf.tensor2d([[1, 2], [3, 4]]);
        const t = tf.tile(h, [2, 3]);
        expect(Array.from(t.dataSync())).toEqual([1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4, 1, 2, 1, 2, 1, 2, 3, 4, 3, 4, 3, 4]);
        tf.dispose([h, t]);
      });

      it('hand-worked max-pool gradient routes to the first maximum', async () => {
        await tf.setBackend(name);
        const x = tf.tensor4d([1, 3, 3, 2], [1, 2, 2, 1]);
        const [g] = tf.grads((p: tf.Tensor) => tf.sum(tf.maxPool(p as tf.Tensor4D, 2, 2, 'valid')))([x]);
        expect(Array.from(g.dataSync())).toEqual([0, 1, 0, 0]);
        tf.dispose([x, g]);
      });

      it('trains a small CNN step identically to cpu (loss and updated weights)', async () => {
        const x = input([4, 12, 12, 1], 1);
        const f = input([5, 5, 1, 6], 2);
        const w = input([96, 10], 3);
        const fn = (xt: tf.Tensor, ft: tf.Tensor, wt: tf.Tensor) => {
          const loss = (p: tf.Tensor, q: tf.Tensor) => {
            const h = tf.maxPool(tf.relu(tf.conv2d(xt as tf.Tensor4D, p as tf.Tensor4D, 1, 'valid')), 2, 2, 'valid');
            return tf.mean(tf.square(tf.matMul(tf.reshape(h, [4, 96]), q as tf.Tensor2D)));
          };
          const [gf, gw] = tf.grads(loss)([ft, wt]);
          return [loss(ft, wt), tf.sub(ft, tf.mul(gf, 0.1)), tf.sub(wt, tf.mul(gw, 0.1))];
        };
        expectClose(await runOn(name, [x, f, w], fn), await runOn('cpu', [x, f, w], fn));
      });
    });
  }
}
