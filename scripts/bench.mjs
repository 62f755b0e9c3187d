#!/usr/bin/env node
// `npm run bench`: training speed of the real stack on each TensorFlow.js backend of this machine (issue 6,
// item 4). No build step: children run the TypeScript sources under `node --conditions=source --import tsx`
// (as scripts/golden.mjs does).
//
// What one run measures, each backend configuration in a fresh child process (the wasm overrides are global
// to a process, and a fresh heap keeps configurations independent):
//   configs: cpu | wasm (stock) | wasm+overrides (gradient overrides + composite kernels) | native
//            (+ optional native-1t: the native backend with one addon/OpenBLAS thread, for loaded machines)
//   models:  createModel('lenet300-100' | 'lenet5') at batch 100, createModel('wrn-16-8') at batch 32, from
//            @sparse-learning/models, trained by core's SparseTrainer with Sparse Momentum at 5 % density
//            (Masking + UniformExactDistribution, MaskUpdater(MagnitudePrune, MomentumRedistribution,
//            MomentumGrowth), SGD Nesterov 0.9 + wd 5e-4, CosineDecay prune rate 0.5, StepLR, EpochEndTrigger)
//   per model: median `trainer.step()` time (forward, backward, optimizer, masking; synchronous: the step
//            reads the loss) and, for the LeNets, the median of `trainer.updateMasks()` as a share of an
//            epoch (540 steps × median step time)
//   GEMM:    GFLOP/s of the native addon at 100×784×300 and 1024³ (each build found)
//
//   node scripts/bench.mjs [--quick] [--steps=N] [--no-wrn] [--cpu-cnn] [--configs=a,b,...] [--json=path]
//
// Very slow combinations are limited, with a note in the output: cpu LeNet-5 only with --cpu-cnn (one step,
// ~1 min), cpu WRN-16-8 never (minutes per step); wasm+overrides WRN-16-8 one step without warm-up.
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'packages/backend-native');
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name, dflt) => {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : dflt;
};

const CONFIGS = ['cpu', 'wasm', 'wasm+overrides', 'native'];
const KNOWN_CONFIGS = [...CONFIGS, 'native-1t'];
/** Extra environment of a config's child process. */
const CONFIG_ENV = { 'native-1t': { SPARSE_LEARNING_NATIVE_THREADS: '1', OPENBLAS_NUM_THREADS: '1' } };
const MODELS = [
  { key: 'lenet300', id: 'lenet300-100', label: 'LeNet-300-100 (b100)', batch: 100, lr: 0.01, conv: false },
  { key: 'lenet5', id: 'lenet5', label: 'LeNet-5-Caffe (b100)', batch: 100, lr: 0.01, conv: true },
  { key: 'wrn16-8', id: 'wrn-16-8', label: 'WRN-16-8 (b32)', batch: 32, lr: 0.1, conv: true },
];
const STEPS_PER_EPOCH = 540; // MNIST: 54 000 training images (6 000 held out for validation) / batch 100
const EPOCHS = 100;
const DENSITY = 0.05;
const TARGETS = { lenet300: 5, lenet5: 40 };

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// ---------------------------------------------------------------------------------------------- child side
async function setUpBackend(config, bn, tf) {
  const notes = [];
  let backend = config;
  if (config === 'wasm+overrides') {
    bn.registerWasmTrainingGradients({ backends: ['wasm'] });
    bn.registerWasmCompositeKernels({ backend: 'wasm' });
    backend = 'wasm';
  } else if (config === 'native' || config === 'native-1t') {
    // Exactly what the runner gets: registerFastBackends() + the native backend.
    const fast = await bn.registerFastBackends();
    if (!fast.available.includes('native')) return { unavailable: fast.reasons.native, notes };
    notes.push(fast.reasons.native);
    backend = 'native';
  }
  if (!(await tf.setBackend(backend)) || tf.getBackend() !== backend) {
    return { unavailable: `setBackend('${backend}') failed; active: ${tf.getBackend()}`, notes };
  }
  return { backend, notes };
}

