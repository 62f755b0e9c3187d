import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { ModelBuilder } from './builder.js';
import { convOutputSize, planPadding } from './padding.js';
import { useCpu } from './test-support/zoo-checks.js';

/** A one-conv model through the builder; returns its output on `x` and its kernel/bias. */
function runConv(x: tf.Tensor4D, k: number, stride: number, padding: number, out: number) {
  const b = new ModelBuilder(5);
  const conv = b.conv2d('conv', { inChannels: x.shape[3], outChannels: out, kernelSize: k, stride, padding });
  const input = tfl.input({ shape: x.shape.slice(1) });
  const model = tfl.model({ inputs: input, outputs: conv(input) });
  const [kernel, bias] = b.collectVariables().map((v) => v.variable);
  const y = model.predict(x) as tf.Tensor4D;
  return { y, kernel: kernel as tf.Tensor4D, bias, model };
}

describe('PyTorch padding (docs/algorithm.md#models)', () => {
  beforeAll(useCpu);

  it('plans explicit padding for stride 2 and 1×1-with-padding, `same` only where identical', () => {
    expect(planPadding(3, 2, 1)).toEqual({ explicit: 1, mode: 'valid' });
    expect(planPadding(11, 2, 2)).toEqual({ explicit: 2, mode: 'valid' });
    expect(planPadding(1, 1, 1)).toEqual({ explicit: 1, mode: 'valid' });
    expect(planPadding(3, 1, 1)).toEqual({ explicit: 0, mode: 'same' });
    expect(planPadding(1, 2, 0)).toEqual({ explicit: 0, mode: 'valid' });
    expect(convOutputSize(32, 11, 2, 2)).toBe(13);
    expect(convOutputSize(8, 1, 1, 1)).toBe(10);
  });

  it('a stride-2 3×3 pad-1 conv equals tf.conv2d with explicit symmetric padding, and differs from TF `same`', () => {
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const { y, kernel, bias, model } = runConv(x, 3, 2, 1, 4);
    const explicit = tf.add(tf.conv2d(x, kernel, 2, [[0, 0], [1, 1], [1, 1], [0, 0]]), bias);
    const same = tf.add(tf.conv2d(x, kernel, 2, 'same'), bias);
    expect(y.shape).toEqual([2, 4, 4, 4]);
    expect(tf.max(tf.abs(tf.sub(y, explicit))).dataSync()[0]).toBeLessThan(1e-5);
    // TF `same` pads 0 top/left and 1 bottom/right here: a different sampling grid.
    expect(tf.max(tf.abs(tf.sub(y, same))).dataSync()[0]).toBeGreaterThan(1e-2);
    tf.dispose([x, y, explicit, same]);
    model.dispose();
  });

  it('AlexNet stem 11×11/2 pad 2 on 32×32 gives 13×13 (TF `same` would give 16×16)', () => {
    const x = tf.randomNormal([1, 32, 32, 3], 0, 1, 'float32', 2) as tf.Tensor4D;
    const { y, kernel, bias, model } = runConv(x, 11, 2, 2, 2);
    expect(y.shape).toEqual([1, 13, 13, 2]);
    const explicit = tf.add(tf.conv2d(x, kernel, 2, [[0, 0], [2, 2], [2, 2], [0, 0]]), bias);
    expect(tf.max(tf.abs(tf.sub(y, explicit))).dataSync()[0]).toBeLessThan(1e-4);
    expect(tf.conv2d(x, kernel, 2, 'same').shape).toEqual([1, 16, 16, 2]);
    tf.dispose([x, y, explicit]);
    model.dispose();
  });

  it('a 1×1 conv with padding 1 grows the map by 2 px with a zero-input border of value = bias (VGG-C quirk)', () => {
    const x = tf.randomNormal([1, 8, 8, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
    const { y, bias, model } = runConv(x, 1, 1, 1, 2);
    expect(y.shape).toEqual([1, 10, 10, 2]);
    const corner = tf.slice(y, [0, 0, 0, 0], [1, 1, 1, 2]).dataSync();
    const b = bias.dataSync();
    expect(corner[0]).toBeCloseTo(b[0], 6);
    expect(corner[1]).toBeCloseTo(b[1], 6);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('a stride-1 3×3 pad-1 conv (`same`) equals explicit symmetric padding', () => {
    const x = tf.randomNormal([1, 7, 7, 2], 0, 1, 'float32', 4) as tf.Tensor4D;
    const { y, kernel, bias, model } = runConv(x, 3, 1, 1, 3);
    const explicit = tf.add(tf.conv2d(x, kernel, 1, [[0, 0], [1, 1], [1, 1], [0, 0]]), bias);
    expect(tf.max(tf.abs(tf.sub(y, explicit))).dataSync()[0]).toBeLessThan(1e-5);
    tf.dispose([x, y, explicit]);
    model.dispose();
  });
});
