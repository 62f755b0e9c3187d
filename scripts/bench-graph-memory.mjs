#!/usr/bin/env node
// Memory of the graph form in sparse execution (issue 9: WideResNets, VGG): where the weight state lives and what
// a run's process holds, for the masked execution, the sparse execution with the dense model kept beside the
// trainer (`--sparse-state dense`, the earlier form) and the compact graph session (`--sparse-state auto`: conv
// filters, their masks and momentum released once the SparseGraphTrainer is bound). Each mode runs in a fresh
// child process (`node --import tsx`, TypeScript sources) so its peak RSS is its own; generated CIFAR-10 files.
//
// Per mode: the session is prepared (as `train` prepares it) and bound, then --steps steps outside the
// dense-gradient window, --steps inside it (window = --steps), the epoch end (Sparse Momentum's mask update) and
// the write-back the run loop does before its checkpoint (`sync`). Reported:
//   tf bytes      tf.memory().numBytes after binding / after the update (every live TF.js tensor: weights, masks,
//                 optimizer slots, BN statistics — the weight state; activations are freed after each step)
//   compact       the sparse trainer's compact conv layers (values, indices, momentum per nonzero: the weight
//                 state) and, after the update, its other buffers (the sparse conv ops' activation work buffers,
//                 sized by the batch; open dense-gradient window buffers) — execution.compactBytes minus the layers
//   JS buffers    process.memoryUsage().arrayBuffers after the update, after a full GC (Float32Arrays: compact layers, window
//                 buffers, optimizer slots restored as plain arrays by the dense form's write-back)
//   wasm heap     the native (wasm-based) backend's heap size after the run: its high-water mark (it never shrinks)
//   RSS           process RSS right after binding, and the peak (process.resourceUsage().maxRSS)
//
//   node scripts/bench-graph-memory.mjs [--model=wrn-16-8] [--density=0.05] [--batch=32] [--steps=3] [--threads=2] [--modes=masked,dense,compact] [--json=path]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { optionReader, runChild, runUnderTsx, serveChild } from './bench-common.mjs';

runUnderTsx(import.meta.url, 'SL_BENCH_GRAPH_MEMORY_TSX', ['--expose-gc']);
const argv = process.argv.slice(2);
const opt = optionReader(argv);
const MODEL = opt('model', 'wrn-16-8');
const DENSITY = Number(opt('density', 0.05));
const BATCH = Number(opt('batch', 32));
const steps = Number(opt('steps', 3));
const threads = Number(opt('threads', 2));
const jsonPath = opt('json', '');
const MODES = opt('modes', 'masked,dense,compact').split(',');

// ---------------------------------------------------------------------------------------------- child side

