import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { RandomKeyStream, SeededDropout, defaultRandomKey } from './seeded-dropout.js';
import { randomBatch, useCpu } from './test-support/zoo-checks.js';
import { createWideResNet } from './wide-resnet.js';

const bits = (t: tf.Tensor) => Buffer.from((t.dataSync() as Float32Array).buffer).toString('hex');

describe('SeededDropout and RandomKeyStream (docs/algorithm.md#models dropout, reproducible and resumable)', () => {
  beforeAll(useCpu);

  it('the stream numbers its draws under the key in force; setKey restarts the count', () => {
    const s = new RandomKeyStream('17/dropout');
    expect([s.nextSeed(), s.nextSeed()]).toEqual(['17/dropout/0', '17/dropout/1']);
    s.setKey('17/dropout/3/5');
    expect([s.nextSeed(), s.nextSeed()]).toEqual(['17/dropout/3/5/0', '17/dropout/3/5/1']);
    expect(defaultRandomKey(4)).toBe('4/dropout');
    expect(defaultRandomKey(undefined)).not.toBe(defaultRandomKey(undefined));
  });

  it('training mode: every element is 0 or x/(1-p), about p of them 0; the mask is that of tf.dropout with the draw seed', () => {
    const stream = new RandomKeyStream('k');
    const layer = new SeededDropout({ name: 'd', rate: 0.3, stream });
    const x = tf.fill([4000], 2);
    const before = tf.memory().numTensors;
    const y = layer.apply(x, { training: true }) as tf.Tensor;
    const values = y.dataSync();
    const keep = 2 / 0.7;
    let zeros = 0;
    for (const v of values) {
      if (v === 0) zeros++;
      else expect(v).toBeCloseTo(keep, 5);
    }
    // 4000 Bernoulli(0.3): mean 1200, sd 29; ±6 sd
    expect(zeros).toBeGreaterThan(1200 - 174);
    expect(zeros).toBeLessThan(1200 + 174);
    const same = tf.dropout(x, 0.3, undefined, 'k/0');
    expect(bits(y)).toBe(bits(same));
    tf.dispose([y, same]);
    expect(tf.memory().numTensors).toBe(before);
    // Inference mode: identity, no draw consumed.
    const z = layer.apply(x, { training: false }) as tf.Tensor;
    expect(bits(z)).toBe(bits(x));
    expect(stream.nextSeed()).toBe('k/1');
    tf.dispose([x]);
  });

  it('a WRN keyed per step: two models with one key draw identical masks; a second call under the same key differs', async () => {
    const { x, y } = randomBatch(2, [8, 8, 3], 10);
    const a = createWideResNet(10, 1, { seed: 3, inputShape: [8, 8, 3] });
    const b = createWideResNet(10, 1, { seed: 3, inputShape: [8, 8, 3] });
    const loss = (m: typeof a) => {
      const l = m.loss(x, y);
      const v = l.dataSync()[0];
      l.dispose();
      return v;
    };
    // A resumed run sets the key of the step it continues at: the masks (and so the loss) are the same.
    a.setRandomKey('17/dropout/2/5');
    b.setRandomKey('17/dropout/2/5');
    const la = loss(a);
    expect(loss(b)).toBe(la);
    expect(loss(a)).not.toBe(la); // the next draw under the same key is a fresh mask
    a.setRandomKey('17/dropout/2/5');
    // BN running statistics moved during the calls above, but training mode normalises with batch
    // statistics, so only the masks matter: the same key gives the same loss again.
    expect(loss(a)).toBe(la);
    a.setRandomKey('17/dropout/2/6');
    expect(loss(a)).not.toBe(la);
    a.dispose();
    b.dispose();
    tf.dispose([x, y]);
  });

  it('is registered for tfjs-layers serialisation', () => {
    const layer = new SeededDropout({ name: 'd2', rate: 0.5, stream: new RandomKeyStream('k') });
    expect(layer.getClassName()).toBe('SparseLearningSeededDropout');
    expect(layer.getConfig()).toMatchObject({ rate: 0.5, name: 'd2' });
    expect(() => new SeededDropout({ name: 'd3', rate: 1, stream: new RandomKeyStream('k') })).toThrow(/E_OUT_OF_RANGE/);
  });
});
