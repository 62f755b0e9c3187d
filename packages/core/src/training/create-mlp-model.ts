import * as tf from '@tensorflow/tfjs-core';
import type { NamedVariable, TrainableModel } from '../contracts/model.js';
import { outOfRangeError } from '../errors.js';
import type { Rng } from '../rng.js';
import { nllLoss } from '../losses/nll-loss.js';

/** Options of {@link createMlpModel}. */
export interface MlpModelOptions {
  /** Layer widths, input first and classes last, e.g. `[784, 300, 100, 10]` (LeNet-300-100). */
  readonly sizes: readonly number[];
  /** Seeded stream for the weight init (same seed, same weights). */
  readonly rng: Rng;
  /** Hidden activation (default `'relu'`). */
  readonly activation?: 'relu' | 'tanh';
  readonly id?: string;
}


/**
 * A minimal fully connected {@link TrainableModel} built from raw `tf.variable`s: a function of variables,
 * no tfjs-layers. Names follow PyTorch (`fc1.weight`, `fc1.bias`, ...); kernels are prunable and stored
 * `[in, out]`; init is PyTorch's default `U(−1/√fan_in, 1/√fan_in)` for kernels and biases (docs/algorithm.md#initialisation),
 * drawn from the given seeded stream. Meant for tests, examples and as a template for custom models;
 * the paper's networks live in `@sparse-learning/models`.
 */
export function createMlpModel(options: MlpModelOptions): TrainableModel {
  const { sizes, rng } = options;
  if (sizes.length < 2 || sizes.some((s) => !Number.isInteger(s) || s < 1)) {
    throw outOfRangeError('mlp.sizes', `[${sizes.join(', ')}]`, 'at least two positive integer widths');
  }
  const activation = options.activation ?? 'relu';
  const uniform = (count: number, bound: number) => {
    const values = new Float32Array(count);
    for (let i = 0; i < count; i++) values[i] = (2 * rng.next() - 1) * bound;
    return values;
  };
  // A variable shares its initial value's data: release the initial tensor so each variable costs one tensor.
  const toVariable = (initial: tf.Tensor) => {
    const variable = tf.variable(initial);
    initial.dispose();
    return variable;
  };
  const variables: NamedVariable[] = [];
  const layers: { kernel: tf.Variable; bias: tf.Variable }[] = [];
  for (let k = 0; k < sizes.length - 1; k++) {
    const [fanIn, fanOut] = [sizes[k], sizes[k + 1]];
    const bound = 1 / Math.sqrt(fanIn);
    const kernel = toVariable(tf.tensor2d(uniform(fanIn * fanOut, bound), [fanIn, fanOut]));
    const bias = toVariable(tf.tensor1d(uniform(fanOut, bound)));
    layers.push({ kernel, bias });
    variables.push({ name: `fc${k + 1}.weight`, variable: kernel, prunable: true, trainable: true });
    variables.push({ name: `fc${k + 1}.bias`, variable: bias, prunable: false, trainable: true });
  }
  const forward = (inputs: tf.Tensor): tf.Tensor => {
    let x = tf.reshape(inputs, [inputs.shape[0], -1]);
    layers.forEach(({ kernel, bias }, k) => {
      x = tf.add(tf.matMul(x, kernel), bias);
      if (k < layers.length - 1) x = activation === 'relu' ? tf.relu(x) : tf.tanh(x);
    });
    return tf.logSoftmax(x);
  };
  return {
    id: options.id ?? `mlp-${sizes.join('-')}`,
    variables,
    loss: (inputs, labels) => tf.tidy(() => nllLoss(forward(inputs), labels)),
    predict: (inputs) => tf.tidy(() => forward(inputs)),
    dispose: () => variables.forEach((v) => v.variable.dispose()),
  };
}
