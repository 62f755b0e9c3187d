#!/usr/bin/env node
// `npm run bench -- --sparse` (issue 9): masked vs truly sparse execution of the same experiments, in one run.
// Each measurement runs in a fresh child process (`node --import tsx`, TypeScript sources, no build) so its peak
// RSS is its own. What is measured:
//
//   masked  core's SparseTrainer on the `native` backend (dense tensors × masks): median `trainer.step()` over
//           --masked-steps steps after warm-up, and one forced mask update; epoch = 540 × median step + update
//           (projected: a real masked set-mlp epoch takes minutes on this machine; its cost does not depend on
//           the density)
//   sparse  the runner's sparse execution (--execution sparse): one REAL epoch of 540 steps (batch 100, MNIST)
//           through the same loop the runner uses (batches assembled as arrays by `stepOn`, dense-gradient window, the mask
//           update at the epoch end), wall-clock
//   models  set-mlp (784-4000-1000-4000-10) at 1/2/5/10 % with SET and Sparse Momentum (default window 64),
//           LeNet-300-100 at 2/5 % with Sparse Momentum
//   crossover  sparse median step of set-mlp (SET) at 10..50 % vs the masked step: where sparse stops paying
//   window  growth fidelity of the default window: masks after the first Sparse Momentum mask update with
//           window 64 vs the masked run from the same state (fraction of the masked run's grown weights the
//           sparse run also grew)
//   PyTorch LeNet-300-100 masked step of scripts/bench-torch.py (issue 10's anchor) vs the sparse step, same
//           threads, OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset for it
//   CNN     LeNet-5-Caffe with Sparse Momentum at 1/2/5 % (default window 64): masked epoch (projected as above)
//           vs a real sparse epoch (SparseCnnTrainer), peak RSS of each process; then the crossover scan of the
//           sparse LeNet-5 step at 10..50 % against the masked step (what `--execution auto` uses for CNNs)
//
//   node scripts/bench-sparse.mjs [--quick] [--cnn] [--masked-steps=N] [--max-batches=N] [--sparse-state=auto|dense] [--json=path]
//   node scripts/bench-sparse.mjs --state-ab [--rounds=2]   peak RSS and time of the two session forms (see stateAb)
//   --cnn          only the LeNet-5 section
//   --sparse-state the sparse session's form (as `train --sparse-state`): `auto` (default) is what a sparse run
//                  gets — for MLPs the compact session (initial state drawn as the masked run draws it, then no
//                  dense tensors); `dense` keeps the dense TF.js model beside the compact layers (the form of
//                  earlier versions; its peak RSS is the "before" of BENCHMARKS.md's memory table)
//   --max-batches  steps of the sparse epoch and of the masked projection (default 540 = one MNIST epoch)
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(`--${name}`);
const opt = (name, dflt) => {
  const hit = argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : dflt;
};
// 54 000 MNIST training images (10 % held out) / batch 100; --max-batches cuts it (the epoch is then that many steps).
const STEPS_PER_EPOCH = Number(process.argv.slice(2).find((a) => a.startsWith('--max-batches='))?.split('=')[1] ?? 540);
const PYTHON = process.env.SPARSE_LEARNING_BENCH_PYTHON ?? '/usr/bin/python3';
const quick = flag('quick');
const maskedSteps = Number(opt('masked-steps', quick ? 6 : 15));
// One thread by default: this machine's 2 cores are shared (a background grid, other jobs), and CPU time per
// step is then a load-independent measure of cost; wall times are printed beside it.
const threads = Number(opt('threads', 1));

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---------------------------------------------------------------------------------------------- child side

async function libs() {
  await import('@tensorflow/tfjs-layers');
  const experiment = await import('../packages/runner/src/run/experiment.ts');
  const { resolveConfig } = await import('../packages/runner/src/config/resolve.ts');
  const execution = await import('../packages/runner/src/run/sparse-execution.ts');
  const compact = await import('../packages/runner/src/run/sparse-compact-session.ts');
  const compactCnn = await import('../packages/runner/src/run/sparse-compact-cnn.ts');
  const { batchIndices } = await import('@sparse-learning/datasets');
  const core = await import('@sparse-learning/core');
  return { experiment, resolveConfig, execution, compact, compactCnn, batchIndices, core };
}

function benchConfig(L, job, steps, more = {}) {
  const values = { preset: job.preset, model: job.model, density: job.density, epochs: 2, maxBatches: steps, backend: 'native', seed: 1, ...more };
  return L.resolveConfig({ name: 'bench', values }).config;
}

