import { describe, expect, it } from 'vitest';

import { nativeAddonStatus } from './addon.js';
import { nativeSkipOptions } from './native-test-skip.js';
import { maskOf, nnzOf, paddedBatch, scatterDense, sparseAddonOf, sparseLayerFromDense, type SparseDenseLayer } from './sparse-layout.js';
import { rng } from './test-helpers.js';

// The sparse Dense kernels (issue 9) against a float64 dense reference: random shapes, odd sizes, batch 1,
// densities 0 / one nonzero / 100 %, on every instruction set this CPU has and on 1 and 2 threads.
const status = nativeAddonStatus();
const sparse = sparseAddonOf(status.addon);

interface Case {
  readonly label: string;
  readonly inF: number;
  readonly outF: number;
  readonly batch: number;
  /** Fraction of active weights; 'one' = exactly one nonzero. */
  readonly density: number | 'one';
}

const CASES: Case[] = [
  { label: 'odd sizes, 10 %', inF: 37, outF: 23, batch: 13, density: 0.1 },
  { label: 'batch 1', inF: 50, outF: 17, batch: 1, density: 0.3 },
  { label: 'density 0', inF: 19, outF: 11, batch: 5, density: 0 },
  { label: 'one nonzero', inF: 31, outF: 29, batch: 7, density: 'one' },
  { label: '100 %', inF: 24, outF: 9, batch: 33, density: 1 },
  { label: 'batch 200 (two register chunks), 5 %', inF: 301, outF: 257, batch: 200, density: 0.05 },
  { label: 'wide enough for the thread split, 20 %', inF: 784, outF: 300, batch: 100, density: 0.2 },
];

function makeLayer(c: Case, r: () => number, relu: boolean): SparseDenseLayer {
  const size = c.inF * c.outF;
  const weight = new Float32Array(size);
  const mask = new Uint8Array(size);
  if (c.density === 'one') {
    const k = Math.floor(r() * size);
    mask[k] = 1;
  } else {
    for (let k = 0; k < size; k++) mask[k] = r() < c.density ? 1 : 0;
  }
  for (let k = 0; k < size; k++) if (mask[k]) weight[k] = r() * 2 - 1;
  const bias = Float32Array.from({ length: c.outF }, () => r() - 0.5);
  const momentum = Float32Array.from({ length: size }, () => r() - 0.5);
  return sparseLayerFromDense(weight, mask, c.inF, c.outF, { bias, relu, momentum, biasMom: Float32Array.from(bias, () => r() - 0.5) });
}

/** Feature-major [features][bp] data, padding columns zero. */
function featureMajor(features: number, batch: number, r: () => number, positiveShare = 1): Float32Array {
  const bp = paddedBatch(batch);
  const a = new Float32Array(features * bp);
  for (let i = 0; i < features; i++) for (let j = 0; j < batch; j++) a[i * bp + j] = r() < positiveShare ? r() * 2 - 1 : 0;
  return a;
}

function expectNear(actual: Float32Array, expected: Float64Array, tol: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let k = 0; k < expected.length; k++) {
    const err = Math.abs(actual[k] - expected[k]) / (1 + Math.abs(expected[k]));
    if (err > worst) [worst, at] = [err, k];
  }
  expect(worst, `worst relative error at ${at}: ${actual[at]} vs ${expected[at]}`).toBeLessThan(tol);
}

type Isa = 'generic' | 'avx2' | 'avx512';
// Without sparse kernels the suite is still registered (for the portable variant) and reported as skipped with
// the reason, instead of vanishing or leaving a passing placeholder.
const isas: Isa[] = sparse ? (['generic', 'avx2', 'avx512'] as const).filter((isa) => sparse.sparseSetIsa(isa)) : ['generic'];
const sparseSuite = nativeSkipOptions(sparse ? null : `no sparse kernels (${status.reason})`);
const restoreIsa = () => {
  if (!sparse) return;
  for (const isa of ['avx512', 'avx2', 'generic'] as const) if (sparse.sparseSetIsa(isa)) return;
};

