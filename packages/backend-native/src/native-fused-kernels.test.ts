import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-layers'; // stock gradients (tfjs-core's Node entry registers none)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { SGD_STEP_KERNEL, SgdOptimizer } from '@sparse-learning/core';

import { loadAddonFrom, nativeAddonStatus, packageRoot } from './addon.js';
import type { NativeAddon } from './addon.js';
import { registerNativeBackend } from './native-backend.js';
import { skipWithoutNativeAddon } from './native-test-skip.js';
import { SGD_STEP_KERNEL_NAME } from './native-kernels.js';
import { expectClose, input, randomData, runOn } from './test-helpers.js';

// The kernels added for issue 6's "fewer launches" work: fused SGD step, aliasing Identity, leading-axes Sum,
// tiled max-pool gradient and deferred (lazy) BatchMatMul / Conv2DBackpropInput outputs. Every build found
// is tested on both bases; without an addon everything here is skipped.
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

it('the native kernel name is the one core looks up', () => {
  expect(SGD_STEP_KERNEL_NAME).toBe(SGD_STEP_KERNEL);
});

/** Runs the same SGD trajectory on `backend`; returns weights, momentum and state after every step. */
async function sgdTrajectory(backend: string, shape: number[], options: ConstructorParameters<typeof SgdOptimizer>[0]) {
  expect(await tf.setBackend(backend)).toBe(true);
  const size = shape.reduce((a, b) => a * b, 1);
  const init = tf.tensor(randomData(size, 5), shape);
  const w = tf.variable(init);
  init.dispose();
  const opt = new SgdOptimizer(options);
  const out: Float32Array[] = [];
  const before = tf.memory().numTensors;
  for (let step = 0; step < 4; step += 1) {
    const g = tf.tensor(randomData(size, 10 + step), shape);
    opt.learningRate = 0.1 / (step + 1);
    opt.applyGradients({ w: g }, { w });
    g.dispose();
    out.push(Float32Array.from(w.dataSync()));
    const m = opt.momentumOf('w');
    if (m) {
      expect(m.shape).toEqual(shape);
      out.push(Float32Array.from(m.dataSync()));
      m.dispose();
    }
  }
  // One slot tensor at most, whatever the path.
  expect(tf.memory().numTensors - before).toBe(options.momentum ? 1 : 0);
  const state = opt.getState();
  opt.dispose();
  w.dispose();
  return { out, state };
}