async function session(L, job, steps) {
  return L.experiment.prepareExperiment({ config: benchConfig(L, job, steps) });
}

/**
 * The session and execution a sparse run gets (`train --execution sparse --sparse-state <job.state>`): the
 * compact session where the runner would choose it, else the dense session's sparse execution.
 */
async function sparseRun(L, job, steps) {
  const config = benchConfig(L, job, steps, { execution: 'sparse', sparseState: job.state ?? 'auto', denseGradWindow: job.window ?? 64 });
  const s = await L.compact.prepareRunSession({ config });
  if ('kind' in s && s.kind === 'compact') return { s, exec: L.compact.bindCompact(s, s.choice, L.core.silentLogger) };
  if ('kind' in s) return { s, exec: L.compactCnn.bindCompactCnn(s, s.choice, L.core.silentLogger) };
  return { s, exec: L.execution.createExecution(s, L.execution.chooseExecution(s, 'sparse'), L.core.silentLogger, job.window ?? 64) };
}

function* batchesOf(L, s, epoch, count) {
  const order = s.dataset.train.epochOrder(s.dataOrderRng(epoch), true);
  for (let b = 0; b < count; b++) yield s.dataset.train.batch(L.batchIndices(order, b, s.config.batchSize), s.augmentRng(epoch, b));
}

/** Process CPU time in ms: on a shared, oversubscribed machine it is what a step costs, whatever the load. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/**
 * Per-step CPU and wall times, as the runner's loop runs them: a trainer that assembles its own batches
 * (`stepOn`, the sparse execution) gets the batch's indices and its time includes the assembly; otherwise the
 * batch tensors are made outside the timed step.
 */
function timedSteps(L, s, trainer, count) {
  const cpu = [];
  const wall = [];
  if (trainer.stepOn) {
    const order = s.dataset.train.epochOrder(s.dataOrderRng(1), true);
    for (let b = 0; b < count; b++) {
      const indices = L.batchIndices(order, b, s.config.batchSize);
      const c0 = cpuMs();
      const t0 = performance.now();
      trainer.stepOn(s.dataset.train, indices, s.augmentRng(1, b));
      wall.push(performance.now() - t0);
      cpu.push(cpuMs() - c0);
    }
    return { cpu, wall };
  }
  for (const batch of batchesOf(L, s, 1, count)) {
    const c0 = cpuMs();
    const t0 = performance.now();
    trainer.step(batch);
    wall.push(performance.now() - t0);
    cpu.push(cpuMs() - c0);
    batch.inputs.dispose();
    batch.labels.dispose();
  }
  return { cpu, wall };
}

async function child(job) {
  const L = await libs();
  const rss = () => process.resourceUsage().maxRSS * 1024;
  if (job.kind === 'masked') {
    const s = await session(L, job, maskedSteps + 2);
    const { cpu, wall } = timedSteps(L, s, s.trainer, maskedSteps + 2);
    const c0 = cpuMs();
    const t0 = performance.now();
    s.trainer.updateMasks();
    const update = performance.now() - t0;
    const updateCpu = cpuMs() - c0;
    const step = median(cpu.slice(2));
    const stepWall = median(wall.slice(2));
    return { step, stepWall, update: updateCpu, updateWall: update, epoch: (STEPS_PER_EPOCH * step + updateCpu) / 1000, epochWall: (STEPS_PER_EPOCH * stepWall + update) / 1000, rss: rss() };
  }
  if (job.kind === 'sparse-epoch' || job.kind === 'sparse-step') {
    const steps = job.kind === 'sparse-epoch' ? STEPS_PER_EPOCH : job.steps;
    const { s, exec } = await sparseRun(L, job, steps);
    const c0 = cpuMs();
    const t0 = performance.now();
    const { cpu, wall } = timedSteps(L, s, exec.trainer, steps);
    const c1 = cpuMs();
    const t1 = performance.now();
    if (job.kind === 'sparse-epoch') exec.trainer.endEpoch({});
    const update = cpuMs() - c1;
    const updateWall = performance.now() - t1;
    return {
      step: median(cpu.slice(2)),
      stepWall: median(wall.slice(2)),
      update,
      updateWall,
      epoch: (cpuMs() - c0) / 1000,
      epochWall: (performance.now() - t0) / 1000,
      meanStep: (c1 - c0) / steps,
      rss: rss(),
      compactBytes: exec.compactBytes?.() ?? null,
      state: 'kind' in s ? s.kind : 'dense',
    };
  }
  if (job.kind === 'fidelity') {
    // Same experiment, masked vs sparse with window K, up to and including the first mask update.
    const steps = job.steps;
    const a = await session(L, job, steps);
    const b = await session(L, job, steps);
    const ea = L.execution.createExecution(a, L.execution.chooseExecution(a, 'masked'), L.core.silentLogger, 64);
    const eb = L.execution.createExecution(b, L.execution.chooseExecution(b, 'sparse'), L.core.silentLogger, job.window);
    const before = b.masking.readMasks();
    for (const [s, e] of [[a, ea], [b, eb]]) {
      for (const batch of batchesOf(L, s, 1, steps)) {
        e.trainer.step(batch);
        batch.inputs.dispose();
        batch.labels.dispose();
      }
      e.trainer.endEpoch({});
      e.sync();
    }
    const ma = a.masking.readMasks();
    const mb = b.masking.readMasks();
    let grownA = 0;
    let both = 0;
    let differ = 0;
    ma.forEach((m, i) => {
      for (let k = 0; k < m.length; k++) {
        const ga = m[k] === 1 && before[i][k] === 0;
        const gb = mb[i][k] === 1 && before[i][k] === 0;
        if (ga) grownA++;
        if (ga && gb) both++;
        if (m[k] !== mb[i][k]) differ++;
      }
    });
    return { grown: grownA, sameGrown: both, agreement: grownA ? both / grownA : 1, maskDiffs: differ };
  }
  throw new Error(`unknown job ${job.kind}`);
}

