import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDsrMnistMlp } from './dsr-mnist-mlp.js';
import type { LayersTrainableModel } from './layers-trainable-model.js';
import { checkForward, checkTrainingStep, checkZooModel, randomBatch, useCpu } from './test-support/zoo-checks.js';

describe("the DSR codebase's mnist_mlp (issue 14)", () => {
  let model: LayersTrainableModel;
  beforeAll(async () => {
    await useCpu();
    model = createDsrMnistMlp({ seed: 11 });
  });
  afterAll(() => model.dispose());

  it('has LeNet-300-100 widths without biases, a BN after every layer (logits too): 266,200 masked / 267,020 total', () => {
    checkZooModel(model, 'dsr-mnist-mlp');
    expect(model.variables.map((v) => `${v.name}:${v.variable.shape.join('x')}`)).toEqual([
      'fc1.weight:784x300',
      'fc2.weight:300x100',
      'fc3.weight:100x10',
      'bn1.weight:300',
      'bn1.bias:300',
      'bn2.weight:100',
      'bn2.bias:100',
      'bn3.weight:10',
      'bn3.bias:10',
      'bn1.running_mean:300',
      'bn1.running_var:300',
      'bn2.running_mean:100',
      'bn2.running_var:100',
      'bn3.running_mean:10',
      'bn3.running_var:10',
    ]);
  });

  it('normalises the logits in training mode: each logit has batch mean 0 and (biased) variance 1 at init (γ = 1, β = 0)', () => {
    const { x, y } = randomBatch(8, [28, 28, 1], 10);
    // The training loss is the NLL of log_softmax(BN(fc3(...))) with batch statistics; check it against the
    // logits computed by hand from the weights.
    const loss = model.loss(x, y);
    const manual = tf.tidy(() => {
      const w = (name: string) => model.variables.find((v) => v.name === name)!.variable;
      const bn = (t: tf.Tensor2D): tf.Tensor2D => {
        const { mean, variance } = tf.moments(t, 0);
        return tf.div(tf.sub(t, mean), tf.sqrt(tf.add(variance, 1e-5))) as tf.Tensor2D;
      };
      let h = tf.reshape(x, [8, 784]) as tf.Tensor2D;
      h = tf.relu(bn(tf.matMul(h, w('fc1.weight') as tf.Tensor2D)));
      h = tf.relu(bn(tf.matMul(h, w('fc2.weight') as tf.Tensor2D)));
      const logits = bn(tf.matMul(h, w('fc3.weight') as tf.Tensor2D));
      const { mean, variance } = tf.moments(logits, 0);
      expect(Math.max(...Array.from(mean.dataSync(), Math.abs))).toBeLessThan(1e-5);
      for (const v of variance.dataSync()) expect(v).toBeCloseTo(1, 3);
      const logp = tf.logSoftmax(logits);
      return -tf.mean(tf.sum(tf.mul(logp, tf.oneHot(tf.cast(y, 'int32'), 10)), 1)).dataSync()[0];
    });
    expect(loss.dataSync()[0]).toBeCloseTo(manual, 4);
    tf.dispose([x, y, loss]);
  });

  it('takes [28,28,1] MNIST images; one SGD step updates every weight without leaking tensors', async () => {
    await checkForward(model, 2);
    await checkTrainingStep(model, 4);
  });
});
