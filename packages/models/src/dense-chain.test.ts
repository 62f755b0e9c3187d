import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import type { LayersTrainableModel } from './layers-trainable-model.js';
import { createLeNet300100 } from './lenet300-100.js';
import { createSetMlp } from './set-mlp.js';
import { randomBatch, useCpu } from './test-support/zoo-checks.js';

/** Loss, every gradient and the predictions of one batch (the step a trainer takes, and evaluate's pass). */
function stepOf(model: LayersTrainableModel, batch: { inputs: tf.Tensor; labels: tf.Tensor }) {
  const before = tf.memory().numTensors;
  const vars = model.variables.filter((v) => v.trainable).map((v) => v.variable);
  const { value, grads } = tf.variableGrads(() => model.loss(batch.inputs, batch.labels), vars);
  const predictions = model.predict(batch.inputs);
  const out = {
    loss: value.dataSync()[0],
    grads: vars.map((v) => Array.from(grads[v.name].dataSync())),
    predictions: Array.from(predictions.dataSync()),
  };
  tf.dispose([value, predictions, ...Object.values(grads)]);
  expect(tf.memory().numTensors).toBe(before);
  return out;
}

// The direct forward (fused dense ops on the weights) and the fused loss against the tfjs-layers executor and
// the composite loss (`fused: false`), on cpu, where both fused ops run their composites: the direct path must
// be the very network the layers model is. backend-native's tests compare both on the native kernels.
describe('fully connected models: fused paths (default) against the tfjs-layers executor (fused: false)', () => {
  beforeAll(async () => {
    await useCpu();
  });

  for (const [id, make, batch] of [['lenet300-100', createLeNet300100, 6]] as const) {
    it(`${id}: same loss, gradients and predictions bit for bit`, () => {
      const fused = make({ seed: 5 });
      const layers = make({ seed: 5, fused: false });
      const { x, y } = randomBatch(batch, fused.inputShape, fused.numClasses);
      const data = { inputs: x, labels: y };
      const a = stepOf(fused, data);
      const b = stepOf(layers, data);
      expect(Number.isFinite(a.loss)).toBe(true);
      expect(a.loss).toBe(b.loss);
      expect(a.grads.length).toBe(fused.variables.length);
      a.grads.forEach((g, i) => expect(g, fused.variables[i].name).toEqual(b.grads[i]));
      expect(a.predictions).toEqual(b.predictions);
      tf.dispose([data.inputs, data.labels]);
      fused.dispose();
      layers.dispose();
    });
  }

  // SET-MLP's 11 M weights make gradients on cpu take half a minute: its forward pass (same chain, four layers)
  // is compared, in inference and training mode.
  it('set-mlp: same predictions and loss bit for bit (batch 1)', () => {
    const fused = createSetMlp({ seed: 5 });
    const layers = createSetMlp({ seed: 5, fused: false });
    const { x, y } = randomBatch(1, fused.inputShape, fused.numClasses);
    const outputs = (m: LayersTrainableModel) =>
      tf.tidy(() => [Array.from(m.predict(x).dataSync()), Array.from(m.loss(x, y).dataSync())]);
    const a = outputs(fused);
    expect(a[0]).toHaveLength(10);
    expect(a).toEqual(outputs(layers));
    tf.dispose([x, y]);
    fused.dispose();
    layers.dispose();
  });
});
