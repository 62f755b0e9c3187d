#!/usr/bin/env node
// `npm run bench`: training speed of the real stack on each TensorFlow.js backend of this machine (issue 6,
// item 4). No build step: children run the TypeScript sources under `node --import tsx`, which maps
// `@sparse-learning/*` to `packages/*/src` through the root tsconfig's `paths` (as scripts/golden.mjs does).
//
// What one run measures, each backend configuration in a fresh child process (the wasm overrides are global
// to a process, and a fresh heap keeps configurations independent):
//   configs: cpu | wasm (stock) | wasm+overrides (gradient overrides + composite kernels) | native
//            (+ optional native-1t: the native backend with one addon/OpenBLAS thread, for loaded machines)
//   models:  createModel('lenet300-100' | 'lenet5') at batch 100, createModel('wrn-16-8') at batch 32, from
//            @sparse-learning/models, trained by core's SparseTrainer with Sparse Momentum at 5 % density
//            (Masking + UniformExactDistribution, MaskUpdater(MagnitudePrune, MomentumRedistribution,
//            MomentumGrowth), SGD Nesterov 0.9 + wd 5e-4, CosineDecay prune rate 0.5, StepLR, EpochEndTrigger)
//            plus LeNet-300-100 dense (no masking) at batch 100
//   per model: median `trainer.step()` time (forward, backward, optimizer, masking; synchronous: the step
//            reads the loss) and, for the LeNets, the median of `trainer.updateMasks()` as a share of an
//            epoch (540 steps × median step time)
//   anchor:  PyTorch's step time for the same models, batch sizes and masking (scripts/bench-torch.py), run
//            right after the native config with the same thread count, when `/usr/bin/python3` (or
//            SPARSE_LEARNING_BENCH_PYTHON) imports torch (Debian: apt-get install python3-torch); it runs with
//            OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset so the anchor is at its best. Prints native/PyTorch.
//   GEMM:    this machine's FMA peak per ISA (register-only loop, 1 thread and all threads), and the addon's
//            GFLOP/s at 100×784×300 and 1024³ for every own-kernel ISA variant, OpenBLAS and the default
//            per-shape choice, with 1024³ as a fraction of the best ISA's peak (issue 10)
//
//   node scripts/bench.mjs [--quick] [--steps=N] [--no-wrn] [--cpu-cnn] [--no-torch] [--configs=a,b,...] [--json=path]
//   node scripts/bench.mjs --configs=native --gemm-only --no-torch    # only the FMA peaks and GEMM rates
//   node scripts/bench.mjs --configs=native --only-wrn [--wrn-steps=N] # only WRN-16-8 (N timed steps, default 3)
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
if (argv.includes('--sparse')) await import('./bench-sparse.mjs').then(() => process.exit(0)); // issue 9: masked vs sparse execution
if (argv.includes('--sparse-wrn') || argv.includes('--sparse-graph')) await import('./bench-sparse-wrn.mjs').then(() => process.exit(0)); // issue 9: graph-form CNNs (WRN, VGG, AlexNet; --model=) masked vs sparse execution
if (argv.includes('--sparse-conv')) await import('./bench-sparse-conv.mjs').then(() => process.exit(0)); // issue 9: sparse vs dense conv kernels
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
  { key: 'lenet300-dense', id: 'lenet300-100', label: 'LeNet-300-100 dense (b100)', batch: 100, lr: 0.01, conv: false, dense: true },
  { key: 'lenet5', id: 'lenet5', label: 'LeNet-5-Caffe (b100)', batch: 100, lr: 0.01, conv: true },
  { key: 'wrn16-8', id: 'wrn-16-8', label: 'WRN-16-8 (b32)', batch: 32, lr: 0.1, conv: true },
];
const STEPS_PER_EPOCH = 540; // MNIST: 54 000 training images (6 000 held out for validation) / batch 100
const EPOCHS = 100;
const DENSITY = 0.05;
/** The anchor: Debian's PyTorch (optional; never needed by tests). */
const PYTHON = process.env.SPARSE_LEARNING_BENCH_PYTHON ?? '/usr/bin/python3';

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
  if (flag('only-wrn') && m.key !== 'wrn16-8') return { skip: '--only-wrn' };
  if (m.key === 'wrn16-8') {
    if (flag('no-wrn')) return { skip: '--no-wrn' };
    if (config === 'cpu') return { skip: 'not run on cpu (several minutes per step)' };
    if (config.startsWith('native')) return { warm: 1, steps: quick ? 1 : Number(opt('wrn-steps', 3)), maskUpdates: 0 };
    return { warm: 0, steps: 1, maskUpdates: 0 }; // wasm+overrides: about a minute per step
  }
  if (config === 'cpu' && m.conv) {
    if (!flag('cpu-cnn')) return { skip: 'not run on cpu without --cpu-cnn (≈1 min per step: naive Conv2DBackpropFilter)' };
    return { warm: 0, steps: 1, maskUpdates: 1 };
  }
  if (config === 'cpu') return { warm: 1, steps: Math.min(steps, quick ? 3 : 6), maskUpdates: 3 };
  return { warm: 3, steps: m.key === 'lenet5' ? Math.max(3, Math.round(steps / 2)) : steps, maskUpdates: m.dense ? 0 : 5 };
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
  const masking = m.dense ? null : new core.Masking(model.variables);
  masking?.initialize(new core.UniformExactDistribution(), DENSITY, rng.fork('mask-init'));
  const optimizer = new core.SgdOptimizer({ learningRate: m.lr, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  const trainer = new core.SparseTrainer({
    model,
    optimizer,
    masking,
    maskUpdater: m.dense ? null : new core.MaskUpdater(new prune.MagnitudePrune(), new redistribution.MomentumRedistribution(), new growth.MomentumGrowth()),
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
    const cpu = [];
    let loss = NaN;
    for (let i = 0; i < p.steps; i += 1) {
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      loss = trainer.step(batches[i % 2]).loss;
      times.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    // CPU time of the whole process (all threads) per step: on a shared machine it moves much less with other
    // jobs than the wall time does.
    Object.assign(out, { medianMs: median(times), minMs: Math.min(...times), cpuMs: median(cpu), steps: times.length, loss });
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

function timeGemm(addon, M, K, N) {
  const a = new Float32Array(M * K).map((_, i) => ((i * 7) % 13) / 13 - 0.5);
  const b = new Float32Array(K * N).map((_, i) => ((i * 5) % 11) / 11 - 0.5);
  const c = new Float32Array(M * N);
  const reps = M === 1024 ? 15 : 300;
  addon.gemm(false, false, M, N, K, 1, a, b, 0, c); // first use: the per-shape choice is timed here
  const ts = [];
  const cpu = [];
  for (let r = 0; r < reps; r += 1) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    addon.gemm(false, false, M, N, K, 1, a, b, 0, c);
    ts.push(performance.now() - t0);
    const u = process.cpuUsage(c0);
    cpu.push((u.user + u.system) / 1000);
  }
  const ms = median(ts);
  const best = Math.min(...ts);
  // GFLOP per CPU-second of the process (all threads): the kernel's efficiency per core, which preemption by
  // other jobs does not change (what a loaded machine still lets us measure).
  const cpuMs = median(cpu);
  // The median says what a training run gets on this (possibly shared) machine; the best run says what the
  // kernel does when it is not preempted, which is what compares with the FMA peak (itself a best of slices).
  return { ms, gflops: (2 * M * N * K) / (ms * 1e6), bestGflops: (2 * M * N * K) / (best * 1e6), cpuGflops: (2 * M * N * K) / (cpuMs * 1e6) };
}

/** FMA peak per ISA and GEMM GFLOP/s per implementation, with every core (issue 10). */
function benchGemm(bn) {
  const rows = [];
  const peaks = [];
  const builds = [['default', bn.nativeAddonStatus()]];
  const own = join(pkg, 'build/own/sparse_native.node');
  if (existsSync(own)) builds.push(['own', bn.loadAddonFrom(own)]);
  const cores = os.cpus().length;
  for (const [label, status] of builds) {
    const addon = status.addon;
    if (!addon) continue;
    // GEMM capability with every core, whatever thread count the load made the addon choose for training.
    const trainingThreads = addon.info().threads;
    addon.setThreads(cores);
    const info = addon.info();
    const isas = info.isas ?? [];
    if (label === 'default' && addon.fmaPeak) {
      for (const isa of isas) peaks.push({ isa, t1: addon.fmaPeak(isa, 1, 0.3), tAll: addon.fmaPeak(isa, cores, 0.3) });
    }
    // Every own-kernel ISA variant, OpenBLAS alone, then the default (per-shape timed choice, best ISA).
    const impls = addon.setIsa && addon.setGemmPolicy
      ? [...isas.map((isa) => ({ isa, policy: 'own', impl: `own-${isa}` })),
        ...(info.openblas?.available ? [{ isa: isas.at(-1), policy: 'openblas', impl: `openblas ${info.openblas.corename ?? ''}`.trim() }] : []),
        { isa: isas.at(-1), policy: 'measure', impl: 'default (timed per shape)' }]
      : [{ impl: info.gemm }];
    // All cores, then one thread (on a loaded machine the one-thread figures are the steadier ones).
    for (const threads of cores > 1 ? [cores, 1] : [1]) {
      addon.setThreads(threads);
      for (const { isa, policy, impl } of impls) {
        if (isa) addon.setIsa(isa);
        if (policy) addon.setGemmPolicy(policy);
        for (const [M, K, N] of [[100, 784, 300], [1024, 1024, 1024]]) {
          rows.push({ build: label, impl, shape: `${M}x${K}x${N}`, ...timeGemm(addon, M, K, N), threads });
        }
      }
    }
    addon.setGemmPolicy?.('measure');
    if (isas.length) addon.setIsa?.(isas.at(-1));
    addon.setThreads(trainingThreads);
  }
  return { rows, peaks };
}

/** PyTorch's step times (scripts/bench-torch.py) or why there are none. */
function torchAnchor(threads, steps) {
  const probe = spawnSync(PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return { unavailable: `${PYTHON} cannot import torch (apt-get install python3-torch)` };
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE; // the anchor at its best: no pinned older kernel set
  delete env.OPENBLAS_L2_SIZE;
  const models = MODELS.filter((m) => !(m.key === 'wrn16-8' && flag('no-wrn')) && !(m.key !== 'wrn16-8' && flag('only-wrn')))
    .map((m) => m.key)
    .join(',');
  // bench-torch.py runs WRN-16-8 for max(3, steps / 10) steps: --only-wrn asks for --wrn-steps of them.
  const torchSteps = flag('only-wrn') ? 10 * Number(opt('wrn-steps', 3)) : steps;
  const r = spawnSync(PYTHON, [join(root, 'scripts/bench-torch.py'), `--threads=${threads}`, `--steps=${torchSteps}`, `--models=${models}`], { encoding: 'utf8', env, maxBuffer: 1 << 24 });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('TORCH_RESULT '));
  if (!line) return { unavailable: `bench-torch.py failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-2).join(' | ').slice(0, 300)}` };
  return JSON.parse(line.slice('TORCH_RESULT '.length));
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
  // The threads the native kernels train with (the load-aware default may have chosen 1): the anchor uses as many.
  if (config.startsWith('native')) result.threads = bn.nativeAddonStatus().addon?.info().threads;
  result.notes = set.notes;
  if (set.unavailable) {
    result.unavailable = set.unavailable;
    return result;
  }
  for (const m of flag('gemm-only') ? [] : MODELS) {
    const p = plan(config, m);
    result.models[m.key] = p.skip ? { skipped: p.skip } : await benchModel(m, p, libs);
  }
  if (config.startsWith('native')) {
    const addon = bn.nativeAddonStatus().addon;
    const choices = addon?.gemmChoices?.() ?? [];
    result.gemmChoices = { openblas: choices.filter((l) => / openblas \(own/.test(l)).length, own: choices.filter((l) => / own \(own/.test(l)).length, lines: choices };
  }
  if (config === 'native' && !flag('only-wrn')) result.gemm = benchGemm(bn);
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
  const anchors = {};
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`sparse-learning bench — node ${process.version}, ${os.cpus().length} cores, load average ${load}, ${new Date().toISOString()}`);
  console.log(`Sparse Momentum ${DENSITY * 100} % (SparseTrainer + @sparse-learning/models); median training-step time; each config in its own process\n`);
  for (const config of configs) {
    const started = Date.now();
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), `--child=${config}`, ...argv], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 1 << 26,
      env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.json'), TF_CPP_MIN_LOG_LEVEL: '2', ...(CONFIG_ENV[config] ?? {}) },
    });
    const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('BENCH_RESULT '));
    results[config] = line
      ? JSON.parse(line.slice('BENCH_RESULT '.length))
      : { config, unavailable: `child failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').filter((l) => !l.startsWith('    at ')).slice(-3).join(' | ').slice(0, 400)}` };
    console.log(`  ${config.padEnd(15)} done in ${((Date.now() - started) / 1000).toFixed(1)} s${results[config].unavailable ? ` (unavailable: ${results[config].unavailable})` : ''}`);
    // The anchor right after the native config it is compared with, same thread count, so both see the
    // same machine state as far as a shared machine allows.
    if (config.startsWith('native') && !flag('no-torch')) {
      const threads = results[config].threads ?? (config === 'native-1t' ? 1 : os.cpus().length);
      const t0 = Date.now();
      const loadBefore = os.loadavg()[0];
      anchors[config] = torchAnchor(threads, Number(opt('steps', flag('quick') ? 8 : 30)));
      anchors[config].loadBefore = loadBefore;
      console.log(`  PyTorch ${threads}t${' '.repeat(Math.max(1, 7 - String(threads).length))}done in ${((Date.now() - t0) / 1000).toFixed(1)} s${anchors[config].unavailable ? ` (unavailable: ${anchors[config].unavailable})` : ` (torch ${anchors[config].torch}, load average ${loadBefore.toFixed(2)} at its start)`}`);
    }
  }
  const m = (c, key) => results[c]?.models?.[key];
  const ratio = (slow, fast) => (slow?.medianMs && fast?.medianMs ? `${(slow.medianMs / fast.medianMs).toFixed(1)}×` : '—');
  const anchored = configs.filter((c) => anchors[c] && !anchors[c].unavailable);
  const torchCols = anchored.map((c) => `PyTorch ${anchors[c].threads}t`);
  const ratioCols = anchored.map((c) => `${c} / PyTorch ${anchors[c].threads}t`);
  console.log(`\n| model | ${[...configs, ...torchCols, ...ratioCols].join(' | ')} | native vs cpu | native vs wasm | native vs wasm+ovr | wasm+ovr vs wasm |`);
  console.log(`|---|${[...configs, ...torchCols, ...ratioCols].map(() => '---').join('|')}|---|---|---|---|`);
  const ratio2 = (ours, anchor) => (ours?.medianMs && anchor?.medianMs ? `**${(ours.medianMs / anchor.medianMs).toFixed(2)}×**` : '—');
  for (const model of MODELS) {
    const row = configs.map((c) => cell(m(c, model.key)));
    const k = model.key;
    const torchRow = anchored.map((c) => cell(anchors[c].models?.[k]));
    const ratioRow = anchored.map((c) => ratio2(m(c, k), anchors[c].models?.[k]));
    console.log(`| ${model.label} | ${[...row, ...torchRow, ...ratioRow].join(' | ')} | ${ratio(m('cpu', k), m('native', k))} | ${ratio(m('wasm', k), m('native', k))} | ${ratio(m('wasm+overrides', k), m('native', k))} | ${ratio(m('wasm', k), m('wasm+overrides', k))} |`);
  }
  if (anchored.length) {
    console.log('(native / PyTorch: the ratio of median step times, < 1 = faster than PyTorch; issue 10 targets ≤ 1.0×)');
    console.log('\nmedian CPU time per step (process, all threads), and fastest step:');
    for (const model of MODELS) {
      for (const c of anchored) {
        const ours = m(c, model.key);
        const t = anchors[c].models?.[model.key];
        if (!ours?.cpuMs || !t?.cpuMs) continue;
        console.log(`  ${model.label.padEnd(27)} ${c.padEnd(9)} cpu ${fmt(ours.cpuMs).padStart(9)} fastest ${fmt(ours.minMs).padStart(9)} | PyTorch ${anchors[c].threads}t cpu ${fmt(t.cpuMs).padStart(9)} fastest ${fmt(t.minMs).padStart(9)} | ratio cpu ${(ours.cpuMs / t.cpuMs).toFixed(2)}×, fastest ${(ours.minMs / t.minMs).toFixed(2)}×`);
      }
    }
  }
  for (const c of configs) if (anchors[c]?.unavailable) console.log(`PyTorch anchor for ${c}: unavailable: ${anchors[c].unavailable}`);
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

  const gemm = results.native?.gemm;
  if (gemm?.peaks?.length) {
    console.log('\nFMA peak (register-only loop, best of 0.3 s of 2 ms slices):');
    for (const p of gemm.peaks) console.log(`  ${p.isa.padEnd(8)} 1 thread ${p.t1.toFixed(1).padStart(7)} GFLOP/s   ${os.cpus().length} threads ${p.tAll.toFixed(1).padStart(7)} GFLOP/s`);
  }
  if (gemm?.rows?.length) {
    const top = gemm.peaks?.at(-1);
    for (const threads of [...new Set(gemm.rows.map((g) => g.threads))]) {
      const peak = top ? (threads === 1 ? top.t1 : top.tAll) : undefined;
      console.log(`\nGEMM (native addon, ${threads} thread${threads === 1 ? '' : 's'}, row-major C = A·B, M×K×N): median, and best run${peak ? ` as a fraction of the ${top.isa} FMA peak on ${threads} thread${threads === 1 ? '' : 's'} (${peak.toFixed(0)} GFLOP/s)` : ''}:`);
      for (const g of gemm.rows.filter((r) => r.threads === threads)) {
        const frac = peak ? ` = ${((100 * g.bestGflops) / peak).toFixed(0).padStart(3)} % of peak` : '';
        const perCore = top && g.cpuGflops ? ` | per CPU-second ${g.cpuGflops.toFixed(1).padStart(6)} = ${((100 * g.cpuGflops) / top.t1).toFixed(0).padStart(3)} % of one core's peak` : '';
        console.log(`  ${g.build === 'default' ? '' : `[${g.build}] `}${g.impl.padEnd(26)} ${g.shape.padEnd(15)} ${g.ms.toFixed(3).padStart(8)} ms ${g.gflops.toFixed(1).padStart(6)} GFLOP/s | best ${g.bestGflops.toFixed(1).padStart(6)} GFLOP/s${frac}${perCore}`);
      }
    }
  }
  for (const c of configs) {
    const ch = results[c]?.gemmChoices;
    if (ch && ch.lines.length) console.log(`GEMM shapes of the training steps (${c}): ${ch.openblas} ran faster in OpenBLAS, ${ch.own} in the own kernel (timed on first use)`);
  }
  for (const c of configs) for (const n of results[c]?.notes ?? []) console.log(`note (${c}): ${n}`);
  console.log(`load average after the run: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const json = opt('json', '');
  if (json) writeFileSync(json, JSON.stringify({ ...results, pytorch: anchors }, null, 2));
}

const childArg = argv.find((a) => a.startsWith('--child='));
if (childArg) {
  const result = await child(childArg.slice('--child='.length));
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
} else {
  parent();
}
