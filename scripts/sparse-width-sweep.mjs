#!/usr/bin/env node
// Issue 9, item 7: the cost of truly sparse training grows with the active weights, not with the width.
// A 784-W-W-10 ReLU MLP with Erdős–Rényi sparsity at a fixed ε (connections per layer = ε·(in + out), as in
// SET) is trained on MNIST with the native sparse kernels (@sparse-learning/backend-native SparseMlp plan),
// for W from 1 000 to beyond the size whose dense form fits in this machine's memory. Nothing of the dense
// shape is ever allocated: the layers are drawn directly in compact form and the SET mask update (remove the
// fraction ζ of smallest-magnitude weights, regrow as many at random empty positions) runs on the compact
// arrays. Each width runs in its own process (peak RSS is its own).
//
//   node scripts/sparse-width-sweep.mjs [--widths=1000,4000,...] [--epsilon=20] [--steps=30] [--threads=1]
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : dflt;
};
const STEPS_PER_EPOCH = 540;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Mulberry32: a small seeded generator (the sweep needs reproducible draws, not the engine's streams). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** CSC arrays of a random layer with `nnz` distinct positions, uniform per output column, sorted rows. */
function randomCsc(inF, outF, nnz, r, scale) {
  const colptr = new Int32Array(outF + 1);
  const perCol = nnz / outF;
  for (let o = 0; o < outF; o++) {
    const want = Math.min(inF, Math.floor(perCol) + (r() < perCol - Math.floor(perCol) ? 1 : 0));
    colptr[o + 1] = colptr[o] + want;
  }
  const total = colptr[outF];
  const rowidx = new Int32Array(total);
  const vals = new Float32Array(total);
  for (let o = 0; o < outF; o++) {
    const want = colptr[o + 1] - colptr[o];
    const chosen = new Set();
    if (want === inF) for (let i = 0; i < inF; i++) chosen.add(i);
    else while (chosen.size < want) chosen.add(Math.floor(r() * inF));
    const rows = Int32Array.from(chosen).sort();
    rowidx.set(rows, colptr[o]);
    for (let k = colptr[o]; k < colptr[o + 1]; k++) vals[k] = (r() * 2 - 1) * scale;
  }
  return { colptr, rowidx, vals };
}

/**
 * SET's mask update on the compact arrays (Mocanu et al. 2018): remove the fraction `zeta` of active weights
 * with the smallest magnitude, regrow as many at uniformly random empty positions with small random values.
 * O(nnz log nnz); no dense array.
 */
function compactSet(bn, layer, zeta, r) {
  const nnz = layer.colptr[layer.out];
  // Regrowth avoids the positions active before the update; a layer at least half dense stays as it is
  // (SET keeps dense layers dense, and there would be too few empty positions to sample from).
  const remove = Math.min(Math.floor(zeta * nnz), layer.in * layer.out - nnz);
  if (remove === 0 || 2 * nnz > layer.in * layer.out) return layer;
  const mags = Float32Array.from(layer.vals, Math.abs).sort();
  const threshold = mags[remove - 1];
  let removed = 0;
  const keepCount = new Int32Array(layer.out);
  const keep = new Uint8Array(nnz);
  for (let o = 0; o < layer.out; o++) {
    for (let k = layer.colptr[o]; k < layer.colptr[o + 1]; k++) {
      if (removed < remove && Math.abs(layer.vals[k]) <= threshold) removed++;
      else (keep[k] = 1), keepCount[o]++;
    }
  }
  // Regrow `removed` positions not active now: key = o·in + i (< 2^53).
  const taken = new Set();
  const grown = new Map();
  const isActive = (o, i) => {
    let lo = layer.colptr[o];
    let hi = layer.colptr[o + 1] - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const v = layer.rowidx[mid];
      if (v === i) return true;
      if (v < i) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  };
  let need = removed;
  while (need > 0) {
    const o = Math.floor(r() * layer.out);
    const i = Math.floor(r() * layer.in);
    const key = o * layer.in + i;
    if (taken.has(key) || isActive(o, i)) continue;
    taken.add(key);
    (grown.get(o) ?? grown.set(o, []).get(o)).push(i);
    need--;
  }
  const colptr = new Int32Array(layer.out + 1);
  for (let o = 0; o < layer.out; o++) colptr[o + 1] = colptr[o] + keepCount[o] + (grown.get(o)?.length ?? 0);
  const rowidx = new Int32Array(colptr[layer.out]);
  const vals = new Float32Array(colptr[layer.out]);
  const mom = new Float32Array(colptr[layer.out]);
  for (let o = 0; o < layer.out; o++) {
    const entries = [];
    for (let k = layer.colptr[o]; k < layer.colptr[o + 1]; k++) if (keep[k]) entries.push([layer.rowidx[k], layer.vals[k], layer.mom[k]]);
    for (const i of grown.get(o) ?? []) entries.push([i, (r() * 2 - 1) * 0.01, 0]);
    entries.sort((a, b) => a[0] - b[0]);
    entries.forEach(([i, v, m], j) => {
      rowidx[colptr[o] + j] = i;
      vals[colptr[o] + j] = v;
      mom[colptr[o] + j] = m;
    });
  }
  return bn.sparseLayerFromCsc(layer.in, layer.out, colptr, rowidx, vals, { mom, bias: layer.bias, biasMom: layer.biasMom, relu: layer.relu });
}

async function child(width, epsilon, steps) {
  const t0 = performance.now();
  const bn = await import('@sparse-learning/backend-native');
  const { loadDataset, batchIndices } = await import('@sparse-learning/datasets');
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  await tf.setBackend('cpu'); // batches are built as tensors; the training itself never touches tfjs
  const addon = bn.sparseAddonOf(bn.loadNativeAddon());
  if (!addon) throw new Error('native addon with sparse kernels not built');
  const dataset = await loadDataset('mnist', { validSplit: 0.1 });
  const r = rng(width);
  const dims = [784, width, width, 10];
  const layers = [];
  for (let l = 0; l + 1 < dims.length; l++) {
    const [inF, outF] = [dims[l], dims[l + 1]];
    const nnz = Math.min(inF * outF, Math.round(epsilon * (inF + outF)));
    const { colptr, rowidx, vals } = randomCsc(inF, outF, nnz, r, Math.sqrt(6 / (nnz / outF + nnz / inF)));
    layers.push(bn.sparseLayerFromCsc(inF, outF, colptr, rowidx, vals, { bias: new Float32Array(outF), relu: l + 2 < dims.length }));
  }
  const active = layers.reduce((a, L) => a + L.colptr[L.out], 0);
  const denseWeights = dims.slice(1).reduce((a, o, l) => a + o * dims[l], 0);
  let plan = addon.sparseMlpPlan(layers, 100);
  const order = dataset.train.epochOrder({ shuffle: (x) => x }, false);
  const stepCpu = [];
  const out = new Float64Array(2);
  let lossSum = 0;
  for (let b = 0; b < steps; b++) {
    const batch = dataset.train.batch(batchIndices(order, (b * 37) % 500, 100));
    const x = batch.inputs.dataSync();
    const y = batch.labels.dataSync();
    const c0 = cpuMs();
    lossSum += addon.sparseMlpStep(plan, x, y, 100, true, 0.05, 0.9, 5e-4, true, out) / 100;
    stepCpu.push(cpuMs() - c0);
    batch.inputs.dispose();
    batch.labels.dispose();
  }
  const u0 = cpuMs();
  for (let l = 0; l < layers.length; l++) layers[l] = compactSet(bn, layers[l], 0.3, r);
  plan = addon.sparseMlpPlan(layers, 100);
  const updateCpu = cpuMs() - u0;
  // Forward-only accuracy on 2 000 test images after the short training.
  let correct = 0;
  const testOrder = dataset.test.epochOrder({ shuffle: (x) => x }, false);
  for (let b = 0; b < 20; b++) {
    const batch = dataset.test.batch(batchIndices(testOrder, b, 100));
    addon.sparseMlpStep(plan, batch.inputs.dataSync(), batch.labels.dataSync(), 100, false, 0, 0, 0, false, out);
    correct += out[1];
    batch.inputs.dispose();
    batch.labels.dispose();
  }
  const step = median(stepCpu.slice(3));
  return {
    width,
    active,
    denseWeights,
    denseGiB: (denseWeights * 4) / 2 ** 30,
    compactMiB: layers.reduce((a, L) => a + bn.sparseLayerBytes(L), 0) / 2 ** 20,
    stepMs: step,
    updateMs: updateCpu,
    epochS: (STEPS_PER_EPOCH * step + updateCpu) / 1000,
    nsPerActive: (step * 1e6) / active,
    meanLoss: lossSum / steps,
    testAccuracy: correct / 2000,
    rssMiB: (process.resourceUsage().maxRSS * 1024) / 2 ** 20,
    seconds: (performance.now() - t0) / 1000,
  };
}

function parent() {
  const widths = opt('widths', '1000,4000,16000,64000,128000').split(',').map(Number);
  const epsilon = Number(opt('epsilon', 20));
  const steps = Number(opt('steps', 30));
  const threads = opt('threads', '1');
  const memGiB = os.totalmem() / 2 ** 30;
  console.log(`sparse width sweep — 784-W-W-10 ReLU MLP, Erdős–Rényi ε = ${epsilon}, batch 100, MNIST, ${threads} native thread(s), CPU time; ${os.cpus()[0]?.model}, ${memGiB.toFixed(0)} GiB RAM, ${new Date().toISOString()}`);
  console.log(`${steps} training steps per width (median step CPU time), then one compact SET update (ζ = 0.3), then test accuracy on 2 000 images; epoch = 540 × step + update`);
  console.log('| width W | active weights | dense weights (fp32) | compact layers | step | ns / active weight | SET update | epoch (540 steps) | peak RSS | loss (mean of steps) | test acc. after |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const width of widths) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), `--child=${width}`, `--epsilon=${epsilon}`, `--steps=${steps}`], {
      cwd: root,
      encoding: 'utf8',
      env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.json'), SPARSE_LEARNING_NATIVE_THREADS: threads },
    });
    const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('SWEEP '));
    if (!line) {
      console.log(`| ${width} | failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-2).join(' | ').slice(0, 300)} |`);
      continue;
    }
    const x = JSON.parse(line.slice(6));
    const dense = `${(x.denseWeights / 1e6).toFixed(1)} M (${x.denseGiB >= 1 ? `${x.denseGiB.toFixed(1)} GiB` : `${(x.denseGiB * 1024).toFixed(0)} MiB`}${x.denseGiB > memGiB ? ', does not fit' : ''})`;
    console.log(
      `| ${width.toLocaleString('en')} | ${(x.active / 1e6).toFixed(2)} M | ${dense} | ${x.compactMiB.toFixed(0)} MiB | ${x.stepMs.toFixed(1)} ms | ${x.nsPerActive.toFixed(1)} | ${(x.updateMs / 1000).toFixed(2)} s | ${x.epochS.toFixed(1)} s | ${x.rssMiB.toFixed(0)} MiB | ${x.meanLoss.toFixed(3)} | ${(100 * x.testAccuracy).toFixed(1)} % |`,
    );
  }
}

const childArg = argv.find((a) => a.startsWith('--child='));
if (childArg) {
  const result = await child(Number(childArg.slice(8)), Number(opt('epsilon', 20)), Number(opt('steps', 30)));
  console.log(`SWEEP ${JSON.stringify(result)}`);
  process.exit(0);
} else {
  parent();
}
