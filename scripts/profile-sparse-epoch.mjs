#!/usr/bin/env node
// Where one sparse-execution epoch goes (issue 9): one real 540-step MNIST epoch of the runner's sparse
// execution, every phase timed in process CPU time (and wall time): batch assembly, the read-back of the batch,
// the native step, the JavaScript around it, validation + test evaluation, the epoch-end mask update (the
// strategies vs the compact <-> dense conversion), the write-back into the session (masks at the epoch end,
// weights/momentum for the checkpoint). The same loops as the runner's `trainEpoch` / `closeEpoch` and as
// `npm run bench -- --sparse` (whose "sparse epoch" is the steps + the epoch-end mask update, no evaluation).
//
//   TSX_TSCONFIG_PATH=tsconfig.json SPARSE_LEARNING_NATIVE_THREADS=1 OPENBLAS_NUM_THREADS=1 \
//     node --import tsx scripts/profile-sparse-epoch.mjs [--model=set-mlp] [--preset=set] [--density=0.01] [--window=64] [--tensors]
// --tensors: batches as tensors read back by the step (the runner's path before `stepOn`/`evaluateSplit`).
import os from 'node:os';

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : dflt;
};
const model = opt('model', 'set-mlp');
const preset = opt('preset', 'set');
const density = Number(opt('density', '0.01'));
const window = Number(opt('window', '64'));

await import('@tensorflow/tfjs-layers');
const experiment = await import('../packages/runner/src/run/experiment.ts');
const { resolveConfig } = await import('../packages/runner/src/config/resolve.ts');
const execution = await import('../packages/runner/src/run/sparse-execution.ts');
const { identityOrder, splitBatches } = await import('../packages/runner/src/run/batches.ts');
const { batchIndices } = await import('@sparse-learning/datasets');
const core = await import('@sparse-learning/core');

const STEPS = 540;
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const totals = new Map();
/** Adds the CPU and wall time of `f()` to phase `name`; returns f's result. */
function timed(name, f) {
  const c0 = cpuMs();
  const t0 = performance.now();
  try {
    return f();
  } finally {
    const t = totals.get(name) ?? { cpu: 0, wall: 0, calls: 0 };
    t.cpu += cpuMs() - c0;
    t.wall += performance.now() - t0;
    t.calls++;
    totals.set(name, t);
  }
}

const values = { preset, model, density, epochs: 2, maxBatches: STEPS, backend: 'native', seed: 1 };
const { config } = resolveConfig({ name: 'profile', values });
const s = await experiment.prepareExperiment({ config });
const exec = execution.createExecution(s, execution.chooseExecution(s, 'sparse'), core.silentLogger, window);
const trainer = exec.trainer;

// Hooks on the sparse execution's parts (JavaScript-private, reachable at run time).
const sparse = exec.sparse;
const addon = sparse.addon;
sparse.addon = new Proxy(addon, {
  get(target, key) {
    const v = target[key];
    if (typeof v !== 'function') return v;
    if (key === 'sparseMlpStep') return (...args) => timed(args[4] ? 'native step' : 'native eval forward', () => v.apply(target, args));
    if (key === 'sparseMlpDenseMomentum') return (...args) => timed('native dense-gradient window', () => v.apply(target, args));
    return v.bind(target);
  },
});
if (sparse.maskUpdater) {
  const updater = sparse.maskUpdater;
  const update = updater.update.bind(updater);
  sparse.maskUpdater = Object.assign(Object.create(updater), { requires: updater.requires, update: (i) => timed('mask update: strategies + engine (MaskUpdater.update)', () => update(i)) });
}
const updateMasks = sparse.updateMasks.bind(sparse);
sparse.updateMasks = () => timed('mask update: total (conversions + strategies + plan)', updateMasks);
if (exec.syncMasks) {
  const syncMasks = exec.syncMasks.bind(exec);
  exec.syncMasks = () => timed('write-back: masks into the session', syncMasks);
}

const c0 = cpuMs();
const t0 = performance.now();
const epoch = 1;
const order = s.dataset.train.epochOrder(s.dataOrderRng(epoch), true);
for (let b = 0; b < STEPS; b++) {
  const indices = batchIndices(order, b, config.batchSize);
  if (trainer.stepOn && !argv.includes('--tensors')) {
    timed('train step (total, incl. batch assembly into arrays)', () => trainer.stepOn(s.dataset.train, indices, s.augmentRng(epoch, b)));
    continue;
  }
  const batch = timed('batch assembly (tensors)', () => s.dataset.train.batch(indices, s.augmentRng(epoch, b)));
  timed('batch read-back (dataSync)', () => {
    // The step reads the batch back itself (every dataSync copies out of the wasm heap): one extra copy here
    // measures that share of the step.
    batch.inputs.dataSync();
    batch.labels.dataSync();
  });
  timed('train step (total, incl. one read-back)', () => trainer.step(batch));
  batch.inputs.dispose();
  batch.labels.dispose();
}
const stepsCpu = cpuMs() - c0;
const stepsWall = performance.now() - t0;
const evalLimit = Number.POSITIVE_INFINITY;
timed('evaluation: validation + test (total)', () => {
  if (trainer.evaluateSplit && !argv.includes('--tensors')) {
    if (s.dataset.validation) trainer.evaluateSplit(s.dataset.validation, config.testBatchSize, evalLimit, s.validationRng(epoch));
    trainer.evaluateSplit(s.dataset.test, config.testBatchSize, evalLimit);
    return;
  }
  if (s.dataset.validation) trainer.evaluate(splitBatches(s.dataset.validation, identityOrder(s.dataset.validation.size), config.testBatchSize, evalLimit, s.validationRng(epoch)));
  trainer.evaluate(splitBatches(s.dataset.test, identityOrder(s.dataset.test.size), config.testBatchSize, evalLimit));
});
timed('epoch end (trainer.endEpoch: mask update + mask write-back)', () => trainer.endEpoch({}));
timed('write-back for the checkpoint (sync)', () => exec.sync());
timed('checkpoint tensors captured (masks read, weights/momentum read)', () => {
  s.masking?.readMasks();
  for (const v of s.model.variables) v.variable.dataSync();
});

const rows = [...totals].map(([name, t]) => ({ name, ...t }));
console.log(`profile of one sparse epoch — ${model}, ${preset}, ${density * 100} %, window ${window}; ${os.cpus()[0]?.model}; load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}; ${new Date().toISOString()}`);
console.log(`steps loop: ${STEPS} steps, ${(stepsCpu / 1000).toFixed(3)} s CPU (${(stepsWall / 1000).toFixed(3)} s wall)`);
for (const r of rows) console.log(`  ${r.name.padEnd(66)} ${r.cpu.toFixed(0).padStart(7)} ms CPU ${r.wall.toFixed(0).padStart(7)} ms wall  ${String(r.calls).padStart(5)} calls`);
console.log(`PROFILE ${JSON.stringify({ model, preset, density, window, stepsCpu, stepsWall, rows })}`);
s.dispose();