describe('sparse Dense kernels vs a dense reference', sparseSuite, () => {
  it('the cpu offers at least the portable kernels', () => {
    expect(isas).toContain('generic');
    restoreIsa();
    expect(['generic', 'avx2', 'avx512']).toContain(sparse!.sparseInfo().isa);
    expect(sparse!.sparseInfo().pad).toBe(16);
  });

  for (const isa of isas) {
    for (const threads of [1, 2]) {
      describe(`${isa}, ${threads} thread${threads > 1 ? 's' : ''}`, () => {
        for (const c of CASES) {
          it(`${c.label}: forward, input gradient, weight gradient, fused SGD`, () => {
            const s = sparse!;
            expect(s.sparseSetIsa(isa)).toBe(true);
            status.addon!.setThreads(threads);
            try {
              const r = rng(c.inF * 7919 + c.outF * 31 + c.batch);
              const layer = makeLayer(c, r, true);
              const bp = paddedBatch(c.batch);
              const w = scatterDense(layer, layer.vals);
              const mask = maskOf(layer);
              if (c.density === 0) expect(nnzOf(layer)).toBe(0);
              if (c.density === 'one') expect(nnzOf(layer)).toBe(1);
              if (c.density === 1) expect(nnzOf(layer)).toBe(c.inF * c.outF);
              const x = featureMajor(c.inF, c.batch, r);

              // Forward: y[o][j] = relu(b[o] + Σ_i w[i,o] x[i][j]).
              const y = new Float32Array(c.outF * bp).fill(Number.NaN);
              s.sparseForward(layer, x, y, bp);
              const yRef = new Float64Array(c.outF * bp);
              for (let o = 0; o < c.outF; o++)
                for (let j = 0; j < bp; j++) {
                  let acc = layer.bias![o];
                  for (let i = 0; i < c.inF; i++) acc += w[i * c.outF + o] * x[i * bp + j];
                  yRef[o * bp + j] = Math.max(0, acc);
                }
              expectNear(y, yRef, 1e-5);

              // Input gradient with the previous layer's ReLU derivative (reluOf = its activations).
              const dy = featureMajor(c.outF, c.batch, r);
              const prev = featureMajor(c.inF, c.batch, r, 0.6);
              const dx = new Float32Array(c.inF * bp).fill(Number.NaN);
              s.sparseBackwardInput(layer, dy, prev, dx, bp);
              const dxRef = new Float64Array(c.inF * bp);
              for (let i = 0; i < c.inF; i++)
                for (let j = 0; j < bp; j++) {
                  let acc = 0;
                  for (let o = 0; o < c.outF; o++) acc += w[i * c.outF + o] * dy[o * bp + j];
                  dxRef[i * bp + j] = prev[i * bp + j] > 0 ? acc : 0;
                }
              expectNear(dx, dxRef, 1e-5);

              // Weight gradient at the nonzeros only (SDDMM).
              const nnz = nnzOf(layer);
              const grad = new Float32Array(nnz).fill(Number.NaN);
              s.sparseWeightGrad(layer, dy, x, grad, bp);
              const gradRef = new Float64Array(nnz);
              for (let o = 0; o < c.outF; o++)
                for (let k = layer.colptr[o]; k < layer.colptr[o + 1]; k++) {
                  let acc = 0;
                  for (let j = 0; j < bp; j++) acc += dy[o * bp + j] * x[layer.rowidx[k] * bp + j];
                  gradRef[k] = acc;
                }
              expectNear(grad, gradRef, 1e-5);
              // The nonzeros sit exactly where the mask says.
              for (let o = 0; o < c.outF; o++)
                for (let k = layer.colptr[o]; k < layer.colptr[o + 1]; k++) expect(mask[layer.rowidx[k] * c.outF + o]).toBe(1);

              // Fused gradient + SGD (Nesterov, coupled weight decay, per-nonzero momentum).
              const [lr, mu, wd] = [0.05, 0.9, 5e-4];
              const w0 = Float64Array.from(layer.vals);
              const m0 = Float64Array.from(layer.mom);
              s.sparseWeightGradSgd(layer, dy, x, bp, lr, mu, wd, true);
              const wRef = new Float64Array(nnz);
              const mRef = new Float64Array(nnz);
              for (let k = 0; k < nnz; k++) {
                const g = gradRef[k] + wd * w0[k];
                mRef[k] = mu * m0[k] + g;
                wRef[k] = w0[k] - lr * (g + mu * mRef[k]);
              }
              expectNear(layer.mom, mRef, 1e-5);
              expectNear(layer.vals, wRef, 1e-5);
            } finally {
              restoreIsa();
              status.addon!.setThreads(2);
            }
          });
        }
      });
    }
  }

  it('rejects malformed layers with a RangeError instead of reading out of bounds', () => {
    const r = rng(5);
    const layer = makeLayer({ label: '', inF: 8, outF: 4, batch: 3, density: 0.5 }, r, false);
    const bad = { ...layer, rowidx: Int32Array.from(layer.rowidx, () => 99) };
    const bp = paddedBatch(3);
    expect(() => sparse!.sparseForward(bad, new Float32Array(8 * bp), new Float32Array(4 * bp), bp)).toThrow(/rowidx out of range/);
    expect(() => sparse!.sparseForward(layer, new Float32Array(8 * bp), new Float32Array(4 * bp), 15)).toThrow(/multiple of 16/);
    expect(() => sparse!.sparseForward(layer, new Float32Array(3), new Float32Array(4 * bp), bp)).toThrow(/X is too short/);
  });
});
