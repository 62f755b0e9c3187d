#!/usr/bin/env node
// `npm run bench -- --sparse-conv` (issue 9, "sparse convolution where it pays, measured"): the addon's sparse
// convolution kernels against its dense (masked) convolution, same process, same threads, same data.
//
//   shapes     LeNet-5-Caffe's convs (1→20 5×5 on 28×28, 20→50 5×5 on 12×12, 'valid', batch 100) and
//              WRN-16-8's 3×3 'same' convs (128→128 on 32×32 and 16×16, 256→256 on 16×16 and 8×8,
//              512→512 on 8×8, batch 32)
//   per shape  one training pass of the layer = forward + input gradient + filter gradient:
//              dense   conv2d + conv2dBackpropInput + conv2dBackpropFilter on NHWC with the masked filter
//                      (im2col + GEMM, OpenBLAS or the own kernels per shape, as the `native` backend runs
//                      them; the mask multiply itself, a filter-sized pass, is not timed)
//              sparse  sparseConvForward + sparseConvBackwardInput + sparseConvWeightGrad (gradient at the
//                      nonzeros only) on the channel-major layout, at each density
//   output     median time of each pass over --reps repetitions (after one warm-up; dense and sparse passes
//              interleaved in every repetition, so load changes hit both), the ratio dense / sparse of the sum
//              per density, and the crossover density (the ratio interpolated linearly between the measured
//              densities where it falls through 1: where sparse stops paying)
//
//   step       (unless --no-step) a whole LeNet-5-Caffe SGD step at batch 100 and densities <= 20 %: the masked
//              step as tfjs ops on the `native` backend (forward, tf.variableGrads, SGD Nesterov + weight decay
//              as tf ops, weights × mask) against SparseCnnStep, interleaved per repetition
//
//   node scripts/bench-sparse-conv.mjs [--threads=2] [--cpu] [--no-step] [--densities=0.01,0.02,...] [--reps=5] [--only=lenet|wrn] [--json=path]
//
// Runs its TypeScript imports under `node --import tsx` (it re-executes itself that way when needed).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { optionReader, repoRoot, runUnderTsx } from './bench-common.mjs';

const root = repoRoot;
runUnderTsx(import.meta.url, 'SL_BENCH_SPARSE_CONV_CHILD');
const argv = process.argv.slice(2);
const opt = optionReader(argv);
const threads = Number(opt('threads', 2));
const reps = Number(opt('reps', 5));
const densities = opt('densities', '0.01,0.02,0.05,0.1,0.2,0.3,0.5').split(',').map(Number);
const only = opt('only', '');
const jsonPath = opt('json', '');
// --cpu: process CPU time instead of wall (with --threads=1 a load-independent measure on a busy machine).
const useCpu = argv.includes('--cpu');
const clock = useCpu
  ? () => {
      const u = process.cpuUsage();
      return (u.user + u.system) / 1000;
    }
  : () => performance.now();

const SHAPES = [
  { key: 'lenet5-conv1', label: 'LeNet-5 conv1 1→20 5×5, 28×28, b100', n: 100, h: 28, w: 28, cin: 1, cout: 20, k: 5, stride: 1, padding: 'valid', group: 'lenet' },
  { key: 'lenet5-conv2', label: 'LeNet-5 conv2 20→50 5×5, 12×12, b100', n: 100, h: 12, w: 12, cin: 20, cout: 50, k: 5, stride: 1, padding: 'valid', group: 'lenet' },
  { key: 'wrn-128-32', label: 'WRN-16-8 128→128 3×3, 32×32, b32', n: 32, h: 32, w: 32, cin: 128, cout: 128, k: 3, stride: 1, padding: 'same', group: 'wrn' },
  { key: 'wrn-128-16', label: 'WRN-16-8 128→128 3×3, 16×16, b32', n: 32, h: 16, w: 16, cin: 128, cout: 128, k: 3, stride: 1, padding: 'same', group: 'wrn' },
  { key: 'wrn-256-16', label: 'WRN-16-8 256→256 3×3, 16×16, b32', n: 32, h: 16, w: 16, cin: 256, cout: 256, k: 3, stride: 1, padding: 'same', group: 'wrn' },
  { key: 'wrn-256-8', label: 'WRN-16-8 256→256 3×3, 8×8, b32', n: 32, h: 8, w: 8, cin: 256, cout: 256, k: 3, stride: 1, padding: 'same', group: 'wrn' },
  { key: 'wrn-512-8', label: 'WRN-16-8 512→512 3×3, 8×8, b32', n: 32, h: 8, w: 8, cin: 512, cout: 512, k: 3, stride: 1, padding: 'same', group: 'wrn' },
].filter((s) => !only || s.group === only);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Median wall ms of each of `passes` (functions run in order per repetition), after one warm-up. */
function timePasses(passes) {
  for (const p of passes) p();
  const times = passes.map(() => []);
  for (let r = 0; r < reps; r++) {
    passes.forEach((p, i) => {
      const t0 = clock();
      p();
      times[i].push(clock() - t0);
    });
  }
  return times.map(median);
}

