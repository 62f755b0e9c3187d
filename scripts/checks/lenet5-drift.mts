// Why do the sparse and masked executions of one experiment separate over a whole epoch (issue 9, item 4)?
// Runs several executions of the same session in lock-step on the same batches and records, per step, the
// largest difference of each from the run it is compared with (weights and biases; momentum of the masked
// layers), and at every mask update which pruned/grown positions differ and how far each differing decision
// was from the selection boundary (figures and conclusions: results/README.md; outputs: results/checks/lenet5-drift/):
//
//   A  masked                       the reference (dense tensors × masks, core's SparseTrainer)
//   B  sparse, full window          the sparse execution the issue says must reproduce A
//   C  masked, ±1 ulp               A with every active weight moved by 1 ulp (random direction) before the first
//                                   step (chaos control: the same computation from a state 1 ulp away)
//   F  masked, other rounding       A with the dense kernels' AVX2 variant and the own GEMM instead of the
//                                   AVX-512 / per-shape OpenBLAS choice (the same computation, other summation order)
//   D  sparse, A's masks injected   B whose mask updates take A's decisions (no decision can differ)
//   E  sparse, ±1 ulp               B with C's move, compared with B (chaos inside the sparse execution)
//   W  sparse, default window       B with the default 64-step dense-gradient window
//   S  sparse, shadowing A          a sparse execution rebuilt from A's state (weights, masks, momentum, books)
//                                   before every `--resync`-th step: its distance to A after each step is what
//                                   the two executions compute differently in one step (or a few, and across
//                                   each mask update), with no time for the trajectory to amplify it
//   T  masked ±1 ulp, shadowing A   the same for a masked run moved by ±1 ulp after each re-synchronisation:
//                                   what a 1-ulp difference alone does in one step
//
// If C and F separate from A as fast as B does, the separation is the sensitivity of the trajectory to
// rounding (a positive Lyapunov exponent), not a difference in what the two executions compute.
//
//   TSX_TSCONFIG_PATH=tsconfig.json node --import tsx scripts/checks/lenet5-drift.mts \
//     [--model lenet5|lenet300-100] [--density 0.05] [--lr 0.1] [--seed 17] [--epochs 1] [--max-batches N]
//     [--runs A,B,C,F,D,E,W,S,T] [--resync 1] [--print-every 60] [--show-entries] [--json out.json]
//
// One heavy process (each run is a whole training); LeNet-5 with 8 runs over 540 steps takes ~6 min here.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { loadNativeAddon, scatterDense, type SparseCnnTrainer, type SparseMlpTrainer } from '@sparse-learning/backend-native';
import { batchIndices } from '@sparse-learning/datasets';
import { createRng, silentLogger, type MaskUpdateInput, type MaskUpdateResult } from '@sparse-learning/core';
import { resolveConfig } from '../../packages/runner/src/config/resolve.js';
import { prepareExperiment, type ExperimentSession } from '../../packages/runner/src/run/experiment.js';
import { chooseExecution, createExecution, type Execution } from '../../packages/runner/src/run/sparse-execution.js';

const { values: opts } = parseArgs({
  options: {
    model: { type: 'string', default: 'lenet5' },
    density: { type: 'string', default: '0.05' },
    lr: { type: 'string', default: '0.1' },
    seed: { type: 'string', default: '17' },
    epochs: { type: 'string', default: '1' },
    'max-batches': { type: 'string' },
    'print-every': { type: 'string', default: '60' },
    resync: { type: 'string', default: '1' },
    'show-entries': { type: 'boolean', default: false },
    runs: { type: 'string', default: 'A,B,C,F,D,E' },
    json: { type: 'string' },
  },
});
const density = Number(opts.density);
const lr = Number(opts.lr);
const seed = Number(opts.seed);
const epochsRun = Number(opts.epochs);
const runIds = opts.runs!.split(',');