// --------------------------------------------------------------------------------------------- parent side

const sparseState = opt('sparse-state', 'auto');

function run(job) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), `--child=${JSON.stringify({ state: sparseState, ...job })}`, `--max-batches=${STEPS_PER_EPOCH}`, `--masked-steps=${maskedSteps}`], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    env: { ...process.env, TSX_TSCONFIG_PATH: join(root, 'tsconfig.json'), SPARSE_LEARNING_NATIVE_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads) },
  });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('SPARSE_BENCH '));
  if (!line) return { failed: `exit ${r.status}: ${(r.stderr ?? '').trim().split('\n').filter((l) => !l.startsWith('    at ')).slice(-3).join(' | ').slice(0, 400)}` };
  return JSON.parse(line.slice('SPARSE_BENCH '.length));
}

const fmtS = (s) => (s >= 100 ? `${s.toFixed(0)} s` : s >= 10 ? `${s.toFixed(1)} s` : `${s.toFixed(2)} s`);
const fmtMs = (ms) => (ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`);
const fmtMb = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const ratio = (a, b) => `${(a / b).toFixed(1)}×`;

// PyTorch's masked LeNet-300-100 step (as scripts/bench-torch.py: forward, nll_loss(log_softmax), backward,
// SGD Nesterov 0.9 + wd 5e-4, then weight *= mask at 5 %), timed in process CPU time and wall time.
const TORCH_SCRIPT = `
import json, statistics, sys, time, torch, torch.nn as nn, torch.nn.functional as F
torch.set_num_threads(int(sys.argv[1])); torch.manual_seed(0)
class Net(nn.Module):
    def __init__(self):
        super().__init__(); self.fc1, self.fc2, self.fc3 = nn.Linear(784, 300), nn.Linear(300, 100), nn.Linear(100, 10)
    def forward(self, x):
        return F.log_softmax(self.fc3(F.relu(self.fc2(F.relu(self.fc1(x.view(-1, 784)))))), dim=1)
net = Net(); opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=5e-4)
masks = {n: (torch.rand_like(p) < 0.05).float() for n, p in net.named_parameters() if p.dim() > 1}
params = dict(net.named_parameters())
x = torch.randn(100, 1, 28, 28); y = torch.randint(0, 10, (100,))
cpu, wall = [], []
for i in range(int(sys.argv[2]) + 5):
    c0, t0 = time.process_time(), time.perf_counter()
    opt.zero_grad(); loss = F.nll_loss(net(x), y); loss.backward(); opt.step()
    for n, m in masks.items(): params[n].data.mul_(m)
    loss.item()
    if i >= 5: cpu.append((time.process_time() - c0) * 1000); wall.append((time.perf_counter() - t0) * 1000)
