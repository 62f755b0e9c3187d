/**
 * Test-only helpers (not exported from the package): a hand-built {@link TrainableModel} MLP made of plain tf
 * variables, random masks, and temporary directories.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createRng } from '@sparse-learning/core';
import type { NamedVariable, Rng, TrainableModel } from '@sparse-learning/core';

let counter = 0;

/**
 * A fully connected network `sizes[0] → … → sizes[n]` with ReLU, and — when `batchNorm` — a batch-norm layer
 * (weight, bias, running mean/var) after the first hidden layer, evaluated with its running statistics.
 * Kernels are `[in, out]` (`fc<i>.weight`, prunable), biases `fc<i>.bias`.
 */
export function makeMlp(sizes: readonly number[], seed: number | string, options: { batchNorm?: boolean; id?: string } = {}): TrainableModel {
  const rng = createRng(seed);
  const prefix = `mlp${counter++}`;
  const variables: NamedVariable[] = [];
  const add = (name: string, shape: number[], fill: (rng: Rng, i: number) => number, prunable: boolean, trainable: boolean) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = fill(rng, i);
    const initial = tf.tensor(values, shape);
    const variable = tf.variable(initial, trainable, `${prefix}/${name}`);
    initial.dispose();
    variables.push({ name, variable, prunable, trainable });
  };
  for (let l = 0; l + 1 < sizes.length; l++) {
    const scale = Math.sqrt(2 / sizes[l]);
    add(`fc${l + 1}.weight`, [sizes[l], sizes[l + 1]], (r) => r.normal() * scale, true, true);
    add(`fc${l + 1}.bias`, [sizes[l + 1]], (r) => (r.next() - 0.5) * 0.1, false, true);
  }
  const bnWidth = sizes[1];
  if (options.batchNorm) {
    add('bn1.weight', [bnWidth], (r) => 1 + (r.next() - 0.5) * 0.2, false, true);
    add('bn1.bias', [bnWidth], (r) => (r.next() - 0.5) * 0.2, false, true);
    add('bn1.running_mean', [bnWidth], (r) => (r.next() - 0.5) * 0.5, false, false);
    add('bn1.running_var', [bnWidth], (r) => 0.5 + r.next(), false, false);
  }
  const byName = (name: string) => variables.find((v) => v.name === name)!.variable;
  const layers = sizes.length - 1;
  const logits = (inputs: tf.Tensor): tf.Tensor => {
    let x = tf.reshape(inputs, [inputs.shape[0], -1]) as tf.Tensor2D;
    for (let l = 1; l <= layers; l++) {
      x = tf.add(tf.matMul(x, byName(`fc${l}.weight`) as tf.Tensor2D), byName(`fc${l}.bias`));
      if (l === 1 && options.batchNorm) {
        const norm = tf.div(tf.sub(x, byName('bn1.running_mean')), tf.sqrt(tf.add(byName('bn1.running_var'), 1e-5)));
        x = tf.add(tf.mul(norm, byName('bn1.weight')), byName('bn1.bias'));
      }
      if (l < layers) x = tf.relu(x);
    }
    return x;
  };
  return {
    id: options.id ?? 'hand-mlp',
    variables,
    predict: (inputs) => tf.tidy(() => tf.logSoftmax(logits(inputs))),
    loss: (inputs, labels) =>
      tf.tidy(() => {
        const logp = tf.logSoftmax(logits(inputs));
        const picked = tf.sum(tf.mul(logp, tf.oneHot(labels as tf.Tensor1D, logp.shape[1] as number)), 1);
        return tf.neg(tf.mean(picked)) as tf.Scalar;
      }),
    dispose: () => variables.forEach((v) => v.variable.dispose()),
  };
}

/** A 0/1 mask with exactly `round(density * size)` ones at random positions. */
export function randomMask(size: number, density: number, rng: Rng): Uint8Array {
  const order = rng.shuffle(Array.from({ length: size }, (_, i) => i));
  const mask = new Uint8Array(size);
  const k = Math.round(density * size);
  for (let i = 0; i < k; i++) mask[order[i]] = 1;
  return mask;
}

/** Random masks for every prunable variable, applied to the weights (w ← w ⊙ m, as the engine keeps them). */
export function maskModel(model: TrainableModel, density: number, seed: number | string): Record<string, Uint8Array> {
  const rng = createRng(seed).fork('mask-init');
  const masks: Record<string, Uint8Array> = {};
  for (const { name, variable, prunable } of model.variables) {
    if (!prunable) continue;
    const mask = randomMask(variable.size, density, rng);
    masks[name] = mask;
    tf.tidy(() => {
      variable.assign(tf.mul(variable, tf.tensor(Float32Array.from(mask), variable.shape)));
    });
  }
  return masks;
}

/** A fresh temporary directory and its cleanup. */
export function tempDir(label: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `sl-ckpt-${label}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Bit patterns of a float32 array (compares NaN payloads and -0 exactly). */
export function bits(values: Float32Array | Int32Array): Uint32Array {
  return new Uint32Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
}

/**
 * Index of the first differing element of two arrays' bytes, or -1 when identical. Use instead of
 * `toEqual` on large typed arrays: vitest's diff of 200 000 elements takes minutes.
 */
export function firstDifference(a: ArrayBufferView, b: ArrayBufferView): number {
  const x = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  const y = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  if (x.equals(y)) return -1;
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return i;
  return n;
}