type Kind = 'masked' | 'sparse';
interface Run {
  readonly id: string;
  readonly label: string;
  readonly kind: Kind;
  /** The run it is compared with. */
  readonly against: string;
  readonly session: ExperimentSession;
  execution: Execution;
  readonly shadow: boolean;
  /** A shadow run keeps its execution for the step after a mask update (the update's carry-over is the sparse trainer's own). */
  keep: boolean;
  /** Moves every active weight by 1 ulp (at the start; shadow runs: after every re-synchronisation). */
  readonly ulp: boolean;
  /** Inputs and results of this run's mask updates, in order. */
  readonly updates: { input: RecordedInput[]; result: MaskUpdateResult }[];
  /** Steps with the AVX2 kernels and the own GEMM (switched back after each of its steps). */
  readonly otherRounding: boolean;
}
interface RecordedInput {
  readonly name: string;
  readonly weight: Float32Array;
  readonly mask: Uint8Array;
  readonly momentum: Float32Array | null;
}

const RUN_SPECS: Record<string, { label: string; kind: Kind; against: string; ulp?: boolean; inject?: boolean; otherRounding?: boolean; window?: number; shadow?: boolean }> = {
  A: { label: 'masked (reference)', kind: 'masked', against: '' },
  B: { label: 'sparse, full window', kind: 'sparse', against: 'A' },
  C: { label: 'masked, ±1 ulp', kind: 'masked', against: 'A', ulp: true },
  F: { label: 'masked, AVX2 + own GEMM', kind: 'masked', against: 'A', otherRounding: true },
  D: { label: 'sparse, A masks injected', kind: 'sparse', against: 'A', inject: true },
  E: { label: 'sparse, ±1 ulp', kind: 'sparse', against: 'B', ulp: true },
  W: { label: 'sparse, window 64', kind: 'sparse', against: 'A', window: 64 },
  S: { label: 'sparse, shadowing A', kind: 'sparse', against: 'A', shadow: true },
  T: { label: 'masked ±1 ulp, shadowing A', kind: 'masked', against: 'A', shadow: true, ulp: true },
};
const addon = loadNativeAddon();
if (!addon?.setIsa || !addon.setGemmPolicy) throw new Error('the native addon (version >= 4) is needed');
const defaultIsa = addon.info().isa;

/** Moves `x` by one float32 ulp away from zero (`up`) or towards it. */
function nextUlp(x: number, up = true): number {
  const f = new Float32Array([x]);
  const i = new Int32Array(f.buffer);
  i[0] += up ? 1 : -1;
  return f[0];
}

/**
 * Moves every active weight of the masked layers by 1 ulp, up or down as `signs` draws (before any execution
 * reads the session); returns what was moved.
 */
function moveByUlp(session: ExperimentSession, signs: ReturnType<typeof createRng>): string {
  let moved = 0;
  let largest = 0;
  for (const name of session.masking!.names) {
    const v = session.model.variables.find((x) => x.name === name)!.variable;
    const w = Float32Array.from(v.dataSync());
    for (let k = 0; k < w.length; k++) {
      const up = signs.next() < 0.5;
      if (w[k] === 0) continue;
      const before = w[k];
      w[k] = nextUlp(w[k], up);
      largest = Math.max(largest, Math.abs(w[k] - before));
      moved++;
    }
    tf.tidy(() => v.assign(tf.tensor(w, v.shape, 'float32')));
  }
  return `${moved} active weights moved by 1 ulp (largest move ${largest.toExponential(2)})`;
}

