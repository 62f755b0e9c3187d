/**
 * Issue 14 made DeepR's step cheaper (mask update, gradient terms, masking) without changing a result bit.
 * This file holds it to that: runs of the real stack (MNIST, LeNet-300-100, the `wasm` backend, fixed seeds)
 * must end with exactly the weights, masks, optimizer buffers, trainer books, fixed signs and events that the
 * code before the change produced. The digests below were recorded by running this very file at commit
 * 029bae9 (before the change). A deliberate change of these presets' behaviour changes them: re-record then,
 * and say why in the commit.
 */
import { createHash } from 'node:crypto';
import { createRng, isStatefulStrategy } from '@sparse-learning/core';
import { backendSignThreshold, deepRMaskedTerm, deepRTermByKernels } from '@sparse-learning/prune';
import * as tf from '@tensorflow/tfjs-core';
import { batchIndices } from '@sparse-learning/datasets';
import { beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/resolve.js';
import { activateBackend } from '../run/backend.js';
import { prepareExperiment } from '../run/experiment.js';

/** The first 16 hex digits of the SHA-256 of some bytes or text. */
function digest(data: ArrayBufferView | string): string {
  const hash = createHash('sha256');
  hash.update(typeof data === 'string' ? data : new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return hash.digest('hex').slice(0, 16);
}

/** Typed arrays as plain arrays, so that JSON keeps their values. */
const plain = (_key: string, value: unknown) => (ArrayBuffer.isView(value) ? Array.from(value as Int8Array) : value);

/**
 * Trains `steps` steps of `preset` the way the runner's loop does (epochs of `batches` batches, `endEpoch`
 * after each) and digests everything the run leaves behind.
 */
async function run(values: Record<string, unknown>, steps: number): Promise<Record<string, string>> {
  const { config } = resolveConfig({ name: 'test', values: { backend: 'wasm', seed: 5, ...values } });
  const events: unknown[] = [];
  const session = await prepareExperiment({ config, events: { emit: (event) => void events.push(event) } });
  try {
    const { trainer, dataset } = session;
    let done = 0;
    for (let epoch = 1; done < steps; epoch++) {
      const order = dataset.train.epochOrder(session.dataOrderRng(epoch), true);
      for (let b = 0; b < session.stepsPerEpoch && done < steps; b++, done++) {
        const batch = dataset.train.batch(batchIndices(order, b, config.batchSize), session.augmentRng(epoch, b));
        try {
          session.model.setRandomKey(session.dropoutKey(epoch, b));
          trainer.step(batch);
        } finally {
          tf.dispose([batch.inputs, batch.labels]);
        }
      }
      if (done % session.stepsPerEpoch === 0) trainer.endEpoch({});
    }
    const out: Record<string, string> = {};
    for (const v of session.model.variables) out[`weights ${v.name}`] = digest(v.variable.dataSync());
    session.masking?.readMasks().forEach((mask, i) => (out[`mask ${session.masking!.names[i]}`] = digest(mask)));
    for (const [name, slots] of Object.entries(session.optimizer.getState().slots)) {
      for (const [slot, buffer] of Object.entries(slots)) out[`${slot} ${name}`] = digest(buffer);
    }
    out.trainer = digest(JSON.stringify(trainer.getState()));
    const prune = session.composition.maskUpdater?.prune;
    if (isStatefulStrategy(prune)) out.prune = digest(JSON.stringify(prune.getState(), plain));
    out.events = digest(JSON.stringify(events));
    out.counts = `${events.length} events, ${events.filter((e) => (e as { type: string }).type === 'mask-update').length} mask updates`;
    return out;
  } finally {
    session.dispose();
  }
}

describe('results unchanged by the faster DeepR step (issue 14)', () => {
  beforeAll(async () => {
    await activateBackend('wasm', 'lenet300-100');
  });

  it("computes DeepR's terms on wasm exactly as its kernels do (sign is 0 below the float32 epsilon there)", () => {
    expect(backendSignThreshold()).toBe(2 ** -23);
    const rng = createRng('wasm-terms');
    const specials = [0, -0, 1e-40, -1e-40, 2 ** -23, -(2 ** -23), 2 ** -23 - 2 ** -47, -(2 ** -23 - 2 ** -47), 5e-8, 3e38, Infinity, NaN];
    const n = 600;
    const w = Float32Array.from({ length: n }, (_, i) => (i % 2 === 0 ? specials[(i / 2) % specials.length] : rng.normal() * 0.05));
    const m = Float32Array.from({ length: n }, (_, i) => (i % 5 === 0 || rng.next() < 0.3 ? 1 : 0));
    const variable = tf.tensor(w, [20, 30]);
    const mask = tf.tensor(m, [20, 30]);
    const [fast, slow] = [createRng('n'), createRng('n')];
    const got = deepRMaskedTerm({ variable, mask, maskValues: Uint8Array.from(m), l1: 1e-5, std: 0.003, rng: fast })!;
    const noise = new Float32Array(n);
    for (let i = 0; i < n; i++) if (m[i] !== 0) noise[i] = 0.003 * slow.normal();
    const want = deepRTermByKernels(variable, mask, 1e-5, noise);
    const bits = (t: tf.Tensor) => Array.from(new Uint32Array(Float32Array.from(t.dataSync()).buffer));
    expect(bits(got)).toEqual(bits(want));
    // Not vacuous: active weights below the epsilon, where a cpu-style sign would have added ±α.
    expect(m.filter((v, i) => v === 1 && w[i] !== 0 && Math.abs(w[i]) < 2 ** -23).length).toBeGreaterThan(0);
    tf.dispose([variable, mask, got, want]);
  });

  it('DeepR at 5 %: 40 steps, a mask update after each, as before', async () => {
    expect(await run({ preset: 'deep-r', density: 0.05, epochs: 2, maxBatches: 540 }, 40)).toEqual({
      'weights fc1.weight': '3ebe46f490644b66',
      'weights fc1.bias': 'a6a3b5c3c9669545',
      'weights fc2.weight': '2d0403d0943fff65',
      'weights fc2.bias': 'd0915be8459be7e4',
      'weights fc3.weight': 'cb1640badd2f375d',
      'weights fc3.bias': 'e36ed65ae61df9ff',
      'mask fc1.weight': '82eb30e17bb0a524',
      'mask fc2.weight': 'f0520f5d7dc64d7b',
      'mask fc3.weight': 'c5e357b96a4dae46',
      'momentum_buffer fc1.weight': '8bd230e77ded49cb',
      'momentum_buffer fc1.bias': '48b5d1c74ee0a1c9',
      'momentum_buffer fc2.weight': '3fcbf1baef886f8e',
      'momentum_buffer fc2.bias': '617b22f62a0fd2c7',
      'momentum_buffer fc3.weight': '2d0bfbb100830492',
      'momentum_buffer fc3.bias': 'a22c20c2bb8368fa',
      'trainer': '1081c28d2294f45e',
      'prune': '47d25af0e1ca452d',
      'events': '8a4e7da059937129',
      'counts': '80 events, 40 mask updates',
    });
  });

  it('DeepR at 2 %, 20 steps across an epoch end, as before', async () => {
    expect(await run({ preset: 'deep-r', density: 0.02, epochs: 3, maxBatches: 12 }, 20)).toEqual({
      'weights fc1.weight': '5ab3fe7ba43e71d9',
      'weights fc1.bias': '4c944c75bc763579',
      'weights fc2.weight': '7aaeaf14c5a31cd3',
      'weights fc2.bias': '29fadaf3386e85a4',
      'weights fc3.weight': 'bf2305182719a606',
      'weights fc3.bias': '68db3e71426bcc0d',
      'mask fc1.weight': 'e788bda23a9cfbfd',
      'mask fc2.weight': '9be4e99f582d584a',
      'mask fc3.weight': 'cb5c1f1dd57efb16',
      'momentum_buffer fc1.weight': '4b66cdd85e37af72',
      'momentum_buffer fc1.bias': '9513ba6ac2be4f5a',
      'momentum_buffer fc2.weight': '02ade82942a5e87b',
      'momentum_buffer fc2.bias': '70f14979ae670ed2',
      'momentum_buffer fc3.weight': 'f750efcb6499af5f',
      'momentum_buffer fc3.bias': '477ac5c0e6a3965b',
      'trainer': 'e695bb63e0e77202',
      'prune': '36aeec3cd4ebd6bf',
      'events': 'a8c0a246137cc7f2',
      'counts': '41 events, 20 mask updates',
    });
  });

  it('Sparse Momentum at 5 %: two epoch-end mask updates, as before', async () => {
    expect(await run({ preset: 'sparse-momentum', density: 0.05, epochs: 3, maxBatches: 12 }, 36)).toEqual({
      'weights fc1.weight': 'fa7659c3781b85bb',
      'weights fc1.bias': 'fc2335256d50dc83',
      'weights fc2.weight': '937b98e465d3ad18',
      'weights fc2.bias': 'e25f4f5217c8070f',
      'weights fc3.weight': 'c8ff1041bcc52efa',
      'weights fc3.bias': 'bb7fcbd075484dbd',
      'mask fc1.weight': '1282f18ebcce4c84',
      'mask fc2.weight': 'b28c3903a0b142cf',
      'mask fc3.weight': 'c6cf38ceece775ec',
      'momentum_buffer fc1.weight': '4ccebb1fb1df138c',
      'momentum_buffer fc1.bias': '9e45989e87cee6e5',
      'momentum_buffer fc2.weight': '87ddc7fc6422c887',
      'momentum_buffer fc2.bias': '11a765b2bc96f3ec',
      'momentum_buffer fc3.weight': '3ef373d255bc73dd',
      'momentum_buffer fc3.bias': '4d0798bbfb98243e',
      'trainer': '5b475874a0441ca2',
      'events': '1e7a080caf723412',
      'counts': '41 events, 2 mask updates',
    });
  });
});
