import { describe, expect, it } from 'vitest';

import { nativeAddonStatus } from './addon.js';
import { nativeSkipOptions } from './native-test-skip.js';
import { scatterDense, sparseAddonOf, sparseLayerFromDense, type SparseDenseLayer } from './sparse-layout.js';
import { rng } from './test-helpers.js';

// One whole native step of a sparse MLP (`sparseMlpStep`, issue 9) against a float64 dense reference: forward
// with bias + ReLU, softmax cross-entropy, backward, SGD Nesterov + weight decay of every nonzero and bias. It
// covers the step's fused passes — the input gradient, weight gradient and the previous layer's bias gradient
// taken in one pass over each layer after the first — on every instruction set, 1 and 2 threads, a batch of
// one register chunk and one of two (150: the row sums are added across chunks), odd sizes, a layer without bias.
const status = nativeAddonStatus();
const sparse = sparseAddonOf(status.addon);
const suite = nativeSkipOptions(sparse ? null : `no sparse kernels (${status.reason})`);
type Isa = 'generic' | 'avx2' | 'avx512';
const isas: Isa[] = sparse ? (['generic', 'avx2', 'avx512'] as const).filter((isa) => sparse.sparseSetIsa(isa)) : ['generic'];
const restoreIsa = () => {
  if (!sparse) return;
  for (const isa of ['avx512', 'avx2', 'generic'] as const) if (sparse.sparseSetIsa(isa)) return;
};

// 23-301-203-7, ReLU after the hidden layers; the hidden layers are wide enough to split over 2 threads.
const SIZES = [23, 301, 203, 7];
const SGD = { lr: 0.05, mu: 0.9, wd: 5e-4, nesterov: true };

function layers(r: () => number): SparseDenseLayer[] {
  return SIZES.slice(1).map((out, l) => {
    const inF = SIZES[l];
    const weight = new Float32Array(inF * out);
    const mask = Uint8Array.from(weight, () => (r() < 0.3 ? 1 : 0));
    for (let k = 0; k < weight.length; k++) if (mask[k]) weight[k] = r() - 0.5;
    const momentum = Float32Array.from(weight, (_, k) => (mask[k] ? r() - 0.5 : 0));
    // The middle layer has no bias: the bias gradient of the layer before it is still summed by its pass.
    const bias = l === 1 ? null : Float32Array.from({ length: out }, () => r() - 0.5);
    return sparseLayerFromDense(weight, mask, inF, out, { bias, biasMom: bias && Float32Array.from(bias, () => r() - 0.5), momentum, relu: l < 2 });
  });
}

/** The same step in float64 on dense arrays; returns the loss sum and the new weights/biases. */
function reference(ls: SparseDenseLayer[], x: Float32Array, labels: Int32Array, batch: number) {
  const W = ls.map((L) => Float64Array.from(scatterDense(L, L.vals)));
  const M = ls.map((L) => Float64Array.from(scatterDense(L, L.mom)));
  const B = ls.map((L) => (L.bias ? Float64Array.from(L.bias) : null));
  const BM = ls.map((L) => (L.biasMom ? Float64Array.from(L.biasMom) : null));
  const acts: Float64Array[] = [Float64Array.from(x)]; // [batch][features]
  ls.forEach((L, l) => {
    const a = acts[l];
    const y = new Float64Array(batch * L.out);
    for (let j = 0; j < batch; j++) {
      for (let o = 0; o < L.out; o++) {
        let s = B[l] ? B[l]![o] : 0;
        for (let i = 0; i < L.in; i++) s += a[j * L.in + i] * W[l][i * L.out + o];
        y[j * L.out + o] = L.relu ? Math.max(0, s) : s;
      }
    }
    acts.push(y);
  });
  const n = ls.length;
  const C = ls[n - 1].out;
  let loss = 0;
  let dz = new Float64Array(batch * C);
  for (let j = 0; j < batch; j++) {
    const z = acts[n].subarray(j * C, (j + 1) * C);
    const mx = Math.max(...z);
    const sum = z.reduce((acc, v) => acc + Math.exp(v - mx), 0);
    loss -= z[labels[j]] - mx - Math.log(sum);
    for (let c = 0; c < C; c++) dz[j * C + c] = (Math.exp(z[c] - mx) / sum - (c === labels[j] ? 1 : 0)) / batch;
  }
  const sgd = (w: Float64Array, m: Float64Array, g: Float64Array, active: (k: number) => boolean) => {
    for (let k = 0; k < w.length; k++) {
      if (!active(k)) continue;
      const gk = g[k] + SGD.wd * w[k];
      m[k] = SGD.mu * m[k] + gk;
      w[k] -= SGD.lr * (gk + SGD.mu * m[k]);
    }
  };
  for (let l = n - 1; l >= 0; l--) {
    const L = ls[l];
    const a = acts[l];
    const gW = new Float64Array(L.in * L.out);
    const dA = new Float64Array(batch * L.in);
    for (let j = 0; j < batch; j++) {
      for (let i = 0; i < L.in; i++) {
        let s = 0;
        for (let o = 0; o < L.out; o++) {
          gW[i * L.out + o] += a[j * L.in + i] * dz[j * L.out + o];
          s += W[l][i * L.out + o] * dz[j * L.out + o];
        }
        dA[j * L.in + i] = l > 0 && ls[l - 1].relu && a[j * L.in + i] <= 0 ? 0 : s;
      }
    }
    if (B[l]) {
      const gB = new Float64Array(L.out);
      for (let j = 0; j < batch; j++) for (let o = 0; o < L.out; o++) gB[o] += dz[j * L.out + o];
      sgd(B[l]!, BM[l]!, gB, () => true);
    }
    const mask = scatterDense(L, new Float32Array(L.vals.length).fill(1));
    sgd(W[l], M[l], gW, (k) => mask[k] === 1);
    dz = dA;
  }
  return { loss, W, B };
}

describe('one native sparse MLP step vs a float64 dense reference', suite, () => {
  for (const isa of isas) {
    for (const threads of [1, 2]) {
      for (const batch of [9, 150]) {
        it(`${isa}, ${threads} thread${threads > 1 ? 's' : ''}, batch ${batch}`, () => {
          const s = sparse!;
          expect(s.sparseSetIsa(isa)).toBe(true);
          const before = s.sparseInfo().threads;
          status.addon!.setThreads(threads);
          try {
            const r = rng(batch * 13 + threads);
            const ls = layers(r);
            const x = Float32Array.from({ length: batch * SIZES[0] }, () => (r() < 0.3 ? 0 : r()));
            const labels = Int32Array.from({ length: batch }, () => Math.floor(r() * SIZES[3]));
            const want = reference(ls, x, labels, batch);
            const plan = s.sparseMlpPlan(ls, batch);
            const out = new Float64Array(2);
            const loss = s.sparseMlpStep(plan, x, labels, batch, true, SGD.lr, SGD.mu, SGD.wd, SGD.nesterov, out);
            expect(Math.abs(loss - want.loss) / want.loss).toBeLessThan(1e-5);
            let worst = 0;
            ls.forEach((L, l) => {
              const w = scatterDense(L, L.vals);
              for (let k = 0; k < w.length; k++) worst = Math.max(worst, Math.abs(w[k] - want.W[l][k]));
              if (L.bias) L.bias.forEach((b, o) => (worst = Math.max(worst, Math.abs(b - want.B[l]![o]))));
            });
            expect(worst).toBeLessThan(2e-6);
          } finally {
            status.addon!.setThreads(before);
            restoreIsa();
          }
        });
      }
    }
  }
});
