import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { isSparseLearningError } from '../errors.js';
import { MOMENTUM_BUFFER_SLOT, SGD_STEP_KERNEL, SgdOptimizer } from './sgd-optimizer.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const values = (t: tf.Tensor) => Array.from(t.dataSync());

describe('SgdOptimizer', () => {
  it('follows the hand-worked Nesterov + weight-decay recursion', () => {
    // w = 1, grad = 0.5, wd = 0.1, μ = 0.9, lr = 0.1.
    // step 1: g = 0.6, buf = 0.6, upd = 0.6 + 0.54 = 1.14, w = 0.886
    // step 2 (lr 0.01): g = 0.5886, buf = 0.54 + 0.5886 = 1.1286, upd = 0.5886 + 1.01574 = 1.60434, w = 0.8699566
    const w = tf.variable(tf.tensor1d([1]));
    const grad = tf.tensor1d([0.5]);
    const opt = new SgdOptimizer({ learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.1 });
    expect(opt.momentumOf('w')).toBeNull();
    opt.applyGradients({ w: grad }, { w });
    expect(values(w)[0]).toBeCloseTo(0.886, 6);
    opt.learningRate = 0.01;
    opt.applyGradients({ w: grad }, { w });
    expect(values(w)[0]).toBeCloseTo(0.8699566, 6);
    const buf = opt.momentumOf('w')!;
    expect(values(buf)[0]).toBeCloseTo(1.1286, 6);
    buf.dispose();
    opt.dispose();
    tf.dispose([w, grad]);
  });

  it('plain momentum uses update = buf; momentum 0 keeps no buffer', () => {
    const w = tf.variable(tf.tensor1d([0]));
    const grad = tf.tensor1d([1]);
    const heavy = new SgdOptimizer({ learningRate: 1, momentum: 0.5 });
    heavy.applyGradients({ w: grad }, { w }); // buf 1, w -1
    heavy.applyGradients({ w: grad }, { w }); // buf 1.5, w -2.5
    expect(values(w)[0]).toBeCloseTo(-2.5, 6);
    const plain = new SgdOptimizer({ learningRate: 1 });
    plain.applyGradients({ w: grad }, { w });
    expect(values(w)[0]).toBeCloseTo(-3.5, 6);
    expect(plain.momentumOf('w')).toBeNull();
    heavy.dispose();
    tf.dispose([w, grad]);
  });

  it('momentumOf returns an independent clone', () => {
    const w = tf.variable(tf.tensor2d([[1, 2]]));
    const grad = tf.tensor2d([[1, -1]]);
    const opt = new SgdOptimizer({ learningRate: 0.1, momentum: 0.9 });
    opt.applyGradients({ w: grad }, { w });
    const a = opt.momentumOf('w')!;
    expect(a.shape).toEqual([1, 2]);
    a.dispose();
    const b = opt.momentumOf('w')!;
    expect(values(b)).toEqual([1, -1]);
    tf.dispose([b, w, grad]);
    opt.dispose();
  });

  it('does not leak tensors from step to step', () => {
    const w = tf.variable(tf.randomNormal([8, 4]));
    const grad = tf.randomNormal([8, 4]);
    const opt = new SgdOptimizer({ learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
    opt.applyGradients({ w: grad }, { w });
    const after1 = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) opt.applyGradients({ w: grad }, { w });
    expect(tf.memory().numTensors).toBe(after1);
    opt.dispose();
    expect(tf.memory().numTensors).toBe(after1 - 1);
    tf.dispose([w, grad]);
  });

  it('round-trips its state (slot momentum_buffer) into a fresh optimizer', () => {
    const w1 = tf.variable(tf.tensor2d([[1, 2], [3, 4]]));
    const w2 = tf.variable(tf.tensor2d([[1, 2], [3, 4]]));
    const g = tf.tensor2d([[0.1, -0.2], [0.3, 0.05]]);
    const options = { learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 };
    const a = new SgdOptimizer(options);
    a.applyGradients({ w: g }, { w: w1 });
    w2.assign(w1);
    const state = a.getState();
    expect(state.iterations).toBe(1);
    expect(Array.from(state.slots.w[MOMENTUM_BUFFER_SLOT])).toHaveLength(4);
    const b = new SgdOptimizer(options);
    b.setState(state);
    expect(Array.from(b.getState().slots.w[MOMENTUM_BUFFER_SLOT])).toEqual(Array.from(state.slots.w[MOMENTUM_BUFFER_SLOT]));
    a.applyGradients({ w: g }, { w: w1 });
    b.applyGradients({ w: g }, { w: w2 });
    expect(values(w2)).toEqual(values(w1));
    const mb = b.momentumOf('w')!;
    expect(mb.shape).toEqual([2, 2]);
    mb.dispose();
    a.dispose();
    b.dispose();
    tf.dispose([w1, w2, g]);
  });

  it('rejects bad options, a foreign state and a gradient without variable', () => {
    const codes: string[] = [];
    const attempt = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        if (isSparseLearningError(e)) codes.push(e.code);
      }
    };
    attempt(() => new SgdOptimizer({ learningRate: -1 }));
    attempt(() => new SgdOptimizer({ learningRate: 0.1, momentum: 1 }));
    attempt(() => new SgdOptimizer({ learningRate: 0.1, nesterov: true }));
    const opt = new SgdOptimizer({ learningRate: 0.1 });
    attempt(() => (opt.learningRate = Number.NaN));
    attempt(() => opt.setState({ id: 'adam', iterations: 0, slots: {} }));
    const g = tf.scalar(1);
    attempt(() => opt.applyGradients({ missing: g }, {}));
    g.dispose();
    expect(codes).toEqual([
      'E_OUT_OF_RANGE',
      'E_OUT_OF_RANGE',
      'E_OUT_OF_RANGE',
      'E_OUT_OF_RANGE',
      'E_CHECKPOINT_INCOMPATIBLE',
      'E_SHAPE_MISMATCH',
    ]);
  });
});

