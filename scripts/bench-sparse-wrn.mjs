#!/usr/bin/env node
// `npm run bench -- --sparse-wrn` (issue 9, sparse execution of CNNs with batch norm, residual blocks and
// dropout — the graph form): the training step of a CIFAR-10 model of the zoo (default WRN-16-8; `--model=vgg-d`,
// `vgg-like`, `alexnet-s`, … measure the other graph-form models) under the CIFAR-10 recipe (Sparse Momentum, SGD
// Nesterov, the model's dropout, `native` backend), masked vs sparse execution, one and two threads, in one run. Each measurement
// runs in a fresh child process (`node --import tsx`, TypeScript sources) so its peak RSS is its own; the data
// are generated CIFAR-10 binary files (random pixels: the cost of a step does not depend on them).
//
//   masked  the runner's masked execution (core's SparseTrainer: dense tensors × masks) at 5 % — its cost does not
//           depend on the density: median of --steps steps after one warm-up, then one Sparse Momentum mask update
//   sparse  the runner's sparse execution (SparseGraphTrainer) at each density: one warm-up, --steps steps outside
//           the dense-gradient window, --steps steps inside it (dense filter gradients + dense momentum for
//           growth), then the epoch-end Sparse Momentum mask update; the profile of the plain steps (layout
//           conversions, sparse conv kernels, the rest: BN, ReLU, dropout, adds, pooling, fc, optimizer)
//   epoch   ⌈50 000 / batch⌉ steps (391 at batch 128, 1563 at 32): masked steps × step + update; sparse
//           (steps − 64) × step + 64 × window step + update
//
//   node scripts/bench-sparse-wrn.mjs [--model=wrn-16-8] [--batch=32] [--steps=3] [--densities=0.02,0.05,0.1,0.2] [--threads=1,2] [--json=path]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { optionReader, runChild, runUnderTsx, serveChild } from './bench-common.mjs';

runUnderTsx(import.meta.url, 'SL_BENCH_SPARSE_WRN_TSX');
const argv = process.argv.slice(2);
const opt = optionReader(argv);
const steps = Number(opt('steps', 3));
const densities = opt('densities', '0.02,0.05,0.1,0.2').split(',').map(Number);
const threadCounts = opt('threads', '1,2').split(',').map(Number);
const jsonPath = opt('json', '');
const MODEL = opt('model', 'wrn-16-8');
// Batch 32 by default: the `native` backend keeps tfjs tensors in the wasm heap (4 GiB at most), and the masked
// WRN-16-8 step at the recipe's batch 128 aborts there (out of memory); 32 is BENCHMARKS.md's reference shape.
const BATCH = Number(opt('batch', 32));
// 50 000 CIFAR-10 training images per epoch (391 steps at batch 128).
const EPOCH_STEPS = Math.ceil(50_000 / BATCH);
const WINDOW = 64;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---------------------------------------------------------------------------------------------- child side

async function child(job) {
  await import('@tensorflow/tfjs-layers');
  const { prepareExperiment } = await import('../packages/runner/src/run/experiment.ts');
  const { resolveConfig } = await import('../packages/runner/src/config/resolve.ts');
  const { chooseExecution, createExecution } = await import('../packages/runner/src/run/sparse-execution.ts');
  const { batchIndices } = await import('@sparse-learning/datasets');
  const { silentLogger } = await import('@sparse-learning/core');
  const { loadNativeAddon } = await import('@sparse-learning/backend-native');
  loadNativeAddon().setThreads(job.threads);
  // Warm-up + plain steps + window steps in epoch 1; the window covers exactly the last `steps` steps.
  const perEpoch = 1 + 2 * steps;
  const values = {
    model: MODEL,
    dataset: 'cifar10',
    dataDir: job.dataDir,
    preset: 'sparse-momentum',
    density: job.density,
    epochs: 2,
    maxBatches: perEpoch,
    batchSize: BATCH,
    backend: 'native',
    seed: 1,
  };
  const s = await prepareExperiment({ config: resolveConfig({ name: 'bench', values }).config });
  const execution = createExecution(s, chooseExecution(s, job.kind), silentLogger, steps);
  const order = s.dataset.train.epochOrder(s.dataOrderRng(1), true);
  const times = [];
  let before = null;
  let after = null;
  const profile = () => ({ ...(execution.graphTrainer?.convTimings ?? {}) });
  for (let b = 0; b < (job.kind === 'masked' ? 1 + steps : perEpoch); b++) {
    if (b === 1) before = profile();
    if (b === 1 + steps) after = profile();
    const batch = s.dataset.train.batch(batchIndices(order, b, BATCH), s.augmentRng(1, b));
    s.model.setRandomKey(s.dropoutKey(1, b));
    const t0 = performance.now();
    execution.trainer.step(batch);
    times.push(performance.now() - t0);
    batch.inputs.dispose();
    batch.labels.dispose();
  }
  const t0 = performance.now();
  if (job.kind === 'masked') s.trainer.updateMasks();
  else execution.trainer.endEpoch({});
  const update = performance.now() - t0;
  const plain = median(times.slice(1, 1 + steps));
  const window = job.kind === 'masked' ? plain : median(times.slice(1 + steps));
  let split = null;
  if (before && after) {
    split = Object.fromEntries(Object.keys(after).map((k) => [k, (after[k] - before[k]) / steps]));
  }
  return { plain, window, update, rss: process.resourceUsage().maxRSS * 1024, split, times };
}

