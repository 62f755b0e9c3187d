/**
 * The direct (im2col-free) AVX-512 forward convolution (issue 10, wrn-parity; native/conv_direct_avx512.cc):
 * forced onto odd shapes — masked last channel block, tiles of every width, stride 2, 1×1, 5×5, one-sided and
 * no padding, batch 1 split into row bands, 1 input / 1 output channel — against a double-precision reference
 * on every ISA variant (non-AVX-512 variants fall back to im2col + GEMM) and 1, 2 and 3 threads, bit-identical
 * across thread counts, with the stride-1 input gradient it computes on the flipped filter; the auto rule picks it exactly where documented; a conv layer's forward and gradients
 * on the native backend with it equal the cpu backend's within float32 rounding, without tensor leaks.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers'; // stock gradients (tfjs-core's Node entry registers none)
import { beforeAll, describe, expect, it } from 'vitest';

import { nativeAddonStatus } from './addon.js';
import { registerNativeBackend } from './native-backend.js';
import { nativeSkipOptions } from './native-test-skip.js';
import { expectClose, input, randomData, runOn } from './test-helpers.js';

const status = nativeAddonStatus();
const addon = status.addon;
const suite = nativeSkipOptions(addon?.setDirectConv ? null : addon ? 'addon without setDirectConv (built before wrn-parity)' : status.reason);

interface Shape {
  name: string;
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  kh: number;
  kw: number;
  s: number;
  pt: number;
  pl: number;
  oh: number;
  ow: number;
}

/** A shape with symmetric padding `pad` (or top/left `pt`/`pl` and the output size they give with no bottom/right pad). */
function shape(name: string, n: number, h: number, w: number, ci: number, co: number, k: number, s: number, pad: number): Shape {
  const out = (size: number) => Math.floor((size + 2 * pad - k) / s) + 1;
  return { name, n, h, w, ci, co, kh: k, kw: k, s, pt: pad, pl: pad, oh: out(h), ow: out(w) };
}

const SHAPES: Shape[] = [
  // 37 output channels: one full 32-channel block and a masked 5-wide one; 13-pixel rows: one 13-wide tile.
  shape('3x3 pad 1, 19 -> 37 channels, 11x13, batch 3', 3, 11, 13, 19, 37, 3, 1, 1),
  // 29-pixel rows: tiles 10, 10, 9; 30: 10, 10, 10; 15: 8, 7.
  shape('3x3 pad 1, 29-pixel rows (tiles 10, 10, 9), 16 -> 32', 2, 3, 29, 16, 32, 3, 1, 1),
  shape('3x3 pad 1, 15-pixel rows (tiles 8, 7), 17 -> 33, batch 1 (row bands)', 1, 9, 15, 17, 33, 3, 1, 1),
  shape('3x3 stride 2 pad 1, odd 9x7, 5 -> 6', 3, 9, 7, 5, 6, 3, 2, 1),
  shape('1x1 stride 2, odd 7x5, 6 -> 5', 3, 7, 5, 6, 5, 1, 2, 0),
  shape('1x1 stride 1 (pointwise), 7 -> 3', 2, 5, 6, 7, 3, 1, 1, 0),
  shape("5x5 'valid', 1 input channel (LeNet conv1-like), batch 1", 1, 12, 12, 1, 20, 5, 1, 0),
  shape('3x3 pad 1, 1 output channel, 31-pixel rows', 2, 4, 31, 3, 1, 3, 1, 1),
  { name: '3x3, top/left pad only (1, 0), 8x9', n: 2, h: 8, w: 9, ci: 4, co: 7, kh: 3, kw: 3, s: 1, pt: 1, pl: 0, oh: 7, ow: 7 },
  { name: '2x3 window, stride 2, pad (0, 1)', n: 2, h: 9, w: 10, ci: 3, co: 4, kh: 2, kw: 3, s: 2, pt: 0, pl: 1, oh: 4, ow: 5 },
];