const bn = await import('../packages/backend-native/src/index.ts');
const status = bn.nativeAddonStatus();
const addon = status.addon;
const conv = bn.sparseConvAddonOf(addon);
if (!addon || !conv) {
  console.log(`sparse conv bench skipped: ${status.reason}${addon ? ' (this build has no sparse conv kernels; rebuild: npm run build:native -w @sparse-learning/backend-native)' : ''}`);
  process.exit(0);
}
addon.setThreads(threads);
const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim();
const cpuName = os.cpus()[0]?.model ?? 'unknown cpu';
const sparseInfo = bn.sparseAddonOf(addon)?.sparseInfo();
console.log(
  `sparse-learning sparse conv bench — ${new Date().toISOString()}, commit ${commit}, node ${process.version}, ${cpuName}, ` +
    `${os.cpus().length} cores, ${threads} thread(s), sparse isa ${sparseInfo?.isa}, dense: ${addon.info().gemm}, ` +
    `load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
);
console.log(`median of ${reps} repetitions after a warm-up; times in ms (${useCpu ? 'process CPU time' : 'wall'}); ratio = dense / sparse (> 1: sparse is faster)\n`);

const results = [];
for (const s of SHAPES) {
  const r = rng(s.n * 131 + s.cin * 7 + s.cout);
  const { oh, ow, padTop, padLeft, geom } = bn.convGeometry(s.h, s.w, s.k, s.k, [s.stride, s.stride], s.padding);
  const bp = bn.paddedBatch(s.n);
  const params = Int32Array.from([s.n, s.h, s.w, s.cin, s.k, s.k, s.cout, oh, ow, s.stride, s.stride, 1, 1, padTop, padLeft]);
  const size = s.k * s.k * s.cin * s.cout;
  const xN = Float32Array.from({ length: s.n * s.h * s.w * s.cin }, () => r() * 2 - 1);
  const dyN = Float32Array.from({ length: s.n * oh * ow * s.cout }, () => r() * 2 - 1);
  const x = bn.toChannelMajor(xN, s.n, s.h, s.w, s.cin);
  const dy = bn.toChannelMajor(dyN, s.n, oh, ow, s.cout);
  const full = Float32Array.from({ length: size }, () => r() * 2 - 1);
  // Dense (masked) path: the masked filter at each density (its cost does not depend on it), timed in the same
  // repetitions as the sparse passes (interleaved), so a change of machine load hits both sides of a ratio.
  const yN = new Float32Array(s.n * oh * ow * s.cout);
  const dxN = new Float32Array(xN.length);
  const dfN = new Float32Array(size);
  const y = new Float32Array(s.cout * oh * ow * bp);
  const dx = new Float32Array(x.length);
  const rows = [];
  for (const d of densities) {
    const mask = Uint8Array.from({ length: size }, () => (r() < d ? 1 : 0));
    const maskedFilter = full.map((v, k) => (mask[k] ? v : 0));
    const layer = bn.sparseConvFromDense(full, mask, s.k, s.k, s.cin, s.cout, { relu: true });
    const grad = new Float32Array(bn.convNnzOf(layer));
    const t = timePasses([
      () => addon.conv2d(xN, maskedFilter, yN, params),
      () => addon.conv2dBackpropInput(dyN, maskedFilter, dxN, params),
      () => addon.conv2dBackpropFilter(xN, dyN, dfN, params),
      () => conv.sparseConvForward(layer, geom, x, y, bp),
      () => conv.sparseConvBackwardInput(layer, geom, dy, null, dx, bp),
      () => conv.sparseConvWeightGrad(layer, geom, dy, x, grad, bp),
    ]);
    const dense = t.slice(0, 3);
    const sp = t.slice(3);
    const denseTotal = dense[0] + dense[1] + dense[2];
    const total = sp[0] + sp[1] + sp[2];
    rows.push({ density: d, nnz: bn.convNnzOf(layer), dense, denseTotal, sparse: sp, sparseTotal: total, ratio: denseTotal / total });
  }
  const dense = [0, 1, 2].map((i) => median(rows.map((row) => row.dense[i])));
  const denseTotal = median(rows.map((row) => row.denseTotal));
  // Crossover: first density interval where the ratio falls through 1, interpolated linearly.
  let crossover = null;
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1];
    const b = rows[i];
    if (a.ratio >= 1 && b.ratio < 1) {
      // Interpolates the ratio (each measured against its own dense time) linearly in density.
      crossover = a.density + ((a.ratio - 1) / (a.ratio - b.ratio)) * (b.density - a.density);
      break;
    }
  }
  const crossText =
    crossover !== null
      ? `${(crossover * 100).toFixed(1)} %`
      : rows.length && rows[0].ratio < 1
        ? `< ${(rows[0].density * 100).toFixed(0)} %`
        : `> ${(rows[rows.length - 1].density * 100).toFixed(0)} %`;
  const fmt = (v) => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  console.log(`${s.label}: dense (masked, median over the densities) ${fmt(denseTotal)} ms = fwd ${fmt(dense[0])} + dX ${fmt(dense[1])} + dW ${fmt(dense[2])}; crossover ${crossText}`);
  for (const row of rows) {
    console.log(
      `  ${String((row.density * 100).toFixed(0)).padStart(3)} %  nnz ${String(row.nnz).padStart(7)}  dense ${fmt(row.denseTotal).padStart(7)} ms  sparse ${fmt(row.sparseTotal).padStart(7)} ms ` +
        `(fwd ${fmt(row.sparse[0])}, dX ${fmt(row.sparse[1])}, dW ${fmt(row.sparse[2])})  ratio ${row.ratio.toFixed(2)}×`,
    );
  }
  results.push({ ...s, oh, ow, dense, denseTotal, rows, crossover });
}
// A whole LeNet-5-Caffe SGD step, batch 100: the masked step as tfjs ops on the `native` backend (forward,
// tf.variableGrads, SGD Nesterov + weight decay as tf ops, weights × mask) against SparseCnnStep (sparse conv,
// channel-major pooling, sparse Dense, SGD of the nonzeros), interleaved per repetition.
const steps = [];
if (!argv.includes('--no-step') && (!only || only === 'lenet')) {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-layers');
  const fast = await bn.registerFastBackends();
  if (!fast.available.includes('native') || !(await tf.setBackend('native'))) {
    console.log(`\nLeNet-5 step skipped: native tfjs backend unavailable (${fast.reasons.native})`);
  } else {
    addon.setThreads(threads);
    const cnn = bn.sparseCnnAddonOf(addon);
    const SHAPES = { conv1: [5, 5, 1, 20], conv2: [5, 5, 20, 50], fc3: [800, 500], fc4: [500, 10] };
    const names = Object.keys(SHAPES);
    const sgd = { lr: 0.01, momentum: 0.9, weightDecay: 5e-4, nesterov: true };
    const batch = 100;
    const r = rng(5);
    const x = Float32Array.from({ length: batch * 784 }, () => r());
    const labels = Int32Array.from({ length: batch }, () => Math.floor(r() * 10));
    console.log(`\nLeNet-5-Caffe SGD step, batch ${batch} (${useCpu ? 'process CPU time' : 'wall'}, median of ${reps} after a warm-up):`);
    for (const d of densities.filter((v) => v <= 0.2)) {
      const masks = {};
      const weights = {};
      const biases = {};
      for (const n of names) {
        const size = SHAPES[n].reduce((a, b) => a * b, 1);
        const bound = 1 / Math.sqrt((size / SHAPES[n][SHAPES[n].length - 1]) * d);
        masks[n] = Uint8Array.from({ length: size }, () => (r() < d ? 1 : 0));
        weights[n] = Float32Array.from(masks[n], (m) => (m ? (r() * 2 - 1) * bound : 0));
        biases[n] = new Float32Array(SHAPES[n][SHAPES[n].length - 1]);
      }
      // Masked: dense variables, gradients of every weight, SGD as tf ops, re-masked.
      const vars = {};
      const bufs = {};
      const maskT = {};
      for (const n of names) {
        vars[`${n}.w`] = tf.variable(tf.tensor(weights[n], SHAPES[n]));
        vars[`${n}.b`] = tf.variable(tf.tensor1d(biases[n]));
        maskT[n] = tf.tensor(Float32Array.from(masks[n]), SHAPES[n]);
      }
      const xT = tf.tensor4d(x, [batch, 28, 28, 1]);
      const onehot = tf.oneHot(tf.tensor1d(labels, 'int32'), 10);
      const maskedStep = () => {
        const { value, grads } = tf.variableGrads(() =>
          tf.tidy(() => {
            let h = tf.maxPool(tf.relu(tf.add(tf.conv2d(xT, vars['conv1.w'], 1, 'valid'), vars['conv1.b'])), 2, 2, 'valid');
            h = tf.maxPool(tf.relu(tf.add(tf.conv2d(h, vars['conv2.w'], 1, 'valid'), vars['conv2.b'])), 2, 2, 'valid');
            const hidden = tf.relu(tf.add(tf.matMul(tf.reshape(h, [batch, 800]), vars['fc3.w']), vars['fc3.b']));
            const logits = tf.add(tf.matMul(hidden, vars['fc4.w']), vars['fc4.b']);
            return tf.losses.softmaxCrossEntropy(onehot, logits);
          }),
        );
        value.dataSync();
        tf.tidy(() => {
          for (const [key, v] of Object.entries(vars)) {
            const g = tf.add(grads[v.name], tf.mul(v, sgd.weightDecay));
            const buf = bufs[key] ? tf.add(tf.mul(bufs[key], sgd.momentum), g) : g;
            const upd = tf.add(g, tf.mul(buf, sgd.momentum));
            let next = tf.sub(v, tf.mul(upd, sgd.lr));
            if (key.endsWith('.w')) next = tf.mul(next, maskT[key.slice(0, -2)]);
            v.assign(next);
            if (bufs[key]) bufs[key].dispose();
            bufs[key] = tf.keep(buf);
          }
        });
        tf.dispose([value, ...Object.values(grads)]);
      };
      const stage = (n, cin, cout, inH) => ({
        layer: bn.sparseConvFromDense(weights[n], masks[n], 5, 5, cin, cout, { bias: Float32Array.from(biases[n]), relu: true }),
        inH,
        inW: inH,
        padding: 'valid',
        pool: true,
      });
      const net = new bn.SparseCnnStep(
        cnn,
        [stage('conv1', 1, 20, 28), stage('conv2', 20, 50, 12)],
        [
          bn.sparseLayerFromDense(bn.channelMajorRows(weights.fc3, 50, 4, 4, 500), bn.channelMajorRows(masks.fc3, 50, 4, 4, 500), 800, 500, { bias: Float32Array.from(biases.fc3), relu: true }),
          bn.sparseLayerFromDense(weights.fc4, masks.fc4, 500, 10, { bias: Float32Array.from(biases.fc4) }),
        ],
      );
      const [masked, sparse] = timePasses([maskedStep, () => net.step(x, labels, batch, sgd)]);
      tf.dispose([...Object.values(vars), ...Object.values(bufs), ...Object.values(maskT), xT, onehot]);
      steps.push({ density: d, masked, sparse, ratio: masked / sparse });
      console.log(`  ${String((d * 100).toFixed(0)).padStart(3)} %  masked ${masked.toFixed(2)} ms  sparse ${sparse.toFixed(2)} ms  ratio ${(masked / sparse).toFixed(2)}×`);
    }
  }
}

console.log(`\nload average after the run: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
if (jsonPath) {
  writeFileSync(jsonPath, `${JSON.stringify({ date: new Date().toISOString(), commit, threads, reps, cpu: cpuName, results, steps }, null, 2)}\n`);
  console.log(`wrote ${jsonPath}`);
}