print("TORCH " + json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "cpuMs": statistics.median(cpu), "wallMs": statistics.median(wall)}))
`;

function torchStep() {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE; // the reference at its best: no pinned older kernel set
  delete env.OPENBLAS_L2_SIZE;
  const r = spawnSync(PYTHON, ['-c', TORCH_SCRIPT, String(threads), String(quick ? 50 : 200)], { encoding: 'utf8', env });
  const line = (r.stdout ?? '').split('\n').find((l) => l.startsWith('TORCH '));
  if (!line) return { unavailable: `${PYTHON} with torch failed (exit ${r.status}): ${(r.stderr ?? '').trim().split('\n').slice(-1)[0] ?? ''}` };
  return JSON.parse(line.slice('TORCH '.length));
}

function parent() {
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  console.log(`sparse-learning sparse bench — node ${process.version}, ${cpu}, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, ${new Date().toISOString()}`);
  console.log(`${threads} native thread${threads > 1 ? 's' : ''} per process; times are process CPU time (wall time in brackets): the machine is shared`);
  console.log(`masked: SparseTrainer on the native backend, epoch = ${STEPS_PER_EPOCH} × median step + one mask update (projected); sparse: one real ${STEPS_PER_EPOCH}-step epoch incl. its mask update`);
  console.log(`sparse session form: --sparse-state ${sparseState} (MLPs: ${sparseState === 'dense' ? 'dense TF.js model beside the compact layers' : 'compact session, no dense tensors after the initial draw'}; LeNet-5: ${sparseState === 'dense' ? 'the dense session' : 'the dense model released once the trainer is built'})\n`);
  const out = { cpu, started: new Date().toISOString(), rows: [], crossover: [], fidelity: [], pytorch: null };
  const maskedCache = new Map();
  const masked = (model, preset) => {
    const key = `${model}/${preset}`;
    if (!maskedCache.has(key)) maskedCache.set(key, run({ kind: 'masked', model, preset, density: 0.05 }));
    return maskedCache.get(key);
  };
  if (!flag('cnn')) mlpSection(out, masked);
  cnnSection(out, masked);
  console.log(`\nload average after the run: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const json = opt('json', '');
  if (json) writeFileSync(json, JSON.stringify(out, null, 2));
}

function epochRow(m, s, c) {
  if (m.failed || s.failed) return `| ${c.model} | ${c.preset} | ${c.density * 100} % | ${m.failed ?? ''} | ${s.failed ?? ''} |`;
  return `| ${c.model} | ${c.preset} | ${c.density * 100} % | ${fmtS(m.epoch)} (${fmtS(m.epochWall)}) | ${fmtS(s.epoch)} (${fmtS(s.epochWall)}) | **${ratio(m.epoch, s.epoch)}** | ${ratio(m.epochWall, s.epochWall)} | ${fmtMs(m.step)} | ${fmtMs(s.step)} | ${fmtMs(m.update)} / ${fmtMs(s.update)} | ${fmtMb(m.rss)} / ${fmtMb(s.rss)} | ${fmtMb(s.compactBytes ?? 0)} |`;
}