/** Limits for the slow combinations: null = skip (with the reason), else { warm, steps }. */
function plan(config, m) {
  const quick = flag('quick');
  const steps = Number(opt('steps', quick ? 8 : 30));
  if (m.key === 'wrn16-8') {
    if (flag('no-wrn')) return { skip: '--no-wrn' };
    if (config === 'cpu') return { skip: 'not run on cpu (several minutes per step)' };
    if (config.startsWith('native')) return { warm: 1, steps: quick ? 1 : 3, maskUpdates: 0 };
    return { warm: 0, steps: 1, maskUpdates: 0 }; // wasm+overrides: about a minute per step
  }
  if (config === 'cpu' && m.conv) {
    if (!flag('cpu-cnn')) return { skip: 'not run on cpu without --cpu-cnn (≈1 min per step: naive Conv2DBackpropFilter)' };
    return { warm: 0, steps: 1, maskUpdates: 1 };
  }
  if (config === 'cpu') return { warm: 1, steps: Math.min(steps, quick ? 3 : 6), maskUpdates: 3 };
  return { warm: 3, steps: m.key === 'lenet5' ? Math.max(3, Math.round(steps / 2)) : steps, maskUpdates: 5 };
}

function randomBatches(tf, m, inputShape, count) {
  return Array.from({ length: count }, (_, i) => ({
    inputs: tf.randomNormal([m.batch, ...inputShape], 0, 1, 'float32', 11 + i),
    labels: tf.randomUniform([m.batch], 0, 10, 'int32', 23 + i),
  }));
}