const runs: Run[] = [];
let perturbed = '';
for (const id of runIds) {
  const spec = RUN_SPECS[id];
  if (!spec) throw new Error(`unknown run '${id}'; expected ${Object.keys(RUN_SPECS).join(', ')}`);
  const maxBatches = opts['max-batches'] ? { maxBatches: Number(opts['max-batches']) } : {};
  const { config } = resolveConfig({
    name: `drift-${id}`,
    values: { model: opts.model, preset: 'sparse-momentum', density, lr, seed, epochs: 100, batchSize: 100, backend: 'native', ...maxBatches },
  });
  const session = await prepareExperiment({ config });
  if (spec.ulp && !spec.shadow) perturbed = moveByUlp(session, createRng('drift-ulp'));
  const choice = chooseExecution(session, spec.kind);
  const execution = createExecution(session, choice, silentLogger, spec.kind === 'sparse' ? (spec.window ?? Number.MAX_SAFE_INTEGER) : 64);
  const run: Run = { id, label: spec.label, kind: spec.kind, against: spec.against, otherRounding: spec.otherRounding === true, shadow: spec.shadow === true, keep: false, ulp: spec.ulp === true, session, execution, updates: [] };
  const updater = session.composition.maskUpdater!;
  const real = updater.update.bind(updater);
  updater.update = (input: MaskUpdateInput): MaskUpdateResult => {
    const recorded = input.layers.map((l) => ({ name: l.name, weight: l.weight.slice(), mask: l.mask.slice(), momentum: l.momentum ? l.momentum.slice() : null }));
    let result: MaskUpdateResult;
    if (spec.inject) {
      // A's decisions (A steps and updates first in every round) applied to this run's own weights.
      const a = runs[0].updates[run.updates.length];
      if (!a || runs[0].id !== 'A') throw new Error('run D needs run A first');
      result = {
        ...a.result,
        layers: a.result.layers.map((r, i) => {
          const weight = input.layers[i].weight.slice();
          for (let k = 0; k < weight.length; k++) if (!r.mask[k]) weight[k] = 0;
          return { ...r, weight };
        }),
      };
    } else {
      result = real(input);
    }
    run.updates.push({ input: recorded, result });
    return result;
  };
  runs.push(run);
}

/** Puts `from`'s weights, masks, optimizer slots and trainer books into `to` (the shadow run's session). */
function copyState(from: ExperimentSession, to: ExperimentSession): void {
  const source = new Map(from.model.variables.map((v) => [v.name, v.variable]));
  for (const v of to.model.variables) {
    const values = Float32Array.from(source.get(v.name)!.dataSync());
    tf.tidy(() => v.variable.assign(tf.tensor(values, v.variable.shape, 'float32')));
  }
  to.masking!.setMasks(from.masking!.readMasks());
  to.masking!.baselineNonzero = from.masking!.baselineNonzero;
  to.optimizer.setState(from.optimizer.getState());
  to.trainer.setState(from.trainer.getState());
}

/** Every trainable parameter of a run, by name, in the model's layout. */
function parameters(run: Run): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  if (run.kind === 'masked') {
    for (const v of run.session.model.variables) out.set(v.name, v.variable.dataSync() as Float32Array);
    return out;
  }
  const sparse = (run.execution as unknown as { sparse: SparseCnnTrainer | SparseMlpTrainer }).sparse;
  if ('denseView' in sparse) {
    sparse.weightNames.forEach((_, i) => {
      const view = sparse.denseView(i);
      out.set(view.weightName, view.weight);
      if (view.biasName && view.bias) out.set(view.biasName, view.bias);
    });
  } else {
    for (const spec of sparse.layers) {
      out.set(spec.weightName, scatterDense(spec.layer, spec.layer.vals));
      if (spec.biasName && spec.layer.bias) out.set(spec.biasName, spec.layer.bias);
    }
  }
  return out;
}

/** The momentum buffer of every masked layer (the masked path's; for sparse runs the dense view's). */
function momenta(run: Run): Map<string, Float32Array> {
  const out = new Map<string, Float32Array>();
  if (run.kind === 'masked') {
    for (const name of run.session.masking!.names) {
      const t = run.session.optimizer.momentumOf(name);
      out.set(name, t ? Float32Array.from(t.dataSync()) : new Float32Array(0));
      t?.dispose();
    }
    return out;
  }
  const sparse = (run.execution as unknown as { sparse: SparseCnnTrainer | SparseMlpTrainer }).sparse;
  if ('denseView' in sparse) {
    sparse.weightNames.forEach((_, i) => {
      const view = sparse.denseView(i);
      out.set(view.weightName, view.momentum);
    });
  } else {
    sparse.layers.forEach((spec, i) => out.set(spec.weightName, sparse.denseMomentumOf(i)));
  }
  return out;
}