async function child(job) {
  await import('@tensorflow/tfjs-layers');
  const tf = await import('@tensorflow/tfjs-core');
  const { resolveConfig } = await import('../packages/runner/src/config/resolve.ts');
  const { prepareRunSession } = await import('../packages/runner/src/run/sparse-compact-session.ts');
  const { bindCompactGraph } = await import('../packages/runner/src/run/sparse-compact-graph.ts');
  const { chooseExecution, createExecution } = await import('../packages/runner/src/run/sparse-execution.ts');
  const { batchIndices } = await import('@sparse-learning/datasets');
  const { silentLogger } = await import('@sparse-learning/core');
  const { loadNativeAddon, sparseConvLayerBytes } = await import('@sparse-learning/backend-native');
  loadNativeAddon().setThreads(job.threads);
  const perEpoch = 2 * steps;
  const values = {
    model: MODEL,
    dataset: 'cifar10',
    dataDir: job.dataDir,
    preset: 'sparse-momentum',
    density: DENSITY,
    epochs: 2,
    maxBatches: perEpoch,
    batchSize: BATCH,
    backend: 'native',
    seed: 1,
    execution: job.mode === 'masked' ? 'masked' : 'sparse',
    sparseState: job.mode === 'compact' ? 'auto' : 'dense',
    denseGradWindow: steps,
  };
  const s = await prepareRunSession({ config: resolveConfig({ name: 'bench', values }).config });
  let execution;
  let dense;
  if ('kind' in s) {
    if (s.kind !== 'compact-graph') throw new Error(`expected a compact graph session, got '${s.kind}'`);
    execution = bindCompactGraph(s, s.choice, silentLogger);
    dense = s.dense;
  } else {
    execution = createExecution(s, chooseExecution(s, values.execution), silentLogger, steps);
    dense = s;
  }
  const heap = () => tf.backend().wasm?.HEAPF32?.buffer.byteLength ?? null;
  // Collected before each reading, so that the JS buffers counted are the live ones (not the garbage of the
  // bind or of the mask update's dense views): V8 frees ArrayBuffer backing stores after a GC, off the main
  // thread, so a few rounds with a pause between them.
  const gc = async () => {
    for (let k = 0; k < 3; k++) {
      globalThis.gc?.();
      await new Promise((done) => setTimeout(done, 100));
    }
  };
  await gc();
  const graphTrainer = 'kind' in s ? s.trainer : execution.graphTrainer;
  const layerBytes = () => (graphTrainer ? graphTrainer.convs.reduce((t, c) => t + sparseConvLayerBytes(c.layer), 0) : 0);
  const bound = { tfBytes: tf.memory().numBytes, layers: layerBytes(), other: (execution.compactBytes?.() ?? 0) - layerBytes(), rss: process.memoryUsage().rss };
  const order = s.dataset.train.epochOrder(s.dataOrderRng(1), true);
  let stepBytes = 0;
  for (let b = 0; b < perEpoch; b++) {
    const batch = s.dataset.train.batch(batchIndices(order, b, BATCH), s.augmentRng(1, b));
    dense.model.setRandomKey(s.dropoutKey(1, b));
    execution.trainer.step(batch);
    batch.inputs.dispose();
    batch.labels.dispose();
    stepBytes = Math.max(stepBytes, tf.memory().numBytes);
  }
  const event = execution.trainer.endEpoch({});
  execution.sync();
  await gc();
  const usage = process.memoryUsage();
  const after = {
    tfBytes: tf.memory().numBytes,
    layers: layerBytes(),
    other: (execution.compactBytes?.() ?? 0) - layerBytes(),
    arrayBuffers: usage.arrayBuffers,
    rss: usage.rss,
  };
  const active = s.layerMetrics().reduce((t, m) => t + m.active, 0);
  return { bound, stepBytes, after, wasmHeap: heap(), peakRss: process.resourceUsage().maxRSS * 1024, active, updated: event !== null };
}

await serveChild(argv, child);

// --------------------------------------------------------------------------------------------- parent side

function run(job) {
  return runChild(import.meta.url, job, {
    nodeArgs: ['--expose-gc'],
    args: argv.filter((a) => !a.startsWith('--json=')),
    env: { SL_BENCH_GRAPH_MEMORY_TSX: '1', SPARSE_LEARNING_NATIVE_THREADS: String(job.threads) },
  });
}

const { writeCifarFiles } = await import('../packages/runner/src/test/cifar-files.ts');
const tmp = mkdtempSync(join(os.tmpdir(), 'sl-bench-graph-memory-'));
const dataDir = writeCifarFiles(join(tmp, 'data'), Math.max(60, Math.ceil((BATCH * 2 * steps * 1.12) / 5)), 100);
const started = new Date();
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const mb = (b) => (b === null ? '—' : `${(b / 1e6).toFixed(1)} MB`);
console.log(`sparse-learning bench graph memory — node ${process.version}, ${os.cpus().length} cores, ${started.toISOString()}, load average ${load()}`);
console.log(`${MODEL} at ${DENSITY * 100} %, batch ${BATCH}, Sparse Momentum, native backend, ${threads} thread(s); ${steps} steps + ${steps} window steps + mask update + write-back, each mode in its own process\n`);
console.log('| mode | tf bytes after binding | compact layers after binding | tf bytes after the update | compact layers after the update | other trainer buffers after | JS buffers after | wasm heap | RSS after binding | peak RSS |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
const rows = {};
try {
  for (const mode of MODES) {
    const r = run({ mode, threads, dataDir });
    rows[mode] = r;
    const label = mode === 'masked' ? 'masked' : mode === 'dense' ? 'sparse, `--sparse-state dense`' : 'sparse, compact (`auto`)';
    console.log(
      `| ${label} | ${mb(r.bound.tfBytes)} | ${mb(r.bound.layers)} | ${mb(r.after.tfBytes)} | ${mb(r.after.layers)} | ${mb(r.after.other)} | ${mb(r.after.arrayBuffers)} | ${mb(r.wasmHeap)} | ${mb(r.bound.rss)} | ${mb(r.peakRss)} |`,
    );
  }
  console.log(`\nactive weights after the update: ${MODES.map((m) => `${m} ${rows[m].active}`).join(', ')}; load average ${load()}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
if (jsonPath) writeFileSync(jsonPath, JSON.stringify({ started, model: MODEL, density: DENSITY, batch: BATCH, steps, threads, rows }, null, 2));
