import * as tf from '@tensorflow/tfjs-core';
import type { TrainableModel } from '@sparse-learning/core';

/** What one plain-SGD step measured. */
export interface StepResult {
  readonly loss: number;
  /** Names of the trainable variables that received a gradient. */
  readonly gradNames: readonly string[];
  /** Names of the trainable variables whose value changed in the update. */
  readonly changed: readonly string[];
  /** `tf.memory().numTensors` after minus before the step. */
  readonly leaked: number;
}

/**
 * TEST SUPPORT ONLY: one training step as the engine does it — `tf.variableGrads` of `model.loss` over the
 * trainable variables, then a plain SGD update `w ← w − lr·g` — with a tensor-leak count.
 */
export async function sgdStep(model: TrainableModel, inputs: tf.Tensor, labels: tf.Tensor, lr = 0.01): Promise<StepResult> {
  const before = tf.memory().numTensors;
  const trainable = model.variables.filter((v) => v.trainable);
  const vars = trainable.map((v) => v.variable);
  const snapshot = vars.map((v) => tf.clone(v)); // shares the old data; survives the assign below
  const { value, grads } = tf.variableGrads(() => model.loss(inputs, labels), vars);
  const loss = (await value.data())[0];
  tf.tidy(() => {
    for (const v of vars) v.assign(tf.sub(v, tf.mul(grads[v.name], lr)));
  });
  const gradNames = trainable.filter((v) => grads[v.variable.name] !== undefined).map((v) => v.name);
  const delta = tf.tidy(() => tf.stack(vars.map((v, i) => tf.max(tf.abs(tf.sub(v, snapshot[i]))))));
  const d = await delta.data();
  const changed = trainable.filter((_, i) => d[i] > 0).map((v) => v.name);
  tf.dispose([value, ...Object.values(grads), ...snapshot, delta]);
  return { loss, gradNames, changed, leaked: tf.memory().numTensors - before };
}