/** Largest |difference| over all entries (the variable holding it in `maxDiff.where`). */
function maxDiff(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let d = 0;
  maxDiff.where = '';
  for (const [name, x] of a) {
    const y = b.get(name)!;
    for (let k = 0; k < x.length; k++) {
      const e = Math.abs(x[k] - y[k]);
      if (e > d || Number.isNaN(e)) (d = e), (maxDiff.where = name);
    }
  }
  return d;
}
maxDiff.where = '';

const ulpOf = (x: number): number => Math.abs(nextUlp(Math.abs(x)) - Math.abs(x));

/** Margin of every decision that differs between run A and run X at one update, per layer. */
function compareUpdate(a: { input: RecordedInput[]; result: MaskUpdateResult }, x: { input: RecordedInput[]; result: MaskUpdateResult }) {
  return a.result.layers.map((ra, i) => {
    const rx = x.result.layers[i];
    const ia = a.input[i];
    const ix = x.input[i];
    const inputMaskDiffs = ia.mask.reduce((n, v, k) => n + (v !== ix.mask[k] ? 1 : 0), 0);
    const pa = new Set(ra.prunedIndices);
    const px = new Set(rx.prunedIndices);
    const ga = new Set(ra.grownIndices);
    const gx = new Set(rx.grownIndices);
    const sameGrown = [...ga].filter((k) => gx.has(k)).length;
    const samePruned = [...pa].filter((k) => px.has(k)).length;
    // Boundaries: prune = between the largest pruned |w| and the smallest kept |w| (active before);
    // growth = between the smallest grown |momentum| and the largest not-grown one (inactive after pruning).
    const boundary = (inp: RecordedInput, pruned: Set<number>, grown: Set<number>) => {
      let maxPruned = 0;
      let minKept = Infinity;
      let minGrown = Infinity;
      let maxNotGrown = 0;
      for (let k = 0; k < inp.mask.length; k++) {
        const w = Math.abs(inp.weight[k]);
        if (inp.mask[k]) {
          if (pruned.has(k)) maxPruned = Math.max(maxPruned, w);
          else minKept = Math.min(minKept, w);
        }
        if (!inp.mask[k] || pruned.has(k)) {
          const m = Math.abs(inp.momentum?.[k] ?? 0);
          if (grown.has(k)) minGrown = Math.min(minGrown, m);
          else maxNotGrown = Math.max(maxNotGrown, m);
        }
      }
      return { prune: (maxPruned + minKept) / 2, pruneGap: minKept - maxPruned, grow: (minGrown + maxNotGrown) / 2, growGap: minGrown - maxNotGrown };
    };
    const ba = boundary(ia, pa, ga);
    const bx = boundary(ix, px, gx);
    // Every position whose decision differs: its score in both runs, its margin to A's boundary (in ulps of
    // the score) and the change of its score between the runs.
    const flips: { kind: 'prune' | 'grow'; k: number; scoreA: number; scoreX: number; marginA: number; marginUlps: number; drift: number }[] = [];
    const add = (kind: 'prune' | 'grow', k: number) => {
      const scoreA = Math.abs(kind === 'prune' ? ia.weight[k] : (ia.momentum?.[k] ?? 0));
      const scoreX = Math.abs(kind === 'prune' ? ix.weight[k] : (ix.momentum?.[k] ?? 0));
      const marginA = scoreA - (kind === 'prune' ? ba.prune : ba.grow);
      flips.push({ kind, k, scoreA, scoreX, marginA, marginUlps: Math.abs(marginA) / Math.max(ulpOf(scoreA), 1e-45), drift: Math.abs(scoreA - scoreX) });
    };
    for (const k of pa) if (!px.has(k)) add('prune', k);
    for (const k of px) if (!pa.has(k)) add('prune', k);
    for (const k of ga) if (!gx.has(k)) add('grow', k);
    for (const k of gx) if (!ga.has(k)) add('grow', k);
    // Positions at risk: A's active weights (prune) and candidates (growth) whose margin to A's boundary is
    // below the largest score change between the runs in that layer.
    const maxWeightDrift = ia.weight.reduce((d, w, k) => Math.max(d, Math.abs(Math.abs(w) - Math.abs(ix.weight[k]))), 0);
    const maxMomentumDrift = ia.momentum && ix.momentum ? ia.momentum.reduce((d, m, k) => Math.max(d, Math.abs(Math.abs(m) - Math.abs(ix.momentum![k]))), 0) : 0;
    let pruneAtRisk = 0;
    let growAtRisk = 0;
    for (let k = 0; k < ia.mask.length; k++) {
      if (ia.mask[k] && Math.abs(Math.abs(ia.weight[k]) - ba.prune) <= maxWeightDrift) pruneAtRisk++;
      if ((!ia.mask[k] || pa.has(k)) && Math.abs(Math.abs(ia.momentum?.[k] ?? 0) - ba.grow) <= maxMomentumDrift) growAtRisk++;
    }
    const minMargin = (kind: string) => flips.filter((f) => f.kind === kind).reduce((m, f) => Math.min(m, f.marginUlps), Infinity);
    return {
      layer: ra.name,
      inputMaskDiffs,
      removed: [ra.removed, rx.removed],
      regrow: [ra.regrow, rx.regrow],
      pruned: ra.prunedIndices.length,
      samePruned,
      grown: ra.grownIndices.length,
      sameGrown,
      pruneFlips: flips.filter((f) => f.kind === 'prune').length,
      growFlips: flips.filter((f) => f.kind === 'grow').length,
      pruneGapA: ba.pruneGap,
      growGapA: ba.growGap,
      maxWeightDrift,
      maxMomentumDrift,
      pruneAtRisk,
      growAtRisk,
      minPruneMarginUlps: minMargin('prune'),
      minGrowMarginUlps: minMargin('grow'),
      // The flips whose margin to A's boundary exceeds their own score change would need the boundary to move.
      flipsBeyondOwnDrift: flips.filter((f) => Math.abs(f.marginA) > f.drift).length,
      examples: flips.sort((p, q) => Math.abs(p.marginA) - Math.abs(q.marginA)).slice(0, 3),
    };
  });
}