describe('SgdOptimizer fused-kernel fast path (SGD_STEP_KERNEL)', () => {
  // A stand-in for a backend's fused kernel (the native backend registers a C++ one): the contract's
  // float32 rounding after every operation, written with Math.fround, on the cpu backend's arrays.
  type Info = { dataId: object; shape: number[]; dtype: string };
  let launches = 0;
  const kernelFunc = ({ inputs, attrs, backend }: { inputs: Record<string, Info>; attrs: Record<string, unknown>; backend: unknown }) => {
    launches++;
    const cpu = backend as { data: { get(id: object): { values: Float32Array } }; makeTensorInfo(s: number[], d: string, v: Float32Array): Info };
    const f = Math.fround;
    const { learningRate, momentum, nesterov, weightDecay } = attrs as { learningRate: number; momentum: number; nesterov: boolean; weightDecay: number };
    const [lr, mu, wd] = [f(learningRate), f(momentum), f(weightDecay)];
    const w = cpu.data.get(inputs.w.dataId).values;
    const grad = cpu.data.get(inputs.grad.dataId).values;
    const buf = inputs.buf ? cpu.data.get(inputs.buf.dataId).values : null;
    const wOut = new Float32Array(w.length);
    const bufOut = new Float32Array(w.length);
    for (let i = 0; i < w.length; i++) {
      const g = wd !== 0 ? f(grad[i] + f(w[i] * wd)) : grad[i];
      let upd = g;
      if (mu !== 0) {
        bufOut[i] = buf ? f(f(buf[i] * mu) + g) : g;
        upd = nesterov ? f(g + f(bufOut[i] * mu)) : bufOut[i];
      }
      wOut[i] = f(w[i] - f(upd * lr));
    }
    const out = [cpu.makeTensorInfo(inputs.w.shape, 'float32', wOut)];
    if (mu > 0) out.push(cpu.makeTensorInfo(inputs.w.shape, 'float32', bufOut));
    return out;
  };

  function trajectory(options: ConstructorParameters<typeof SgdOptimizer>[0]) {
    const init = tf.tensor2d([[0.5, -1, 0.25], [2, -0.125, 3]]);
    const w = tf.variable(init);
    init.dispose();
    const opt = new SgdOptimizer(options);
    const seen: number[][] = [];
    for (let k = 0; k < 3; k++) {
      const g = tf.tensor2d([[0.1 * k, -0.3, 0.02], [1, 0.7, -0.4 + k]]);
      opt.learningRate = 0.1 / (k + 1);
      opt.applyGradients({ w: g }, { w });
      g.dispose();
      seen.push(values(w));
      const m = opt.momentumOf('w');
      if (m) {
        seen.push(values(m));
        m.dispose();
      }
    }
    const state = opt.getState();
    opt.dispose();
    w.dispose();
    return { seen, state };
  }

  it('gives the same weights, buffers and state as the tf.* chain, one launch per variable, no leak', () => {
    const configs = [
      { learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
      { learningRate: 0.1, momentum: 0.5 },
      { learningRate: 0.1, weightDecay: 1e-3 },
    ];
    const plain = configs.map(trajectory);
    tf.registerKernel({ kernelName: SGD_STEP_KERNEL, backendName: 'cpu', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
    try {
      launches = 0;
      const before = tf.memory().numTensors;
      const fused = configs.map(trajectory);
      expect(tf.memory().numTensors).toBe(before);
      expect(launches).toBe(9);
      fused.forEach((r, i) => {
        expect(r.seen).toEqual(plain[i].seen);
        expect(r.state.iterations).toBe(plain[i].state.iterations);
        expect(Object.keys(r.state.slots)).toEqual(Object.keys(plain[i].state.slots));
      });
      // Non-float32 gradients take the tf.* chain.
      const w = tf.variable(tf.tensor1d([1, 2]), true, 'int-grad-w');
      const g = tf.tensor1d([1, 1], 'int32');
      const opt = new SgdOptimizer({ learningRate: 0.5, momentum: 0.9 });
      launches = 0;
      opt.applyGradients({ w: g }, { w });
      expect(launches).toBe(0);
      expect(values(w)).toEqual([0.5, 1.5]);
      opt.dispose();
      tf.dispose([w, g]);
    } finally {
      tf.unregisterKernel(SGD_STEP_KERNEL, 'cpu');
    }
  });
});

describe('SgdOptimizer.applyGradientsMasked (issue 10: the mask multiply folded into the update)', () => {
  it('hand-worked: the update, then W ⊙ M; the buffer stays unmasked', () => {
    // w = [1, -2], grad = [0.5, 1], wd 0.1, μ 0.9 Nesterov, lr 0.1, mask [1, 0].
    // g = [0.6, 0.8]; buf = g; upd = g + 0.9·buf = [1.14, 1.52]; w − 0.1·upd = [0.886, -2.152]; ⊙ M = [0.886, -0].
    const w = tf.variable(tf.tensor1d([1, -2]));
    const grad = tf.tensor1d([0.5, 1]);
    const mask = tf.tensor1d([1, 0]);
    const opt = new SgdOptimizer({ learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.1 });
    const before = tf.memory().numTensors;
    opt.applyGradientsMasked({ w: grad }, { w }, { w: mask });
    expect(tf.memory().numTensors - before).toBe(1); // the momentum slot only
    expect(values(w)[0]).toBeCloseTo(0.886, 6);
    expect(Object.is(values(w)[1], -0)).toBe(true); // a negative weight times 0, as PyTorch's `weight *= mask`
    const buf = opt.momentumOf('w')!;
    expect(values(buf)[0]).toBeCloseTo(0.6, 6);
    expect(values(buf)[1]).toBeCloseTo(0.8, 6);
    buf.dispose();
    opt.dispose();
    tf.dispose([w, grad, mask]);
  });

  it('equals applyGradients followed by the masking multiply, bit for bit, over many steps; masks a variable without gradient', () => {
    const variable = (initial: tf.Tensor) => {
      const x = tf.variable(initial);
      initial.dispose();
      return x;
    };
    const run = (fused: boolean) => {
      const w = variable(tf.tensor2d([0.3, -0.7, 1.1, 0.05, -0.4, 0.9], [2, 3]));
      const v = variable(tf.tensor1d([0.2, -0.1, 0.5]));
      const u = variable(tf.tensor1d([1, 2]));
      const mw = tf.tensor2d([1, 0, 1, 1, 0, 1], [2, 3]);
      const mu = tf.tensor1d([0, 1]);
      const opt = new SgdOptimizer({ learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
      const seen: number[][] = [];
      for (let step = 0; step < 25; step++) {
        const gw = tf.tensor2d([0.1, -0.2, 0.3, -0.4, 0.5, -0.6].map((x) => x * Math.sin(step + 1)), [2, 3]);
        const gv = tf.tensor1d([0.3, 0.1, -0.2].map((x) => x * Math.cos(step)));
        opt.learningRate = 0.05 / (1 + step);
        // `u` is masked but gets no gradient: masking.apply() would still multiply it.
        if (fused) opt.applyGradientsMasked({ w: gw, v: gv }, { w, v, u }, { w: mw, u: mu });
        else {
          opt.applyGradients({ w: gw, v: gv }, { w, v, u });
          tf.tidy(() => {
            w.assign(tf.mul(w, mw));
            u.assign(tf.mul(u, mu));
          });
        }
        const buf = opt.momentumOf('w')!;
        seen.push(values(w), values(v), values(u), values(buf));
        tf.dispose([gw, gv, buf]);
      }
      opt.dispose();
      tf.dispose([w, v, u, mw, mu]);
      return seen;
    };
    const before = tf.memory().numTensors;
    const fused = run(true);
    expect(run(false)).toEqual(fused);
    expect(fused[fused.length - 4][1] === 0).toBe(true);
    expect(fused[fused.length - 2].map((x) => x === 0)).toEqual([true, false]);
    expect(fused[fused.length - 2][1]).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
  });
});
