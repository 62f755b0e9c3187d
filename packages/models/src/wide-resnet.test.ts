import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { heNormalFanOutStd } from './init.js';
import { useWasmWithCompositeKernels } from './test-support/fast-backend.js';
import { SPEC_COUNTS } from './test-support/spec-table.js';
import { checkForward, checkTrainingStep, checkZooModel, randomBatch } from './test-support/zoo-checks.js';
import { createWideResNet } from './wide-resnet.js';

const CONFIGS: { depth: number; k: number; n: number; stepShape: [number, number, number] }[] = [
  { depth: 16, k: 8, n: 2, stepShape: [4, 4, 3] },
  { depth: 16, k: 10, n: 2, stepShape: [4, 4, 3] },
  { depth: 22, k: 8, n: 3, stepShape: [4, 4, 3] },
  { depth: 28, k: 2, n: 4, stepShape: [8, 8, 3] },
];

function sampleStd(values: Float32Array | Int32Array | Uint8Array): number {
  let s = 0;
  let q = 0;
  for (const v of values) {
    s += v;
    q += v * v;
  }
  const m = s / values.length;
  return Math.sqrt(q / values.length - m * m);
}

describe('WideResNet-d-k (docs/algorithm.md#models)', () => {
  // The training step runs on wasm with backend-native's kernels: tfjs-cpu's filter gradient is a naive loop.
  beforeAll(useWasmWithCompositeKernels);

  for (const { depth, k, n, stepShape } of CONFIGS) {
    const id = `wrn-${depth}-${k}`;
    it(`${id}: spec counts, names, shortcut convs, init; forward + SGD step at reduced input ${stepShape.join('×')}`, async () => {
      // The real CIFAR model (32×32): counts, names, init, symbolic output shape.
      const model = createWideResNet(depth, k, { seed: 21 });
      checkZooModel(model, id);
      expect(model.layersModel.outputs[0].shape).toEqual([null, 10]);
      const names = model.variables.map((v) => v.name);
      const shortcuts = names.filter((x) => x.includes('convShortcut'));
      expect(shortcuts).toEqual(['block1.layer.0.convShortcut.weight', 'block2.layer.0.convShortcut.weight', 'block3.layer.0.convShortcut.weight']);
      for (let g = 1; g <= 3; g++) {
        for (let i = 0; i < n; i++) expect(names).toContain(`block${g}.layer.${i}.conv2.weight`);
        expect(names).not.toContain(`block${g}.layer.${n}.conv1.weight`);
      }
      expect(names.slice(0, 8)).toEqual([
        'conv1.weight',
        'block1.layer.0.bn1.weight',
        'block1.layer.0.bn1.bias',
        'block1.layer.0.conv1.weight',
        'block1.layer.0.bn2.weight',
        'block1.layer.0.bn2.bias',
        'block1.layer.0.conv2.weight',
        'block1.layer.0.convShortcut.weight',
      ]);
      expect(names.filter((x) => x.endsWith('.bias') && !x.includes('bn'))).toEqual(['fc.bias']);
      const byName = new Map(model.variables.map((v) => [v.name, v.variable]));
      expect(byName.get('block2.layer.0.convShortcut.weight')?.shape).toEqual([1, 1, 16 * k, 32 * k]);
      expect(byName.get('fc.weight')?.shape).toEqual([64 * k, 10]);
      // Stride-2 3×3 convs are explicitly padded (docs/algorithm.md#models); stride-1 ones need no pad layer.
      expect(model.layersModel.getLayer('block2.layer.0.conv1.pad')).toBeDefined();
      expect(model.layersModel.getLayer('block2.layer.0.conv1').outputShape).toEqual([null, 16, 16, 32 * k]);
      expect(model.layersModel.getLayer('block3.layer.0.conv1').outputShape).toEqual([null, 8, 8, 64 * k]);
      // Official init override: conv N(0, √(2/(9·out))), fc bias 0, BN γ 1.
      const w = byName.get('block3.layer.0.conv2.weight')?.dataSync() as Float32Array;
      expect(sampleStd(w) / heNormalFanOutStd(3, 64 * k)).toBeCloseTo(1, 1);
      expect(Array.from(byName.get('fc.bias')?.dataSync() ?? [1]).every((b) => b === 0)).toBe(true);
      expect(Array.from(byName.get('bn1.weight')?.dataSync() ?? [0]).every((g) => g === 1)).toBe(true);
      model.dispose();

      // The same architecture on a reduced input (global average pooling keeps the parameter count):
      // a training step at 32×32 would dominate the test time.
      const small = createWideResNet(depth, k, { seed: 21, inputShape: stepShape });
      expect(small.counts).toEqual(SPEC_COUNTS[id]);
      await checkForward(small, 2);
      await checkTrainingStep(small, 2);
      small.dispose();
    });
  }

  it('dropout 0.3 is active in training mode only', async () => {
    const { x, y } = randomBatch(2, [8, 8, 3], 10);
    const withDrop = createWideResNet(10, 1, { seed: 1, inputShape: [8, 8, 3] });
    const noDrop = createWideResNet(10, 1, { seed: 1, inputShape: [8, 8, 3], dropRate: 0 });
    const losses = async (m: typeof withDrop) => {
      const a = m.loss(x, y);
      const b = m.loss(x, y);
      const p1 = m.predict(x);
      const p2 = m.predict(x);
      const out = [(await a.data())[0], (await b.data())[0], tf.max(tf.abs(tf.sub(p1, p2))).dataSync()[0]];
      tf.dispose([a, b, p1, p2]);
      return out;
    };
    const [d1, d2, dp] = await losses(withDrop);
    const [n1, n2, np] = await losses(noDrop);
    expect(d1).not.toBe(d2); // a fresh dropout mask per training call
    expect(n1).toBe(n2); // training mode without dropout is deterministic
    expect(dp).toBe(0); // inference mode is deterministic
    expect(np).toBe(0);
    withDrop.dispose();
    noDrop.dispose();
    tf.dispose([x, y]);
  });

  it('rejects a depth that is not 6n+4', () => {
    expect(() => createWideResNet(20, 2)).toThrow(/E_OUT_OF_RANGE/);
  });
});