// LeNet-5-Caffe (issue 9, conv stages): masked vs SparseCnnTrainer epochs at 1/2/5 %, then the step crossover.
function cnnSection(out, masked) {
  console.log(`\nLeNet-5-Caffe, Sparse Momentum, default window 64 (epoch = ${STEPS_PER_EPOCH} steps${STEPS_PER_EPOCH === 540 ? '' : ', cut with --max-batches'}):`);
  console.log('| model | preset | density | masked epoch | sparse epoch | speed-up (CPU) | speed-up (wall) | masked step | sparse step (median) | mask update masked / sparse | peak RSS masked / sparse | sparse compact |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  out.cnn = [];
  const m = masked('lenet5', 'sparse-momentum');
  for (const density of quick ? [0.05] : [0.01, 0.02, 0.05]) {
    const c = { model: 'lenet5', preset: 'sparse-momentum', density };
    const s = run({ kind: 'sparse-epoch', ...c, window: 64 });
    out.cnn.push({ ...c, masked: m, sparse: s });
    console.log(epochRow(m, s, c));
  }
  console.log('\ncrossover (LeNet-5, Sparse Momentum, median sparse step CPU time over 12 steps; masked step from above):');
  out.cnnCrossover = [];
  for (const d of quick ? [0.1, 0.3] : [0.1, 0.2, 0.3, 0.5]) {
    const s = run({ kind: 'sparse-step', model: 'lenet5', preset: 'sparse-momentum', density: d, steps: 14, window: 1 });
    out.cnnCrossover.push({ density: d, sparseStep: s.step, maskedStep: m.step, failed: s.failed });
    console.log(`  density ${(d * 100).toFixed(0).padStart(3)} %  sparse ${s.failed ?? fmtMs(s.step)}  masked ${m.failed ?? fmtMs(m.step)}  ${s.failed || m.failed ? '' : `sparse/masked time ${(s.step / m.step).toFixed(2)}`}`);
  }
}

function mlpSection(out, masked) {
  const cases = [
    ...[0.01, 0.02, 0.05, 0.1].flatMap((d) => [
      { model: 'set-mlp', preset: 'set', density: d },
      { model: 'set-mlp', preset: 'sparse-momentum', density: d },
    ]),
    { model: 'lenet300-100', preset: 'sparse-momentum', density: 0.02 },
    { model: 'lenet300-100', preset: 'sparse-momentum', density: 0.05 },
  ].filter((c) => !quick || c.density === 0.02 || c.model === 'lenet300-100');
  console.log('| model | preset | density | masked epoch | sparse epoch | speed-up (CPU) | speed-up (wall) | masked step | sparse step (median) | mask update masked / sparse | peak RSS masked / sparse | sparse compact |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const c of cases) {
    const m = masked(c.model, c.preset);
    const s = run({ kind: 'sparse-epoch', ...c, window: 64 });
    out.rows.push({ ...c, masked: m, sparse: s });
    console.log(epochRow(m, s, c));
  }

  console.log('\ncrossover (set-mlp, SET, median step CPU time over 12 steps; masked step from above):');
  const ms = masked('set-mlp', 'set');
  for (const d of quick ? [0.2, 0.4] : [0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.7]) {
    // window 1: a window covering these few steps would switch on the full dense momentum (exactness mode).
    const s = run({ kind: 'sparse-step', model: 'set-mlp', preset: 'set', density: d, steps: 14, window: 1 });
    out.crossover.push({ density: d, sparseStep: s.step, maskedStep: ms.step, failed: s.failed });
    console.log(`  density ${(d * 100).toFixed(0).padStart(3)} %  sparse ${s.failed ?? fmtMs(s.step)}  masked ${fmtMs(ms.step)}  ${s.failed ? '' : `sparse/masked time ${(s.step / ms.step).toFixed(2)}`}`);
  }
  const pays = out.crossover.filter((c) => !c.failed && c.sparseStep < c.maskedStep).map((c) => c.density);
  const stops = out.crossover.filter((c) => !c.failed && c.sparseStep >= c.maskedStep).map((c) => c.density);
  out.crossoverDensity = { lastFaster: pays.length ? Math.max(...pays) : null, firstSlower: stops.length ? Math.min(...stops) : null };
  // The density where sparse/masked step time crosses 1, interpolated linearly between the measured densities
  // around it (what `--execution auto`'s SPARSE_AUTO_MAX_DENSITY is set from).
  const measured = out.crossover.filter((c) => !c.failed).sort((a, b) => a.density - b.density);
  for (let k = 1; k < measured.length && out.crossoverDensity.interpolated === undefined; k++) {
    const [a, b] = [measured[k - 1], measured[k]];
    const [ra, rb] = [a.sparseStep / a.maskedStep, b.sparseStep / b.maskedStep];
    if (ra < 1 && rb >= 1) out.crossoverDensity.interpolated = a.density + ((1 - ra) / (rb - ra)) * (b.density - a.density);
  }
  const at = out.crossoverDensity.interpolated;
  console.log(`  sparse pays up to ${out.crossoverDensity.lastFaster ?? '—'} and stops paying by ${out.crossoverDensity.firstSlower ?? '> tested'}${at === undefined ? '' : ` (interpolated crossover: ${(100 * at).toFixed(1)} %)`}`);

  console.log('\ngrowth fidelity of the dense-gradient window (Sparse Momentum, first mask update, same state):');
  for (const f of [
    { model: 'lenet300-100', density: 0.05, steps: STEPS_PER_EPOCH, window: 64 },
    { model: 'lenet300-100', density: 0.05, steps: STEPS_PER_EPOCH, window: 16 },
    { model: 'set-mlp', density: 0.02, steps: quick ? 80 : 150, window: 64 },
  ]) {
    const r = run({ kind: 'fidelity', preset: 'sparse-momentum', ...f });
    out.fidelity.push({ ...f, ...r });
    console.log(`  ${f.model} ${f.density * 100} % after ${f.steps} steps, window ${f.window}: ${r.failed ?? `${(100 * r.agreement).toFixed(2)} % of the ${r.grown} weights the masked run grew were grown by the sparse run (${r.maskDiffs} mask entries differ)`}`);
  }

  console.log(`\nLeNet-300-100, Sparse Momentum 5 %: sparse step vs PyTorch masked step (${threads} thread${threads > 1 ? 's' : ''}, CPU time):`);
  const t = torchStep();
  const l5 = out.rows.find((r) => r.model === 'lenet300-100' && r.density === 0.05);
  out.pytorch = t;
  if (t.unavailable || !l5 || l5.sparse.failed) console.log(`  ${t.unavailable ?? 'sparse row failed'}`);
  else {
    const epochStep = (l5.sparse.epoch * 1000) / STEPS_PER_EPOCH;
    console.log(`  PyTorch ${t.torch} masked step ${fmtMs(t.cpuMs)} (wall ${fmtMs(t.wallMs)}), sparse step ${fmtMs(l5.sparse.step)} (wall ${fmtMs(l5.sparse.stepWall)}; epoch average incl. batch reads, window and update ${fmtMs(epochStep)})`);
    console.log(`  speed-up vs PyTorch: ${ratio(t.cpuMs, l5.sparse.step)} (median step), ${ratio(t.cpuMs, epochStep)} (epoch average)`);
  }
}

/**
 * `--state-ab`: the memory of the sparse session's two forms, in one run — a real sparse epoch of each MLP row
 * with `--sparse-state dense` (the dense TF.js model beside the compact layers) and `auto` (the compact session),
 * alternating, `--rounds` rounds (default 2): peak RSS of each process, epoch and median step CPU time.
 */
function stateAb() {
  const rounds = Number(opt('rounds', 2));
  console.log(`sparse-learning sparse bench, session forms — node ${process.version}, ${os.cpus()[0]?.model ?? 'unknown cpu'}, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}, ${new Date().toISOString()}`);
  console.log(`${threads} native thread${threads > 1 ? 's' : ''}; one real ${STEPS_PER_EPOCH}-step epoch per process (window 64, its mask update included), ${rounds} rounds alternating dense / auto`);
  console.log('| model | preset | density | peak RSS dense / auto | RSS saved | epoch CPU dense / auto | median step dense / auto | compact MiB |');
  console.log('|---|---|---|---|---|---|---|---|');
  const cases = [
    { model: 'lenet300-100', preset: 'sparse-momentum', density: 0.02 },
    { model: 'lenet300-100', preset: 'sparse-momentum', density: 0.05 },
    { model: 'set-mlp', preset: 'set', density: 0.02 },
    { model: 'set-mlp', preset: 'sparse-momentum', density: 0.02 },
  ];
  const rows = [];
  for (const c of cases) {
    const got = { dense: [], auto: [] };
    for (let r = 0; r < rounds; r++) for (const state of ['dense', 'auto']) got[state].push(run({ kind: 'sparse-epoch', ...c, window: 64, state }));
    const failed = [...got.dense, ...got.auto].find((x) => x.failed);
    if (failed) {
      console.log(`| ${c.model} | ${c.preset} | ${c.density * 100} % | ${failed.failed} |`);
      continue;
    }
    const med = (xs, k) => median(xs.map((x) => x[k]));
    const [rd, ra] = [med(got.dense, 'rss'), med(got.auto, 'rss')];
    rows.push({ ...c, dense: got.dense, auto: got.auto });
    console.log(
      `| ${c.model} | ${c.preset} | ${c.density * 100} % | ${fmtMb(rd)} / ${fmtMb(ra)} | ${fmtMb(rd - ra)} (${((100 * (rd - ra)) / rd).toFixed(0)} %) | ${fmtS(med(got.dense, 'epoch'))} / ${fmtS(med(got.auto, 'epoch'))} | ${fmtMs(med(got.dense, 'step'))} / ${fmtMs(med(got.auto, 'step'))} | ${fmtMb(med(got.auto, 'compactBytes'))} (${got.auto.map((x) => x.state).join(', ')}) |`,
    );
  }
  console.log(`
load average after the run: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  const json = opt('json', null);
  if (json) writeFileSync(json, `${JSON.stringify({ rows }, null, 2)}\n`);
}

const childArg = argv.find((a) => a.startsWith('--child='));
if (flag('state-ab')) {
  stateAb();
} else if (childArg) {
  const result = await child(JSON.parse(childArg.slice('--child='.length)));
  console.log(`SPARSE_BENCH ${JSON.stringify(result)}`);
  process.exit(0);
} else {
  parent();
}
