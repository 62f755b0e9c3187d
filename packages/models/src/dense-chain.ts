import * as tf from '@tensorflow/tfjs-core';
import { fusedDense } from '@sparse-learning/core';
import type { DirectForward } from './layers-trainable-model.js';

/**
 * The {@link DirectForward} of a fully connected chain built by the {@link ModelBuilder} as
 * `Flatten → linear → ReLU → … → linear` (LeNet-300-100, SET-MLP): the input flattened as tfjs-layers'
 * `Flatten` does (`[batch, features]`), then one core `fusedDense` per layer, with ReLU on every layer but the
 * last. The same ops as the tfjs-layers model (`Dense` runs `tf.fused.matMul` with its bias, `ReLU` runs
 * `tf.relu`), so the same numbers; on the `native` backend one launch per layer forward and one backward
 * (issue 10).
 * @param names module names in order (their `<name>.weight` / `<name>.bias` variables).
 * @param inFeatures features per example after flattening.
 */
export function denseChainForward(
  names: readonly string[],
  inFeatures: number,
): (variables: ReadonlyMap<string, tf.Variable>) => DirectForward {
  return (variables) => {
    const layers = names.map((name) => ({ w: variables.get(`${name}.weight`)!, b: variables.get(`${name}.bias`) ?? null }));
    return (inputs) => {
      let x = tf.reshape(inputs, [inputs.shape[0], inFeatures]);
      layers.forEach(({ w, b }, i) => {
        x = fusedDense(x, w, b, i < layers.length - 1 ? 'relu' : 'linear');
      });
      return x;
    };
  };
}
