import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { BN_EPSILON, BN_MOMENTUM, ModelBuilder } from './builder.js';
import { LayersTrainableModel, countParameters } from './layers-trainable-model.js';
import type { RunningVariance } from './torch-batch-norm.js';
import { useCpu } from './test-support/zoo-checks.js';

/** input [2] → bn (BatchNorm1d(2)) → fc (Linear 2→3). */
function tinyBnModel(runningVariance?: RunningVariance): LayersTrainableModel {
  const b = new ModelBuilder(1, { batchNormRunningVariance: runningVariance });
  const bn = b.batchNorm('bn', 2);
  const fc = b.linear('fc', { inFeatures: 2, outFeatures: 3 });
  const input = tfl.input({ shape: [2] });
  const model = tfl.model({ inputs: input, outputs: fc(bn(input)) });
  return new LayersTrainableModel('tiny', model, b.collectVariables(), [1, 1, 2], 3);
}

describe('LayersTrainableModel', () => {
  beforeAll(useCpu);

  it('names, flags and counts: BN γ/β trainable, running stats not, kernels prunable', () => {
    const m = tinyBnModel();
    expect(m.variables.map((v) => [v.name, v.prunable, v.trainable])).toEqual([
      ['bn.weight', false, true],
      ['bn.bias', false, true],
      ['fc.weight', true, true],
      ['fc.bias', false, true],
      ['bn.running_mean', false, false],
      ['bn.running_var', false, false],
    ]);
    expect(m.counts).toEqual({ masked: 6, total: 2 + 2 + 6 + 3 });
    expect(countParameters(m.variables)).toEqual(m.counts);
    m.dispose();
    m.dispose(); // idempotent
  });

  it('a training-mode loss inside tf.variableGrads updates the BN running stats with PyTorch momentum 0.1', async () => {
    expect(BN_MOMENTUM).toBe(0.9);
    expect(BN_EPSILON).toBe(1e-5);
    const m = tinyBnModel();
    // Channel 0: [1, 3, 5, 7] (mean 4, biased var 5); channel 1: [2, 2, 2, 2] (mean 2, var 0).
    const x = tf.tensor2d([1, 2, 3, 2, 5, 2, 7, 2], [4, 2]);
    const y = tf.tensor1d([0, 1, 2, 0], 'int32');
    const trainable = m.variables.filter((v) => v.trainable).map((v) => v.variable);
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(() => m.loss(x, y), trainable);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    const mean = m.variables.find((v) => v.name === 'bn.running_mean')?.variable.dataSync();
    const variance = m.variables.find((v) => v.name === 'bn.running_var')?.variable.dataSync();
    // running = 0.9·running + 0.1·batch, with the unbiased batch variance as PyTorch: 5 · 4/3 = 20/3, so
    // torch.nn.BatchNorm1d(2) on this batch leaves running_var = [0.9 + 2/3, 0.9].
    expect(Array.from(mean ?? [])).toEqual([expect.closeTo(0.4, 6), expect.closeTo(0.2, 6)]);
    expect(Array.from(variance ?? [])).toEqual([expect.closeTo(0.9 + 2 / 3, 5), expect.closeTo(0.9, 6)]);

    // Inference mode uses (and does not touch) the running statistics.
    const logp = m.predict(x);
    expect(Array.from(m.variables[4].variable.dataSync())).toEqual(Array.from(mean ?? []));
    const probs = tf.tidy(() => tf.sum(tf.exp(logp), -1));
    for (const p of await probs.data()) expect(p).toBeCloseTo(1, 5);
    tf.dispose([x, y, logp, probs]);
    m.dispose();
  });

  it('training mode normalises with batch statistics, inference mode with running statistics', async () => {
    const m = tinyBnModel();
    const x = tf.tensor2d([1, 2, 3, 2, 5, 2, 7, 2], [4, 2]);
    const bnLayer = m.layersModel.getLayer('bn');
    const train = bnLayer.apply(x, { training: true }) as tf.Tensor;
    const infer = bnLayer.apply(x, { training: false }) as tf.Tensor;
    // Batch stats (biased variance, as PyTorch normalises): channel 0 → (x − 4)/√(5 + 1e-5); running stats
    // (after the call above): (x − 0.4)/√(0.9 + 2/3 + 1e-5).
    const t = await train.data();
    expect(t[0]).toBeCloseTo(-3 / Math.sqrt(5 + 1e-5), 5);
    const i = await infer.data();
    expect(i[0]).toBeCloseTo((1 - 0.4) / Math.sqrt(0.9 + 2 / 3 + 1e-5), 5);
    tf.dispose([x, train, infer]);
    m.dispose();
  });

  it("batchNormRunningVariance 'biased' keeps the tfjs-layers update (the batch variance as normalised)", () => {
    const m = tinyBnModel('biased');
    const x = tf.tensor2d([1, 2, 3, 2, 5, 2, 7, 2], [4, 2]);
    const out = m.layersModel.getLayer('bn').apply(x, { training: true }) as tf.Tensor;
    expect(Array.from(m.variables[5].variable.dataSync())).toEqual([expect.closeTo(0.9 + 0.5, 5), expect.closeTo(0.9, 6)]);
    tf.dispose([x, out]);
    m.dispose();
  });

  it('a training batch with one value per channel is rejected (its unbiased variance is undefined), as in PyTorch', () => {
    const m = tinyBnModel();
    const x = tf.tensor2d([1, 2], [1, 2]);
    expect(() => m.layersModel.getLayer('bn').apply(x, { training: true })).toThrow(
      /E_OUT_OF_RANGE.*values per channel of batch norm 'bn' in training = 1.*>= 2/,
    );
    // inference on one example is fine
    const p = m.predict(x);
    expect(p.shape).toEqual([1, 3]);
    tf.dispose([x, p]);
    m.dispose();
  });
});