const reference = runs[0];
if (reference.id !== 'A') throw new Error('run A comes first');
const byId = new Map(runs.map((r) => [r.id, r]));
const pairs = runs.slice(1).filter((r) => byId.has(r.against));
const curve: Record<string, number[]> = Object.fromEntries(pairs.map((r) => [r.id, [] as number[]]));
const momentumCurve: Record<string, number[]> = Object.fromEntries(pairs.map((r) => [r.id, [] as number[]]));
const losses: Record<string, number[]> = Object.fromEntries(runs.map((r) => [r.id, [] as number[]]));
const session = reference.session;
const started = Date.now();
const log = (s: string) => console.log(s);
log(`${opts.model} density ${density} lr ${lr} seed ${seed}: ${session.stepsPerEpoch} steps per epoch, ${epochsRun} epochs; runs ${runs.map((r) => `${r.id} = ${r.label}`).join('; ')}`);
if (perturbed) log(`1-ulp move: ${perturbed}`);
const updateReports: { epoch: number; pair: string; layers: ReturnType<typeof compareUpdate> }[] = [];
let step = 0;
const resync = Number(opts.resync);
const shadowSigns = createRng('drift-ulp-shadow');
for (let epoch = 1; epoch <= epochsRun; epoch++) {
  const order = session.dataset.train.epochOrder(session.dataOrderRng(epoch), true);
  for (let b = 0; b < session.stepsPerEpoch; b++) {
    const batch = session.dataset.train.batch(batchIndices(order, b, session.config.batchSize), session.augmentRng(epoch, b));
    // Shadow runs restart from A's state before A steps (every `resync` steps).
    for (const run of runs) {
      if (run.shadow && run.keep) run.keep = false;
      else if (run.shadow && step % resync === 0) {
        copyState(reference.session, run.session);
        if (run.ulp) moveByUlp(run.session, shadowSigns);
        run.execution = createExecution(run.session, chooseExecution(run.session, run.kind), silentLogger, Number.MAX_SAFE_INTEGER);
      }
    }
    try {
      for (const run of runs) {
        if (run.otherRounding) {
          addon.setIsa!('avx2');
          addon.setGemmPolicy!('own');
        }
        try {
          losses[run.id].push(run.execution.trainer.step(batch).loss);
        } finally {
          if (run.otherRounding) {
            addon.setIsa!(defaultIsa as 'avx512');
            addon.setGemmPolicy!('measure');
          }
        }
      }
    } finally {
      batch.inputs.dispose();
      batch.labels.dispose();
    }
    step++;
    const params = new Map(runs.map((r) => [r.id, parameters(r)]));
    const where: Record<string, string> = {};
    for (const run of pairs) {
      curve[run.id].push(maxDiff(params.get(run.against)!, params.get(run.id)!));
      where[run.id] = maxDiff.where;
    }
    const moms = new Map(runs.map((r) => [r.id, momenta(r)]));
    for (const run of pairs) momentumCurve[run.id].push(maxDiff(moms.get(run.against)!, moms.get(run.id)!));
    if (opts['show-entries']) {
      // The momentum entries a shadow run's single step changed by more than 1e-7 (output unit = last axis).
      for (const run of pairs.filter((r) => r.shadow)) {
        const other = moms.get(run.id)!;
        for (const [name, x] of moms.get('A')!) {
          const y = other.get(name)!;
          const units = reference.session.model.variables.find((v) => v.name === name)!.variable.shape.at(-1)!;
          const big: string[] = [];
          for (let k = 0; k < x.length; k++) if (Math.abs(x[k] - y[k]) > 1e-7) big.push(`${k} (unit ${k % units}): ${(x[k] - y[k]).toExponential(1)}`);
          if (big.length) log(`   step ${step} ${run.id}−A ${name}: ${big.length} momentum entries differ by > 1e-7: ${big.slice(0, 8).join(', ')}`);
        }
      }
    }
    if (step % Number(opts['print-every']) === 0 || step <= 3) {
      log(`step ${String(step).padStart(5)}  ` + pairs.map((r) => `${r.id}−${r.against} ${curve[r.id][step - 1].toExponential(2)} [${where[r.id]}] (m ${momentumCurve[r.id][step - 1].toExponential(1)})`).join('  ') + `  (${((Date.now() - started) / 1000).toFixed(0)} s)`);
    }
  }
  for (const run of runs) {
    run.execution.trainer.endEpoch({});
    if (run.shadow) run.keep = true;
  }
  // The masks after the update (sparse runs: written back into the session by endEpoch).
  for (const run of pairs) {
    const other = byId.get(run.against)!;
    const refMasks = other.session.masking!.readMasks();
    const masks = run.session.masking!.readMasks();
    const differing = masks.reduce((n, m, i) => n + m.reduce((c, v, k) => c + (v !== refMasks[i][k] ? 1 : 0), 0), 0);
    const u = other.updates.length - 1;
    if (u < 0 || !run.updates[u]) continue;
    const layers = compareUpdate(other.updates[u], run.updates[u]);
    updateReports.push({ epoch, pair: `${run.id}−${run.against}`, layers });
    log(`update after epoch ${epoch}, ${run.id} (${run.label}) vs ${run.against}: ${differing} mask entries differ after it`);
    for (const l of layers) {
      log(
        `  ${l.layer.padEnd(12)} input masks differ ${l.inputMaskDiffs}; removed ${l.removed.join('/')} regrow ${l.regrow.join('/')}; ` +
          `same pruned ${l.samePruned}/${l.pruned}, same grown ${l.sameGrown}/${l.grown} (${((100 * l.sameGrown) / Math.max(l.grown, 1)).toFixed(1)} %); ` +
          `flips prune ${l.pruneFlips} grow ${l.growFlips}; max drift |w| ${l.maxWeightDrift.toExponential(2)} |m| ${l.maxMomentumDrift.toExponential(2)}; ` +
          `at risk prune ${l.pruneAtRisk} grow ${l.growAtRisk}; smallest flip margin ${l.minPruneMarginUlps.toExponential(2)} / ${l.minGrowMarginUlps.toExponential(2)} ulps; ` +
          `flips beyond own drift ${l.flipsBeyondOwnDrift}`,
      );
    }
  }
}

