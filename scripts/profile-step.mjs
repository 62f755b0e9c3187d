#!/usr/bin/env node
// Profile of one LeNet-300-100 training step on a backend (issue 10, deliverable 3): kernels per step by
// name (tf.profile), and the median wall / CPU time of the step. The same set-up as scripts/bench.mjs
// (SparseTrainer + @sparse-learning/models, Sparse Momentum 5 % or dense, SGD Nesterov 0.9 + wd 5e-4).
//
//   TSX_TSCONFIG_PATH=tsconfig.json node --import tsx scripts/profile-step.mjs [--backend=native|cpu|wasm] [--model=lenet300-100] [--dense]
//        [--steps=200] [--batch=100] [--kernels] [--shapes] [--unfused]
// --shapes (with --kernels): one line per kernel name and input shapes (e.g. each convolution shape of WRN-16-8);
// set SPARSE_LEARNING_NATIVE_LAZY=0 so deferred outputs (input gradients) are timed in their own kernel.
// --eval: the evaluation forward pass instead (model.predict on the batch, no gradients; lenet5-step).
// --unfused: `fused: false` models (tfjs-layers executor, composite loss) and the SGD update followed by
// the separate mask multiply: the launches before issue 10 (the addon's SGD loop is the new one either way).
// Run under `node --cpu-prof --cpu-prof-dir=<dir>` for a JavaScript CPU profile of the timed steps.
import os from 'node:os';

const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : dflt;
};
const flag = (name) => argv.includes(`--${name}`);
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const tf = await import('@tensorflow/tfjs-core');
await import('@tensorflow/tfjs-layers');
const bn = await import('@sparse-learning/backend-native');
const core = await import('@sparse-learning/core');
const models = await import('@sparse-learning/models');
const prune = await import('@sparse-learning/prune');
const redistribution = await import('@sparse-learning/redistribution');
const growth = await import('@sparse-learning/growth');

const backend = opt('backend', 'native');
if (backend === 'native') {
  const fast = await bn.registerFastBackends();
  if (!fast.available.includes('native')) throw new Error(fast.reasons.native);
  console.log(fast.reasons.native);
}
if (!(await tf.setBackend(backend))) throw new Error(`setBackend(${backend}) failed`);
const dense = flag('dense');
const batch = Number(opt('batch', 100));
const modelId = opt('model', 'lenet300-100');
const rng = core.createRng('profile');
const unfused = flag('unfused');
const model = models.createModel(modelId, { seed: 1, fused: !unfused });
const masking = dense ? null : new core.Masking(model.variables);
masking?.initialize(new core.UniformExactDistribution(), 0.05, rng.fork('mask-init'));
const optimizer = new core.SgdOptimizer({ learningRate: 0.01, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
if (unfused) optimizer.applyGradientsMasked = undefined; // own property shadows the method: the trainer's two calls
const trainer = new core.SparseTrainer({
  model,
  optimizer,
  masking,
  maskUpdater: dense ? null : new core.MaskUpdater(new prune.MagnitudePrune(), new redistribution.MomentumRedistribution(), new growth.MomentumGrowth()),
  pruneRateSchedule: new core.CosineDecaySchedule({ initial: 0.5, totalSteps: 54000, etaMin: 0.005 }),
  learningRateSchedule: new core.StepLrSchedule({ initial: 0.01, stepSize: 25000, gamma: 0.1 }),
  trigger: new core.EpochEndTrigger(),
  rng: rng.fork('train'),
  epochs: 100,
  stepsPerEpoch: 540,
});
const batches = [0, 1].map((i) => ({
  inputs: tf.randomNormal([batch, ...model.inputShape], 0, 1, 'float32', 11 + i),
  labels: tf.randomUniform([batch], 0, 10, 'int32', 23 + i),
}));
const evaluate = flag('eval');
// One timed unit: a training step, or (--eval) the inference forward pass of the batch, read back like the
// runner's evaluation does.
const run = (b) => {
  if (!evaluate) return trainer.step(b);
  const out = model.predict(b.inputs);
  out.dataSync();
  out.dispose();
};
for (let i = 0; i < 5; i += 1) run(batches[i % 2]);
if (flag('kernels')) {
  const info = await tf.profile(() => {
    run(batches[0]);
  });
  const byName = new Map();
  const shapes = flag('shapes');
  let total = 0;
  for (const k of info.kernels) {
    const key = shapes ? `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join(' ')}` : k.name;
    // Scopes (`fusedConv2d__op`, custom gradients) contain kernels listed on their own: not added twice.
    if (!k.name.endsWith('__op') && !k.name.includes('scope')) total += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    const e = byName.get(key) ?? { count: 0, ms: 0 };
    e.count += 1;
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    byName.set(key, e);
  }
  console.log(`kernels per step: ${info.kernels.length}; newTensors ${info.newTensors}, peakBytes ${info.peakBytes}; kernel time ${total.toFixed(1)} ms`);
  const order = shapes ? (a, b) => b[1].ms - a[1].ms : (a, b) => b[1].count - a[1].count;
  for (const [name, e] of [...byName].sort(order)) console.log(`  ${name.padEnd(28)} ${String(e.count).padStart(4)}  ${e.ms.toFixed(3)} ms`);
}
const steps = Number(opt('steps', 200));
const before = tf.memory().numTensors;
const wall = [];
const cpu = [];
for (let i = 0; i < steps; i += 1) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  run(batches[i % 2]);
  wall.push(performance.now() - t0);
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1000);
}
console.log(`${modelId}${dense ? ' dense' : ' masked 5 %'} b${batch}${evaluate ? ' eval forward' : ''} on ${backend}: median step ${median(wall).toFixed(3)} ms wall, ${median(cpu).toFixed(3)} ms CPU, fastest ${Math.min(...wall).toFixed(3)} ms; tensors ${before} -> ${tf.memory().numTensors}; load ${os.loadavg()[0].toFixed(2)}`);
