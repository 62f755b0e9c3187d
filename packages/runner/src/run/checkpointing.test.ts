import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadCheckpoint } from '@sparse-learning/checkpoint';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/resolve.js';
import { expectSameRun, tmp, removeTmpDirs } from '../test/run-helpers.js';

afterAll(() => removeTmpDirs());
import { RunInterrupted, runExperiment } from './experiment.js';
import { decodeState, encodeState } from './state-codec.js';

describe('state codec (lossless JSON for checkpoint states)', () => {
  it('round-trips NaN, ±Infinity, -0, typed arrays and maps that plain JSON would corrupt', () => {
    const state = {
      version: 1,
      signs: { 'fc1.weight': Int8Array.from([1, -1, -1, 1]) },
      buffer: Float32Array.from([0.1, -0, Number.NaN, 3.5e38]),
      odd: [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0, 1.5],
      nested: new Map([['a', Uint8Array.from([0, 1, 255])]]),
      nothing: null,
    };
    const text = JSON.stringify(encodeState(state));
    const back = decodeState(JSON.parse(text)) as typeof state;
    expect(back.signs['fc1.weight']).toBeInstanceOf(Int8Array);
    expect([...back.signs['fc1.weight']]).toEqual([1, -1, -1, 1]);
    expect(Buffer.from(back.buffer.buffer).equals(Buffer.from(state.buffer.buffer))).toBe(true);
    expect(Object.is(back.odd[3], -0)).toBe(true);
    expect(Object.is(back.odd[4], 0)).toBe(true);
    expect(back.odd.slice(0, 3)).toEqual([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]);
    expect([...(back.nested.get('a') as Uint8Array)]).toEqual([0, 1, 255]);
    expect(back.nothing).toBeNull();
  });
});

/**
 * In-process interrupt-and-resume for the presets whose state goes beyond Sparse Momentum's: DeepR (the
 * sign-flip strategy's fixed signs, the noise stream, a mask update after every step) and RigL (gradient
 * growth every 2 steps, so updates fall inside epochs). The run is aborted mid-epoch exactly as SIGINT does.
 */
describe.each([
  ['deep-r', { preset: 'deep-r' }],
  ['rigl', { preset: 'rigl', triggerOptions: { every: 2, endFraction: 1 } }],
  // global-magnitude keeps its threshold between updates: the update after epoch 2 needs epoch 1's state
  ['set with adam and global-magnitude pruning', { preset: 'set', optimizer: 'adam', lr: 0.001, prune: 'global-magnitude', epochs: 3, maxBatches: 5 }],
])('interrupt mid-epoch and resume: %s', (_name, values) => {
  it('ends bit-identical to the uninterrupted run', async () => {
    const root = tmp('sl-preset-resume-');
    const { config } = resolveConfig({
      name: 'test',
      values: { epochs: 2, maxBatches: 6, backend: 'wasm', seed: 3, ...values },
    });
    const stopAt = config.maxBatches! + 2;
    const reference = join(root, 'reference');
    await runExperiment({ config, outDir: reference });
    const numTensors = tf.memory().numTensors;

    const stopped = join(root, 'stopped');
    const controller = new AbortController();
    const run = runExperiment({
      config,
      outDir: stopped,
      signal: controller.signal,
      observer: { onStep: (s) => void (s.step === stopAt && controller.abort('SIGINT')) },
    });
    const interruption = await run.then(
      () => null,
      (error: unknown) => error,
    );
    expect(interruption).toBeInstanceOf(RunInterrupted);
    expect(interruption).toMatchObject({ epoch: 2, batch: 2, step: stopAt });
    const checkpoint = await loadCheckpoint(stopped);
    expect([checkpoint.epoch, checkpoint.step]).toEqual([1, stopAt]);

    await runExperiment({ config, outDir: stopped, resume: checkpoint });
    // the interrupted and the resumed session released every tensor they made
    expect(tf.memory().numTensors).toBe(numTensors);
    const { a } = await expectSameRun(reference, stopped);
    if (config.prune !== 'magnitude') expect(Object.keys(a.strategyStates)).toEqual([`prune:${config.prune}`]);
  });
});