/** The forward convolution (y) and its input gradient for dy (dx) in double precision (NHWC, HWIO). */
function reference(sh: Shape, x: Float32Array, f: Float32Array, dy?: Float32Array): Float64Array & { dx?: Float64Array } {
  const y: Float64Array & { dx?: Float64Array } = new Float64Array(sh.n * sh.oh * sh.ow * sh.co);
  const dx = new Float64Array(x.length);
  if (dy) y.dx = dx;
  for (let b = 0; b < sh.n; b += 1) {
    for (let oy = 0; oy < sh.oh; oy += 1) {
      for (let ox = 0; ox < sh.ow; ox += 1) {
        for (let ky = 0; ky < sh.kh; ky += 1) {
          for (let kx = 0; kx < sh.kw; kx += 1) {
            const iy = oy * sh.s + ky - sh.pt;
            const ix = ox * sh.s + kx - sh.pl;
            if (iy < 0 || iy >= sh.h || ix < 0 || ix >= sh.w) continue;
            for (let c = 0; c < sh.ci; c += 1) {
              const xi = ((b * sh.h + iy) * sh.w + ix) * sh.ci + c;
              for (let o = 0; o < sh.co; o += 1) {
                const yi = ((b * sh.oh + oy) * sh.ow + ox) * sh.co + o;
                const fv = f[((ky * sh.kw + kx) * sh.ci + c) * sh.co + o];
                y[yi] += x[xi] * fv;
                if (dy) dx[xi] += dy[yi] * fv;
              }
            }
          }
        }
      }
    }
  }
  return y;
}

const worst = (got: Float32Array, ref: Float64Array): number => got.reduce((m, g, i) => Math.max(m, Math.abs(g - ref[i]) / (1 + Math.abs(ref[i]))), 0);
const params = (sh: Shape) => Int32Array.from([sh.n, sh.h, sh.w, sh.ci, sh.kh, sh.kw, sh.co, sh.oh, sh.ow, sh.s, sh.s, 1, 1, sh.pt, sh.pl]);

describe('direct forward convolution (conv_direct_avx512.cc)', suite, () => {
  const isas = addon?.info().isas ?? ['generic'];
  const active = addon?.info().isa;

  for (const sh of SHAPES) {
    it(`${sh.name}: forced, every ISA, 1/2/3 threads, forward and input gradient match the double reference; identical across thread counts`, () => {
      const x = randomData(sh.n * sh.h * sh.w * sh.ci, 41);
      const f = randomData(sh.kh * sh.kw * sh.ci * sh.co, 42);
      const dy = randomData(sh.n * sh.oh * sh.ow * sh.co, 43);
      const y = reference(sh, x, f, dy);
      const dx = y.dx!;
      let runs = 0;
      const before = addon!.setDirectConv!('force');
      try {
        for (const isa of isas) {
          expect(addon!.setIsa!(isa)).toBe(true);
          let first: Float32Array[] | null = null;
          for (const threads of [1, 2, 3]) {
            addon!.setThreads(threads);
            const gy = new Float32Array(y.length).fill(Number.NaN);
            addon!.conv2d(x, f, gy, params(sh));
            expect(worst(gy, y), `${isa}, ${threads} threads`).toBeLessThan(1e-5);
            // The input gradient (direct on the flipped filter for stride 1, col2im otherwise).
            const gdx = new Float32Array(dx.length).fill(Number.NaN);
            addon!.conv2dBackpropInput(dy, f, gdx, params(sh));
            expect(worst(gdx, dx), `dx: ${isa}, ${threads} threads`).toBeLessThan(1e-5);
            if (first) {
              expect(gy).toEqual(first[0]);
              expect(gdx).toEqual(first[1]);
            } else first = [gy, gdx];
            runs += 1;
          }
        }
      } finally {
        addon!.setDirectConv!(before);
        addon!.setThreads(2);
        if (active) addon!.setIsa!(active);
      }
      expect(runs).toBe(isas.length * 3);
    });
  }

  it.runIf(isas.includes('avx512'))('auto runs it on 3x3 windows over 16+-pixel rows with 16+ channels, im2col elsewhere', () => {
    // Which path ran shows in the bits: the direct kernel sums each output in one (ky, kx, c) chain, the own
    // GEMM (forced here) in K blocks of at most 384 — so with K > 384 the two differ in the last bits
    // (asserted), and auto must equal one of them. (Below 16 input channels K is too small to tell them apart.)
    const cases: [Shape, 'force' | 'off'][] = [
      [shape('3x3, 64 -> 32, 16-pixel rows', 2, 16, 16, 64, 32, 3, 1, 1), 'force'],
      [shape('3x3 stride 2, 64 -> 32, 16-pixel rows', 2, 32, 32, 64, 32, 3, 2, 1), 'force'],
      [shape('3x3, 64 -> 32, 8-pixel rows', 2, 8, 8, 64, 32, 3, 1, 1), 'off'],
      [shape('1x1 stride 2, 512 -> 32, 16-pixel rows', 1, 32, 32, 512, 32, 1, 2, 0), 'off'],
    ];
    const before = addon!.setDirectConv!('auto');
    addon!.setGemmPolicy?.('own');
    try {
      expect(addon!.setIsa!('avx512')).toBe(true);
      for (const [sh, expected] of cases) {
        const x = randomData(sh.n * sh.h * sh.w * sh.ci, 51).map((v) => v * 3);
        const f = randomData(sh.kh * sh.kw * sh.ci * sh.co, 52);
        const run = (mode: 'auto' | 'force' | 'off') => {
          addon!.setDirectConv!(mode);
          const out = new Float32Array(sh.n * sh.oh * sh.ow * sh.co);
          addon!.conv2d(x, f, out, params(sh));
          return out;
        };
        const [auto, direct, im2col] = [run('auto'), run('force'), run('off')];
        expect(direct, sh.name).not.toEqual(im2col);
        expect(auto, sh.name).toEqual(expected === 'force' ? direct : im2col);
      }
      // Input gradients (stride 1) judge the transposed problem: for a 64 -> 32 conv on 16x16 maps it is 32 -> 64
      // on 16-pixel rows (direct); for 16 -> 64 it is 64 -> 16, fewer than 32 output channels (col2im).
      for (const [sh, expected] of [
        [shape('dx of 3x3, 64 -> 32, 16x16', 2, 16, 16, 64, 32, 3, 1, 1), 'force'],
        [shape('dx of 3x3, 16 -> 64, 16x16', 2, 16, 16, 16, 64, 3, 1, 1), 'off'],
      ] as const) {
        const dy = randomData(sh.n * sh.oh * sh.ow * sh.co, 53).map((v) => v * 3);
        const f = randomData(sh.kh * sh.kw * sh.ci * sh.co, 54);
        const run = (mode: 'auto' | 'force' | 'off') => {
          addon!.setDirectConv!(mode);
          const out = new Float32Array(sh.n * sh.h * sh.w * sh.ci);
          addon!.conv2dBackpropInput(dy, f, out, params(sh));
          return out;
        };
        const [auto, direct, col2im] = [run('auto'), run('force'), run('off')];
        expect(direct, sh.name).not.toEqual(col2im);
        expect(auto, sh.name).toEqual(expected === 'force' ? direct : col2im);
      }
    } finally {
      addon!.setDirectConv!(before);
      addon!.setGemmPolicy?.('measure');
      if (active) addon!.setIsa!(active);
    }
  });

  it('setDirectConv rejects an unknown mode, naming the choices', () => {
    expect(() => addon!.setDirectConv!('fast' as never)).toThrow(/auto, off, force/);
  });
});

