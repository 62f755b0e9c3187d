#!/usr/bin/env node
// `npm run bench`: training-step speed of TensorFlow.js backends on this machine (issue 6, item 4).
//
// One run measures, each configuration in a fresh child process (the wasm gradient overrides are global to a
// process, and a fresh heap keeps configurations independent):
//   cpu | wasm (stock) | wasm+overrides | native (wasm base) | native-cpu (cpu base, for the base choice)
// on LeNet-300-100 and LeNet-5-Caffe (batch 100, SGD with momentum 0.9), one WRN-16-8 step (batch 32) where
// feasible, and GEMM GFLOP/s of the native addon(s). Prints medians and speed-up ratios.
//
//   node scripts/bench.mjs [--quick] [--steps=N] [--no-wrn] [--no-cpu-cnn]
//
// The models are built from tfjs ops here (not from @sparse-learning/models) so the bench measures the
// backends alone; see the backend-native README for the numbers.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'packages/backend-native');
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name, dflt) => {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : dflt;
};

// ---------------------------------------------------------------------------------------------- child side
async function loadBackendPackage() {
  const dist = join(pkg, 'dist/index.js');
  try {
    const { register } = await import('tsx/esm/api');
    register({ tsconfig: join(root, 'tsconfig.json') });
    return await import(pathToFileURL(join(pkg, 'src/index.ts')).href);
  } catch (error) {
    if (existsSync(dist)) return import(pathToFileURL(dist).href);
    throw error;
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function glorot(tf, shape, fanIn, fanOut) {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return tf.variable(tf.randomUniform(shape, -limit, limit, 'float32', 7));
}

function lenet300(tf) {
  const dims = [784, 300, 100, 10];
  const layers = dims.slice(1).map((out, i) => ({
    w: glorot(tf, [dims[i], out], dims[i], out),
    b: tf.variable(tf.zeros([out])),
  }));
  return {
    inputShape: [784],
    vars: layers.flatMap((l) => [l.w, l.b]),
    logits(x) {
      let h = x;
      layers.forEach((l, i) => {
        h = tf.add(tf.matMul(h, l.w), l.b);
        if (i < layers.length - 1) h = tf.relu(h);
      });
      return h;
    },
  };
}

function lenet5(tf) {
  const c1 = glorot(tf, [5, 5, 1, 20], 25, 500);
  const c2 = glorot(tf, [5, 5, 20, 50], 500, 1250);
  const f3 = glorot(tf, [800, 500], 800, 500);
  const f4 = glorot(tf, [500, 10], 500, 10);
  const b = [20, 50, 500, 10].map((n) => tf.variable(tf.zeros([n])));
  return {
    inputShape: [28, 28, 1],
    vars: [c1, c2, f3, f4, ...b],
    logits(x) {
      let h = tf.maxPool(tf.relu(tf.add(tf.conv2d(x, c1, 1, 'valid'), b[0])), 2, 2, 'valid');
      h = tf.maxPool(tf.relu(tf.add(tf.conv2d(h, c2, 1, 'valid'), b[1])), 2, 2, 'valid');
      h = tf.relu(tf.add(tf.matMul(tf.reshape(h, [-1, 800]), f3), b[2]));
      return tf.add(tf.matMul(h, f4), b[3]);
    },
  };
}

// WRN-16-8 (spec §3.5) without dropout; batch-statistics BN; explicit symmetric padding (spec §3.7).
function wrn168(tf) {
  const vars = [];
  const conv = (k, cin, cout) => {
    const v = tf.variable(tf.randomNormal([k, k, cin, cout], 0, Math.sqrt(2 / (k * k * cout)), 'float32', 3));
    vars.push(v);
    return v;
  };
  const bn = (c) => {
    const g = tf.variable(tf.ones([c]));
    const beta = tf.variable(tf.zeros([c]));
    vars.push(g, beta);
    return (x) => {
      const { mean, variance } = tf.moments(x, [0, 1, 2]);
      return tf.batchNorm(x, mean, variance, beta, g, 1e-5);
    };
  };
  const pad1 = [[0, 0], [1, 1], [1, 1], [0, 0]];
  const k = 8;
  const widths = [16, 16 * k, 32 * k, 64 * k];
  const conv1 = conv(3, 3, 16);
  const blocks = [];
  let cin = 16;
  [1, 2, 2].forEach((stride, g) => {
    for (let i = 0; i < 2; i += 1) {
      const cout = widths[g + 1];
      const s = i === 0 ? stride : 1;
      blocks.push({ bn1: bn(cin), c1: conv(3, cin, cout), bn2: bn(cout), c2: conv(3, cout, cout), sc: cin !== cout ? conv(1, cin, cout) : null, s });
      cin = cout;
    }
  });
  const bnOut = bn(cin);
  const fc = glorot(tf, [cin, 10], cin, 10);
  const fcb = tf.variable(tf.zeros([10]));
  vars.push(fc, fcb);
  return {
    inputShape: [32, 32, 3],
    vars,
    logits(x) {
      let h = tf.conv2d(x, conv1, 1, pad1);
      for (const b of blocks) {
        const o = tf.relu(b.bn1(h));
        const shortcut = b.sc ? tf.conv2d(o, b.sc, b.s, 'valid') : h;
        let y = tf.conv2d(o, b.c1, b.s, pad1);
        y = tf.conv2d(tf.relu(b.bn2(y)), b.c2, 1, pad1);
        h = tf.add(shortcut, y);
      }
      h = tf.avgPool(tf.relu(bnOut(h)), 8, 8, 'valid');
      return tf.add(tf.matMul(tf.reshape(h, [-1, cin]), fc), fcb);
    },
  };
}

async function child(config) {
  const tf = await import('@tensorflow/tfjs-core');
  const bn = await loadBackendPackage();
  const result = { config, models: {}, notes: [] };
  let backend;
  if (config === 'wasm+overrides') {
    bn.registerWasmTrainingGradients({ backends: ['wasm'] });
    backend = 'wasm';
  } else if (config === 'native' || config === 'native-cpu') {
    const base = config === 'native' ? 'wasm' : 'cpu';
    if (!bn.registerNativeBackend({ name: config, base })) {
      result.unavailable = bn.nativeAddonStatus().reason;
      return result;
    }
    result.notes.push(bn.nativeAddonStatus().reason);
    backend = config;
  } else {
    await import('@tensorflow/tfjs-layers'); // stock gradients (tfjs-core's Node entry registers none)
    backend = config;
  }
  if (!(await tf.setBackend(backend)) || tf.getBackend() !== backend) {
    result.unavailable = `setBackend('${backend}') failed; active: ${tf.getBackend()}`;
    return result;
  }
  const quick = flag('quick');
  const plan = [
    { name: 'lenet300', build: lenet300, batch: 100, steps: Number(opt('steps', quick ? 10 : 30)), budgetMs: 8000 },
    { name: 'lenet5', build: lenet5, batch: 100, steps: Number(opt('steps', quick ? 5 : 15)), budgetMs: 10000 },
    { name: 'wrn16-8', build: wrn168, batch: 32, steps: quick ? 1 : 2, budgetMs: 30000 },
  ];
  for (const m of plan) {
    const conv = m.name !== 'lenet300';
    if (conv && config === 'wasm') {
      result.models[m.name] = { unsupported: 'stock wasm has no Conv2DBackpropFilter kernel' };
      continue;
    }
    if (m.name === 'lenet5' && config === 'cpu' && flag('no-cpu-cnn')) {
      result.models[m.name] = { skipped: '--no-cpu-cnn' };
      continue;
    }
    if (m.name === 'wrn16-8' && (flag('no-wrn') || config === 'cpu' || config === 'native-cpu')) {
      result.models[m.name] = { skipped: config.startsWith('cpu') || config === 'native-cpu' ? 'cpu-based: minutes per step' : '--no-wrn' };
      continue;
    }
    // Very slow combinations get one measured step and no warm-up (cpu CNN ~30-60 s, wasm WRN ~1 min).
    const slow = (config === 'cpu' && conv) || (m.name === 'wrn16-8' && config !== 'native');
    const model = m.build(tf);
    const x = tf.randomNormal([m.batch, ...model.inputShape], 0, 1, 'float32', 1);
    const labels = tf.oneHot(tf.randomUniform([m.batch], 0, 10, 'int32', 2), 10);
    const optimizer = tf.train.momentum(0.01, 0.9);
    const step = () => {
      const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(labels, model.logits(x)), true, model.vars);
      const value = loss.dataSync()[0];
      loss.dispose();
      return value;
    };
    const times = [];
    let loss = NaN;
    try {
      const warm = slow ? 0 : m.name === 'wrn16-8' ? 1 : 3;
      for (let i = 0; i < warm; i += 1) step();
      const steps = slow ? 1 : m.steps;
      const started = performance.now();
      for (let i = 0; i < steps; i += 1) {
        const t0 = performance.now();
        loss = step();
        times.push(performance.now() - t0);
        if (performance.now() - started > m.budgetMs && times.length >= 3) break;
      }
      result.models[m.name] = { medianMs: median(times), steps: times.length, loss };
    } catch (error) {
      result.models[m.name] = { error: String(error.message ?? error).split('\n')[0] };
    }
    tf.dispose([x, labels, ...model.vars]);
    optimizer.dispose();
  }
  if (config === 'native') {
    result.gemm = [];
    const builds = [['default', bn.nativeAddonStatus()]];
    const own = join(pkg, 'build/own/sparse_native.node');
    if (existsSync(own)) builds.push(['own', bn.loadAddonFrom(own)]);
    for (const [label, status] of builds) {
      if (!status.addon) continue;
      for (const [M, K, N] of [[100, 784, 300], [1024, 1024, 1024]]) {
        const a = new Float32Array(M * K).fill(0.5);
        const b = new Float32Array(K * N).fill(0.25);
        const c = new Float32Array(M * N);
        const reps = M === 1024 ? 8 : 200;
        status.addon.gemm(false, false, M, N, K, 1, a, b, 0, c);
        const ts = [];
        for (let r = 0; r < reps; r += 1) {
          const t0 = performance.now();
          status.addon.gemm(false, false, M, N, K, 1, a, b, 0, c);
          ts.push(performance.now() - t0);
        }
        const ms = median(ts);
        result.gemm.push({ build: label, impl: status.addon.info().gemm, shape: `${M}x${K}x${N}`, ms, gflops: (2 * M * N * K) / (ms * 1e6) });
      }
    }
  }
  return result;
}

// --------------------------------------------------------------------------------------------- parent side
function fmt(ms) {
  if (ms === undefined) return '—';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}

function cell(r) {
  if (!r) return '—';
  if (r.medianMs !== undefined) return fmt(r.medianMs);
  if (r.unsupported) return 'unsupported';
  if (r.skipped) return 'skipped';
  if (r.error) return 'error';
  return '—';
}

function parent() {
  const configs = ['cpu', 'wasm', 'wasm+overrides', 'native', 'native-cpu'];
  const results = {};
  console.log(`sparse-learning bench — node ${process.version}, ${new Date().toISOString()}`);
  console.log('median training-step time (SGD momentum 0.9; LeNets batch 100, WRN-16-8 batch 32); each config in its own process\n');
  for (const config of configs) {
    const started = Date.now();
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), `--child=${config}`, ...argv], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 1 << 24,
      env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' },
    });
    const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('BENCH_RESULT '));
    if (!line) {
      results[config] = { config, unavailable: `child failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}` };
    } else {
      results[config] = JSON.parse(line.slice('BENCH_RESULT '.length));
    }
    console.log(`  ${config.padEnd(15)} done in ${((Date.now() - started) / 1000).toFixed(1)} s${results[config].unavailable ? ` (unavailable: ${results[config].unavailable})` : ''}`);
  }
  const models = [['lenet300', 'LeNet-300-100 (b100)'], ['lenet5', 'LeNet-5-Caffe (b100)'], ['wrn16-8', 'WRN-16-8 (b32)']];
  console.log(`\n| model | ${configs.join(' | ')} | native vs cpu | native vs wasm | native vs wasm+ovr | wasm+ovr vs wasm |`);
  console.log(`|---|${configs.map(() => '---').join('|')}|---|---|---|---|`);
  const ratio = (a, b) => (a?.medianMs && b?.medianMs ? `${(a.medianMs / b.medianMs).toFixed(1)}×` : '—');
  for (const [key, label] of models) {
    const row = configs.map((c) => cell(results[c]?.models?.[key]));
    const m = (c) => results[c]?.models?.[key];
    console.log(`| ${label} | ${row.join(' | ')} | ${ratio(m('cpu'), m('native'))} | ${ratio(m('wasm'), m('native'))} | ${ratio(m('wasm+overrides'), m('native'))} | ${ratio(m('wasm'), m('wasm+overrides'))} |`);
  }
  const targets = { lenet300: 5, lenet5: 40 };
  const nat = results.native?.models ?? {};
  console.log('\ntargets (PyTorch on this machine):');
  for (const [key, limit] of Object.entries(targets)) {
    const v = nat[key]?.medianMs;
    console.log(`  ${key.padEnd(9)} native ${fmt(v)} vs target ≤ ${limit} ms: ${v === undefined ? 'n/a' : v <= limit ? 'MET' : `not met (${(v / limit).toFixed(2)}× the target)`}`);
  }
  if (results.native?.gemm?.length) {
    console.log('\nGEMM (native addon, row-major C = A·B, median):');
    for (const g of results.native.gemm) {
      console.log(`  ${g.impl.padEnd(13)} ${g.shape.padEnd(15)} ${g.ms.toFixed(3).padStart(8)} ms  ${g.gflops.toFixed(1).padStart(6)} GFLOP/s`);
    }
    const big = results.native.gemm.find((g) => g.build === 'default' && g.shape === '1024x1024x1024');
    if (big) console.log(`  target 1024³ ≥ 100 GFLOP/s: ${big.gflops >= 100 ? 'MET' : 'not met'}`);
  }
  const problems = [];
  for (const c of configs) {
    for (const [k, v] of Object.entries(results[c]?.models ?? {})) if (v.error) problems.push(`${c}/${k}: ${v.error}`);
    for (const n of results[c]?.notes ?? []) console.log(`note (${c}): ${n}`);
  }
  if (problems.length) console.log(`\nerrors:\n  ${problems.join('\n  ')}`);
}

const childArg = argv.find((a) => a.startsWith('--child='));
if (childArg) {
  const result = await child(childArg.slice('--child='.length));
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
} else {
  parent();
}
