import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SgdOptimizer } from './sgd-optimizer.js';

const GOLDEN_DIR = path.resolve(__dirname, '../../../golden/cases/optimizer');

interface SgdCase {
  readonly name: string;
  readonly config: { lr: number; momentum: number; dampening: number; nesterov: boolean; weightDecay: number };
  readonly shape: number[];
  readonly initialWeight: number[];
  readonly mask?: number[];
  readonly steps: { grad: number[]; weight: number[]; momentumBuffer: number[] }[];
}

const present = existsSync(GOLDEN_DIR);
const files = present ? readdirSync(GOLDEN_DIR).filter((f) => f.endsWith('.json')).sort() : [];

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
  return max;
}

describe.skipIf(!present)(`SGD golden cases (${GOLDEN_DIR})`, () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('finds the 4 public cases', () => {
    expect(files.length).toBe(4);
  });

  // Each case twice: the trainer's two calls (applyGradients, then masking's W ⊙ M) and the fused
  // applyGradientsMasked (issue 10), which must give the same numbers bit for bit.
  for (const file of files) {
    for (const form of ['two calls', 'applyGradientsMasked'] as const) {
      it(`${file} (${form})`, () => {
        const c = JSON.parse(readFileSync(path.join(GOLDEN_DIR, file), 'utf8')) as SgdCase;
        expect(c.config.dampening).toBe(0);
        const before = tf.memory().numTensors;
        const initial = tf.tensor(Float32Array.from(c.initialWeight), c.shape);
        const w = tf.variable(initial);
        initial.dispose();
        const mask = c.mask ? tf.tensor(Float32Array.from(c.mask), c.shape) : null;
        const opt = new SgdOptimizer({
          learningRate: c.config.lr,
          momentum: c.config.momentum,
          nesterov: c.config.nesterov,
          weightDecay: c.config.weightDecay,
        });
        let worst = 0;
        for (const [k, step] of c.steps.entries()) {
          const grad = tf.tensor(Float32Array.from(step.grad), c.shape);
          if (form === 'applyGradientsMasked') {
            opt.applyGradientsMasked({ w: grad }, { w }, mask ? { w: mask } : {});
          } else {
            opt.applyGradients({ w: grad }, { w });
            if (mask) tf.tidy(() => w.assign(tf.mul(w, mask)));
          }
          grad.dispose();
          worst = Math.max(worst, maxAbsDiff(w.dataSync(), step.weight));
          const buf = opt.momentumOf('w');
          expect(buf, `step ${k}`).not.toBeNull();
          worst = Math.max(worst, maxAbsDiff(buf!.dataSync(), step.momentumBuffer));
          buf!.dispose();
          if (c.mask) {
            const values = w.dataSync();
            // -0 is fine: PyTorch also produces -0.0 for a negative weight times 0.
            c.mask.forEach((m, i) => m === 0 && expect(values[i] === 0, `index ${i}`).toBe(true));
          }
        }
        expect(worst, `${file}: max |diff| ${worst}`).toBeLessThan(1e-6);
        opt.dispose();
        w.dispose();
        mask?.dispose();
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  }
});

if (!present) {
  describe('SGD golden cases', () => {
    it.skip(`golden directory ${GOLDEN_DIR} is absent: golden optimizer checks skipped`, () => {});
  });
}