await serveChild(argv, child);

// --------------------------------------------------------------------------------------------- parent side

function run(job) {
  return runChild(import.meta.url, job, {
    args: [`--steps=${steps}`, `--batch=${BATCH}`, `--model=${MODEL}`],
    env: { SPARSE_LEARNING_NATIVE_THREADS: String(job.threads) },
  });
}

const { writeCifarFiles } = await import('../packages/runner/src/test/cifar-files.ts');
const tmp = mkdtempSync(join(os.tmpdir(), 'sl-bench-wrn-'));
// 5 files × 260 records: enough for (1 + 2·steps) batches of 128 after the 10 % validation split.
const dataDir = writeCifarFiles(join(tmp, 'data'), Math.max(60, Math.ceil((BATCH * (1 + 2 * steps) * 1.12) / 5)), 100);
const started = new Date();
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
console.log(`sparse-learning bench --sparse-wrn — node ${process.version}, ${os.cpus().length} cores, ${started.toISOString()}, load average ${load()}`);
console.log(`${MODEL}, CIFAR-10 recipe but batch ${BATCH} (Sparse Momentum, Nesterov, the model's dropout), native backend; median of ${steps} steps per figure, each config in its own process\n`);
const rows = [];
const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
const mb = (b) => `${(b / 2 ** 20).toFixed(0)} MB`;
try {
  for (const threads of threadCounts) {
    const masked = run({ kind: 'masked', density: 0.05, threads, dataDir });
    const maskedEpoch = EPOCH_STEPS * masked.plain + masked.update;
    console.log(`threads ${threads}: masked step ${fmt(masked.plain)} (any density), mask update ${fmt(masked.update)}, epoch ≈ ${fmt(maskedEpoch)}, peak RSS ${mb(masked.rss)}  [load ${load()}]`);
    console.log(`| density | sparse step | masked / sparse | window step | epoch (${EPOCH_STEPS} steps, 64-step window) | epoch ratio | mask update | peak RSS | step profile: transposes / conv kernels / rest |`);
    console.log('|---|---|---|---|---|---|---|---|---|');
    for (const density of densities) {
      const sparse = run({ kind: 'sparse', density, threads, dataDir });
      const epoch = (EPOCH_STEPS - WINDOW) * sparse.plain + WINDOW * sparse.window + sparse.update;
      const p = sparse.split;
      const kernels = p.forward + p.inputGradient + p.weightGradient;
      const rest = sparse.plain - p.transpose - kernels;
      console.log(
        `| ${density * 100} % | ${fmt(sparse.plain)} | **${(masked.plain / sparse.plain).toFixed(2)}×** | ${fmt(sparse.window)} | ${fmt(epoch)} | ${(maskedEpoch / epoch).toFixed(2)}× | ${fmt(sparse.update)} | ${mb(sparse.rss)} | ${fmt(p.transpose)} / ${fmt(kernels)} / ${fmt(rest)} |`,
      );
      rows.push({ threads, density, masked, sparse, maskedEpoch, epoch });
    }
    console.log(`[load ${load()}]\n`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (jsonPath) writeFileSync(jsonPath, JSON.stringify({ model: MODEL, batch: BATCH, started, steps, rows }, null, 2));