/** First step at which a curve reaches `level` (1-based), or null. */
const reach = (c: number[], level: number): number | null => {
  const i = c.findIndex((d) => d >= level);
  return i < 0 ? null : i + 1;
};
/** Least-squares slope of ln(d) per step over the steps where lo <= d <= hi. */
const rate = (c: number[], lo: number, hi: number): { perStep: number | null; from: number; to: number } => {
  const pts = c.map((d, i) => [i + 1, d] as const).filter(([, d]) => d >= lo && d <= hi);
  if (pts.length < 5) return { perStep: null, from: 0, to: 0 };
  const xs = pts.map(([s]) => s);
  const ys = pts.map(([, d]) => Math.log(d));
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  const sxy = xs.reduce((a, x, i) => a + (x - mx) * (ys[i] - my), 0);
  const sxx = xs.reduce((a, x) => a + (x - mx) ** 2, 0);
  return { perStep: sxy / sxx, from: xs[0], to: xs[xs.length - 1] };
};
const describeRate = (r: ReturnType<typeof rate>): string =>
  r.perStep === null ? '-' : `${r.perStep.toFixed(4)}/step (e-fold ${(1 / r.perStep).toFixed(0)} steps) over steps ${r.from}–${r.to}`;
const levels = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2];
const summary = pairs.map((r) => {
  const c = curve[r.id];
  return {
    pair: `${r.id}−${r.against}`,
    label: r.label,
    at: Object.fromEntries([1, 10, 100, 200, 300, 400, 540, c.length].filter((s) => s <= c.length).map((s) => [s, c[s - 1]])),
    reach: Object.fromEntries(levels.map((l) => [l, reach(c, l)])),
    rate: rate(c, 1e-6, 1e-3),
    fastRate: rate(c, 1e-4, 1e-2),
  };
});
log('\nmax |Δparameter| against the run compared with (step: value), first step reaching each level, growth rate of ln max|Δ| per step (least squares over the steps within 1e-6..1e-3, and within 1e-4..1e-2):');
for (const s of summary) {
  log(
    `  ${s.pair} ${s.label.padEnd(26)} ` +
      Object.entries(s.at).map(([k, v]) => `${k}: ${v.toExponential(2)}`).join('  ') +
      `\n      reaches ` + Object.entries(s.reach).map(([l, v]) => `${Number(l).toExponential(0)}@${v ?? '-'}`).join(' ') +
      `  rate ${describeRate(s.rate)}; over 1e-4..1e-2 ${describeRate(s.fastRate)}`,
  );
}
log(`(${((Date.now() - started) / 1000).toFixed(0)} s)`);
if (opts.json) {
  writeFileSync(
    opts.json,
    JSON.stringify({ model: opts.model, density, lr, seed, epochs: epochsRun, stepsPerEpoch: session.stepsPerEpoch, perturbed, runs: runs.map((r) => ({ id: r.id, label: r.label })), summary, updates: updateReports, curve, momentumCurve, losses },
      // Three significant digits are all the figures need (and keep the committed files small).
      (_, v: unknown) => (typeof v === 'number' && Number.isFinite(v) && !Number.isInteger(v) ? Number(v.toPrecision(3)) : v),
    ) + '\n',
  );
}
for (const run of runs) run.session.dispose();