async function benchModel(m, p, libs) {
  const { tf, core, models, prune, redistribution, growth } = libs;
  const rng = core.createRng(`bench-${m.key}`);
  const model = models.createModel(m.id, { seed: 1 });
  const masking = new core.Masking(model.variables);
  masking.initialize(new core.UniformExactDistribution(), DENSITY, rng.fork('mask-init'));
  const optimizer = new core.SgdOptimizer({ learningRate: m.lr, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  const trainer = new core.SparseTrainer({
    model,
    optimizer,
    masking,
    maskUpdater: new core.MaskUpdater(new prune.MagnitudePrune(), new redistribution.MomentumRedistribution(), new growth.MomentumGrowth()),
    pruneRateSchedule: new core.CosineDecaySchedule({ initial: 0.5, totalSteps: EPOCHS * STEPS_PER_EPOCH, etaMin: 0.005 }),
    learningRateSchedule: new core.StepLrSchedule({ initial: m.lr, stepSize: 25000, gamma: 0.1 }),
    trigger: new core.EpochEndTrigger(),
    rng: rng.fork('train'),
    epochs: EPOCHS,
    stepsPerEpoch: STEPS_PER_EPOCH,
  });
  const batches = randomBatches(tf, m, model.inputShape, 2);
  const out = {};
  try {
    for (let i = 0; i < p.warm; i += 1) trainer.step(batches[i % 2]);
    const times = [];
    let loss = NaN;
    for (let i = 0; i < p.steps; i += 1) {
      const t0 = performance.now();
      loss = trainer.step(batches[i % 2]).loss;
      times.push(performance.now() - t0);
    }
    Object.assign(out, { medianMs: median(times), minMs: Math.min(...times), steps: times.length, loss });
    if (p.maskUpdates > 0) {
      const mt = [];
      for (let i = 0; i < p.maskUpdates; i += 1) {
        const t0 = performance.now();
        trainer.updateMasks();
        mt.push(performance.now() - t0);
      }
      out.maskUpdateMs = median(mt);
      out.activeAfterUpdate = masking.totalActive;
    }
  } catch (error) {
    out.error = String(error?.message ?? error).split('\n')[0];
  }
  tf.dispose(batches.flatMap((b) => [b.inputs, b.labels]));
  model.dispose();
  return out;
}

function benchGemm(bn) {
  const rows = [];
  const builds = [['default', bn.nativeAddonStatus()]];
  const own = join(pkg, 'build/own/sparse_native.node');
  if (existsSync(own)) builds.push(['own', bn.loadAddonFrom(own)]);
  for (const [label, status] of builds) {
    if (!status.addon) continue;
    // GEMM capability with every core, whatever thread count the load made the addon choose for training.
    const trainingThreads = status.addon.info().threads;
    status.addon.setThreads(os.cpus().length);
    for (const [M, K, N] of [[100, 784, 300], [1024, 1024, 1024]]) {
      const a = new Float32Array(M * K).map((_, i) => ((i * 7) % 13) / 13 - 0.5);
      const b = new Float32Array(K * N).map((_, i) => ((i * 5) % 11) / 11 - 0.5);
      const c = new Float32Array(M * N);
      const reps = M === 1024 ? 10 : 300;
      status.addon.gemm(false, false, M, N, K, 1, a, b, 0, c);
      const ts = [];
      for (let r = 0; r < reps; r += 1) {
        const t0 = performance.now();
        status.addon.gemm(false, false, M, N, K, 1, a, b, 0, c);
        ts.push(performance.now() - t0);
      }
      const ms = median(ts);
      rows.push({ build: label, impl: status.addon.info().gemm, shape: `${M}x${K}x${N}`, ms, gflops: (2 * M * N * K) / (ms * 1e6), threads: os.cpus().length });
    }
    status.addon.setThreads(trainingThreads);
  }
  return rows;
}

async function child(config) {
  const tf = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-layers'); // stock gradients (tfjs-core's Node entry registers none)
  const bn = await import('@sparse-learning/backend-native');
  const libs = {
    tf,
    core: await import('@sparse-learning/core'),
    models: await import('@sparse-learning/models'),
    prune: await import('@sparse-learning/prune'),
    redistribution: await import('@sparse-learning/redistribution'),
    growth: await import('@sparse-learning/growth'),
  };
  const result = { config, models: {} };
  const set = await setUpBackend(config, bn, tf);
  result.notes = set.notes;
  if (set.unavailable) {
    result.unavailable = set.unavailable;
    return result;
  }
  for (const m of MODELS) {
    const p = plan(config, m);
    result.models[m.key] = p.skip ? { skipped: p.skip } : await benchModel(m, p, libs);
  }
  if (config === 'native') result.gemm = benchGemm(bn);
  return result;
}

// --------------------------------------------------------------------------------------------- parent side
function fmt(ms) {
  if (ms === undefined || ms === null) return '—';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}

function cell(r) {
  if (!r) return '—';
  if (r.medianMs !== undefined) return fmt(r.medianMs) + (r.steps === 1 ? ' (1 step)' : '');
  if (r.skipped) return 'skipped¹';
  if (r.error) return /Conv2DBackpropFilter/.test(r.error) ? 'fails²' : 'error';
  return '—';
}

function parent() {
  const configs = opt('configs', CONFIGS.join(',')).split(',');
  const unknown = configs.filter((c) => !KNOWN_CONFIGS.includes(c));
  if (unknown.length) {
    console.error(`unknown config(s) ${unknown.join(', ')}; known: ${KNOWN_CONFIGS.join(', ')}`);
    process.exit(2);
  }
  const results = {};
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`sparse-learning bench — node ${process.version}, ${os.cpus().length} cores, load average ${load}, ${new Date().toISOString()}`);
  console.log(`Sparse Momentum ${DENSITY * 100} % (SparseTrainer + @sparse-learning/models); median training-step time; each config in its own process\n`);
  for (const config of configs) {
    const started = Date.now();
    const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', fileURLToPath(import.meta.url), `--child=${config}`, ...argv], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 1 << 26,
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2', ...(CONFIG_ENV[config] ?? {}) },
    });
    const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('BENCH_RESULT '));
    results[config] = line
      ? JSON.parse(line.slice('BENCH_RESULT '.length))
      : { config, unavailable: `child failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').filter((l) => !l.startsWith('    at ')).slice(-3).join(' | ').slice(0, 400)}` };
    console.log(`  ${config.padEnd(15)} done in ${((Date.now() - started) / 1000).toFixed(1)} s${results[config].unavailable ? ` (unavailable: ${results[config].unavailable})` : ''}`);
  }
  const m = (c, key) => results[c]?.models?.[key];
  const ratio = (slow, fast) => (slow?.medianMs && fast?.medianMs ? `${(slow.medianMs / fast.medianMs).toFixed(1)}×` : '—');
  console.log(`\n| model | ${configs.join(' | ')} | native vs cpu | native vs wasm | native vs wasm+ovr | wasm+ovr vs wasm |`);
  console.log(`|---|${configs.map(() => '---').join('|')}|---|---|---|---|`);
  for (const model of MODELS) {
    const row = configs.map((c) => cell(m(c, model.key)));
    const k = model.key;
    console.log(`| ${model.label} | ${row.join(' | ')} | ${ratio(m('cpu', k), m('native', k))} | ${ratio(m('wasm', k), m('native', k))} | ${ratio(m('wasm+overrides', k), m('native', k))} | ${ratio(m('wasm', k), m('wasm+overrides', k))} |`);
  }
  const skipped = new Map();
  const failed = new Map();
  for (const c of configs) {
    for (const [k, v] of Object.entries(results[c]?.models ?? {})) {
      if (v.skipped) skipped.set(`${c}/${k}`, v.skipped);
      if (v.error) failed.set(`${c}/${k}`, v.error);
    }
  }
  if (skipped.size) console.log(`\n¹ skipped: ${[...skipped].map(([w, why]) => `${w}: ${why}`).join('; ')}`);
  if (failed.size) console.log(`² failed: ${[...failed].map(([w, why]) => `${w}: ${why}`).join('; ')}`);

  console.log(`\nmask update (one trainer.updateMasks(), median) as a share of an epoch (${STEPS_PER_EPOCH} steps × median step):`);
  for (const model of MODELS.filter((x) => x.key !== 'wrn16-8')) {
    for (const c of configs) {
      const r = m(c, model.key);
      if (r?.maskUpdateMs === undefined || !r.medianMs) continue;
      const share = (100 * r.maskUpdateMs) / (STEPS_PER_EPOCH * r.medianMs);
      console.log(`  ${model.label.padEnd(22)} ${c.padEnd(15)} ${fmt(r.maskUpdateMs).padStart(9)} = ${share.toFixed(2)} % of ${fmt(STEPS_PER_EPOCH * r.medianMs)}${c.startsWith('native') ? (share <= 2 ? '  (target ≤ 2 %: MET)' : '  (target ≤ 2 %: not met)') : ''}`);
    }
  }

  console.log('\ntargets (PyTorch + OpenBLAS on this machine), native backend:');
  for (const c of configs.filter((x) => x.startsWith('native'))) {
    for (const [key, limit] of Object.entries(TARGETS)) {
      const r = m(c, key);
      const v = r?.medianMs;
      const verdict = v === undefined ? 'n/a' : v <= limit ? 'MET' : `not met (${(v / limit).toFixed(2)}× the target)`;
      console.log(`  ${c.padEnd(9)} ${key.padEnd(9)} ${fmt(v).padStart(9)} (fastest step ${fmt(r?.minMs)}) vs ≤ ${limit} ms: ${verdict}`);
    }
  }
  const gemm = results.native?.gemm ?? [];
  if (gemm.length) {
    console.log(`\nGEMM (native addon, ${gemm[0].threads} threads, row-major C = A·B, M×K×N, median):`);
    for (const g of gemm) console.log(`  ${g.impl.padEnd(13)} ${g.shape.padEnd(15)} ${g.ms.toFixed(3).padStart(8)} ms  ${g.gflops.toFixed(1).padStart(6)} GFLOP/s`);
    const big = gemm.find((g) => g.build === 'default' && g.shape === '1024x1024x1024');
    if (big) console.log(`  target 1024³ ≥ 100 GFLOP/s: ${big.gflops >= 100 ? 'MET' : 'not met'}`);
  }
  for (const c of configs) for (const n of results[c]?.notes ?? []) console.log(`note (${c}): ${n}`);
  console.log(`load average after the run: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const json = opt('json', '');
  if (json) writeFileSync(json, JSON.stringify(results, null, 2));
}

const childArg = argv.find((a) => a.startsWith('--child='));
if (childArg) {
  const result = await child(childArg.slice('--child='.length));
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
} else {
  parent();
}