const SGD_CONFIGS = [
  { learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
  { learningRate: 0.1, momentum: 0.5, nesterov: false, weightDecay: 0 },
  { learningRate: 0.1, momentum: 0, nesterov: false, weightDecay: 1e-3 },
];

for (const [gemmName, addon] of builds) {
  // An addon object without sgdStep/sumLeading: the kernels' JavaScript / stock fallbacks (older builds).
  const legacy = { ...addon, sgdStep: undefined, sumLeading: undefined } as NativeAddon;
  const variants: [string, NativeAddon][] = [['', addon], ['-legacy', legacy]];
  for (const base of ['wasm', 'cpu'] as const) {
    for (const [suffix, impl] of variants) {
      const name = `fused-test-${gemmName}-${base}${suffix}`;
      describe(`backend ${name}: fused SGD step and Sum`, nativeSuite, () => {
        beforeAll(() => {
          expect(registerNativeBackend({ name, base, addon: impl })).toBe(true);
        });

        for (const shape of [[1], [7, 13], [5, 5, 1, 7], [301], [33, 3, 2]]) {
          it(`SgdOptimizer on [${shape.join(',')}] is bit-identical to the tf.* chain on cpu`, async () => {
            expect(tf.getKernel(SGD_STEP_KERNEL, name)).toBeDefined();
            for (const cfg of SGD_CONFIGS) {
              const cpu = await sgdTrajectory('cpu', shape, cfg);
              const nat = await sgdTrajectory(name, shape, cfg);
              expect(nat.out.length).toBe(cpu.out.length);
              nat.out.forEach((a, i) => expect(Array.from(a), `${JSON.stringify(cfg)} output ${i}`).toEqual(Array.from(cpu.out[i])));
              expect(nat.state.iterations).toBe(cpu.state.iterations);
              expect(Object.keys(nat.state.slots)).toEqual(Object.keys(cpu.state.slots));
            }
          });
        }

        it('a restored momentum buffer feeds the fused step like the tf.* chain', async () => {
          const run = async (backend: string) => {
            expect(await tf.setBackend(backend)).toBe(true);
            const w = tf.variable(tf.tensor(randomData(12, 1), [3, 4]));
            const g = tf.tensor(randomData(12, 2), [3, 4]);
            const opt = new SgdOptimizer({ learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
            opt.setState({ id: 'sgd', iterations: 7, slots: { w: { momentum_buffer: randomData(12, 3) } } });
            opt.applyGradients({ w: g }, { w });
            const values = [Array.from(w.dataSync()), Array.from(opt.getState().slots.w.momentum_buffer)];
            opt.dispose();
            tf.dispose([w, g]);
            return values;
          };
          expect(await run(name)).toEqual(await run('cpu'));
        });

        it('Sum over leading axes (bias gradients), keepDims, all axes; other axes via the stock kernel', async () => {
          const x = input([3, 5, 7, 6], 1);
          const y = input([1, 9], 2);
          const fn = (a: tf.Tensor, b: tf.Tensor) => [
            tf.sum(a, [0, 1, 2]),
            tf.sum(a, [1, 0]),
            tf.sum(a, 0, true),
            tf.sum(a),
            tf.sum(a, [1, 2]),
            tf.sum(a, -1),
            tf.sum(b, 0),
            tf.sum(tf.cast(tf.greater(a, 0), 'int32'), 0),
          ];
          expectClose(await runOn(name, [x, y], fn), await runOn('cpu', [x, y], fn), 1e-5);
        });
      });
    }

    const name = `fused-test-${gemmName}-${base}-pool`;
    describe(`backend ${name}: Identity, tiled max-pool gradient`, nativeSuite, () => {
      beforeAll(() => {
        expect(registerNativeBackend({ name, base, addon })).toBe(true);
      });

      it('clone aliases the data: independent lifetimes, no leak', async () => {
        expect(await tf.setBackend(name)).toBe(true);
        const backendBefore = tf.engine().backend.numDataIds();
        const before = tf.memory().numTensors;
        const a = tf.tensor2d([[1, -2, 3], [4, 5, -6]]);
        const b = tf.clone(a);
        const c = tf.clone(b);
        a.dispose();
        expect(Array.from(b.dataSync())).toEqual([1, -2, 3, 4, 5, -6]);
        b.dispose();
        expect(tf.tidy(() => Array.from(tf.add(c, 1).dataSync()))).toEqual([2, -1, 4, 5, 6, -5]);
        tf.dispose(c);
        expect(tf.memory().numTensors).toBe(before);
        expect(tf.engine().backend.numDataIds()).toBe(backendBefore);
      });

      it('max-pool gradient on windows that tile the input (2x2/2, 3x3/3), ties after relu, batch 1', async () => {
        for (const [shape, size] of [[[3, 8, 6, 5], 2], [[1, 9, 9, 3], 3], [[2, 4, 4, 1], 2]] as const) {
          const x = input([...shape], 7);
          const fn = (xt: tf.Tensor) => {
            const pool = (p: tf.Tensor) => tf.maxPool(tf.relu(p) as tf.Tensor4D, size, size, 'valid');
            return [pool(xt), ...tf.grads((p: tf.Tensor) => tf.sum(tf.mul(pool(p), tf.range(1, shape[3] + 1))))([xt])];
          };
          expectClose(await runOn(name, [x], fn), await runOn('cpu', [x], fn));
        }
      });
    });
  }

  describe(`addon ${gemmName}: sgdStep / sumLeading argument checks`, nativeSuite, () => {
    it('rejects mismatched lengths and a missing buffer output', () => {
      const a = new Float32Array(4);
      expect(() => addon.sgdStep?.(a, new Float32Array(3), null, a, a, 0.1, 0.9, 0, false)).toThrow(/same length/);
      expect(() => addon.sgdStep?.(a, a, null, new Float32Array(4), null, 0.1, 0.9, 0, false)).toThrow(/bufOut/);
      expect(() => addon.sumLeading?.(new Float32Array(5), new Float32Array(3), 2, 3)).toThrow(/too short/);
    });

    it('hand-worked sgdStep: Nesterov + weight decay, first step and with a buffer', () => {
      // w = 1, grad = 0.5, wd = 0.1, μ = 0.9, lr = 0.1: g = 0.6, buf = 0.6, upd = 1.14, w = 0.886.
      const w = Float32Array.of(1);
      const out = new Float32Array(1);
      const buf = new Float32Array(1);
      addon.sgdStep?.(w, Float32Array.of(0.5), null, out, buf, 0.1, 0.9, 0.1, true);
      expect(out[0]).toBeCloseTo(0.886, 6);
      expect(buf[0]).toBeCloseTo(0.6, 6);
      // Plain momentum with buffer 1: buf = 0.9 + 0.5 = 1.4, w = 1 - 0.14.
      addon.sgdStep?.(w, Float32Array.of(0.5), Float32Array.of(1), out, buf, 0.1, 0.9, 0, false);
      expect(buf[0]).toBeCloseTo(1.4, 6);
      expect(out[0]).toBeCloseTo(0.86, 6);
    });
  });
}

// ------------------------------------------------------------------------------------------ deferred outputs
/** Wraps an addon and counts the calls of each function. */
function counting(addon: NativeAddon): { addon: NativeAddon; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  const wrapped = Object.fromEntries(
    Object.entries(addon).map(([k, v]) => [
      k,
      typeof v === 'function'
        ? (...args: unknown[]) => {
            calls.set(k, (calls.get(k) ?? 0) + 1);
            return (v as (...a: unknown[]) => unknown)(...args);
          }
        : v,
    ]),
  ) as unknown as NativeAddon;
  return { addon: wrapped, calls };
}

for (const [gemmName, addon] of builds) {
  for (const base of ['wasm', 'cpu'] as const) {
    const name = `lazy-test-${gemmName}-${base}`;
    const { addon: counted, calls } = counting(addon);
    describe(`backend ${name}: deferred BatchMatMul / Conv2DBackpropInput`, nativeSuite, () => {
      beforeAll(() => {
        expect(registerNativeBackend({ name, base, addon: counted, lazy: true })).toBe(true);
      });

      it('the unread input gradient of a first layer is never computed; the used gradients match cpu', async () => {
        const x = input([3, 11, 10, 1], 1);
        const f = input([5, 5, 1, 4], 2);
        const b = input([4], 3);
        const w = input([6 * 7 * 4, 5], 4);
        const fn = (xt: tf.Tensor, ft: tf.Tensor, bt: tf.Tensor, wt: tf.Tensor) => {
          const loss = (p: tf.Tensor, q: tf.Tensor) => {
            const h = tf.fused.conv2d({ x: xt as tf.Tensor4D, filter: p as tf.Tensor4D, strides: 1, pad: 'valid', bias: bt, activation: 'relu' });
            return tf.mean(tf.square(tf.fused.matMul({ a: tf.reshape(h, [3, 6 * 7 * 4]) as tf.Tensor2D, b: q as tf.Tensor2D, activation: 'relu' })));
          };
          return [loss(ft, wt), ...tf.grads(loss)([ft, wt])];
        };
        calls.clear();
        const got = await runOn(name, [x, f, b, w], fn);
        // x is a constant: its gradient (a Conv2DBackpropInput) was deferred, then disposed unread.
        expect(calls.get('conv2dBackpropInput') ?? 0).toBe(0);
        expectClose(got, await runOn('cpu', [x, f, b, w], fn));
      });

      it('deferred outputs are computed when read: dataSync, data(), stock kernels, chains', async () => {
        const a = input([5, 7], 1);
        const b = input([7, 3], 2);
        const c = input([3, 4], 3);
        const fn = (p: tf.Tensor, q: tf.Tensor, r: tf.Tensor) => [
          tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D),
          tf.add(tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D), 1),
          tf.matMul(tf.matMul(p as tf.Tensor2D, q as tf.Tensor2D), r as tf.Tensor2D, false, false),
          tf.reshape(tf.matMul(q as tf.Tensor2D, p as tf.Tensor2D, true, true), [15]),
          tf.conv2dTranspose(tf.ones([1, 3, 3, 2]) as tf.Tensor4D, tf.ones([2, 2, 4, 2]) as tf.Tensor4D, [1, 4, 4, 4], 1, 'valid'),
        ];
        expectClose(await runOn(name, [a, b, c], fn), await runOn('cpu', [a, b, c], fn));
        expect(await tf.setBackend(name)).toBe(true);
        const pa = tf.tensor(a.data, a.shape);
        const pb = tf.tensor(b.data, b.shape);
        const m = tf.matMul(pa as tf.Tensor2D, pb as tf.Tensor2D);
        const viaAsync = Array.from(await m.data());
        expect(viaAsync).toEqual(Array.from(m.dataSync()));
        tf.dispose([pa, pb, m]);
      });

      it('a deferred output disposed unread costs nothing and leaks nothing', async () => {
        expect(await tf.setBackend(name)).toBe(true);
        const pa = tf.tensor(randomData(64 * 32, 1), [64, 32]);
        const pb = tf.tensor(randomData(32 * 16, 2), [32, 16]);
        const before = tf.memory().numTensors;
        const dataIds = tf.engine().backend.numDataIds();
        calls.clear();
        for (let i = 0; i < 3; i += 1) {
          tf.tidy(() => {
            tf.matMul(pa as tf.Tensor2D, pb as tf.Tensor2D);
          });
        }
        expect(calls.get('gemm') ?? 0).toBe(0);
        expect(tf.memory().numTensors).toBe(before);
        expect(tf.engine().backend.numDataIds()).toBe(dataIds);
        // A deferred product whose inputs are disposed first still reads correctly (the inputs are retained).
        const qa = tf.tensor(randomData(6, 3), [2, 3]);
        const qb = tf.tensor(randomData(6, 4), [3, 2]);
        const m = tf.matMul(qa as tf.Tensor2D, qb as tf.Tensor2D);
        const expected = [0, 1, 2, 3].map((k) => {
          const [i, j] = [k >> 1, k & 1];
          let s = 0;
          for (let p = 0; p < 3; p += 1) s += qa.dataSync()[i * 3 + p] * qb.dataSync()[p * 2 + j];
          return s;
        });
        tf.dispose([qa, qb]);
        Array.from(m.dataSync()).forEach((v, k) => expect(v).toBeCloseTo(expected[k], 5));
        m.dispose();
        tf.dispose([pa, pb]);
        expect(tf.engine().backend.numDataIds()).toBe(dataIds - 2);
      });
    });
  }
}