describe('backend native-direct-test: a conv layer with the direct kernel', suite, () => {
  const name = 'native-direct-test';
  beforeAll(() => {
    expect(registerNativeBackend({ name, base: 'wasm', addon: addon ?? undefined })).toBe(true);
  });

  for (const mode of ['force', 'auto'] as const) {
    it(`${mode}: forward and the input/filter gradients of a 3x3 'same' + a stride-2 conv equal the cpu backend's`, async () => {
      const inputs = [input([2, 16, 16, 16], 1), input([3, 3, 16, 32], 2), input([3, 3, 32, 8], 3), input([2, 8, 8, 8], 4)];
      // loss = Σ conv2(relu(conv1(x))) · w: both convolutions' forward run natively, the gradients through both.
      const fn = (x: tf.Tensor, f1: tf.Tensor, f2: tf.Tensor, w: tf.Tensor) => {
        const net = (a: tf.Tensor, g1: tf.Tensor, g2: tf.Tensor) =>
          tf.conv2d(tf.relu(tf.conv2d(a as tf.Tensor4D, g1 as tf.Tensor4D, 1, 'same')), g2 as tf.Tensor4D, 2, 'same');
        const grads = tf.grads((a: tf.Tensor, g1: tf.Tensor, g2: tf.Tensor) => tf.sum(tf.mul(net(a, g1, g2), w)));
        return [net(x, f1, f2), ...grads([x, f1, f2])];
      };
      const before = addon!.setDirectConv!(mode);
      try {
        const expected = await runOn('cpu', inputs, fn);
        const actual = await runOn(name, inputs, fn);
        expectClose(actual, expected, 1e-4);
      } finally {
        addon!.setDirectConv!(before);
      }
    });
  }
});
