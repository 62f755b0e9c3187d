import * as tf from '@tensorflow/tfjs-core';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isSparseLearningError } from '@sparse-learning/core';

import { adaptThreadsToLoad, loadAddonFrom, nativeAddonStatus, packageRoot } from './addon.js';
import type { NativeAddon } from './addon.js';
import { registerFastBackends, selectBackend, tfjsNodeBinding } from './select-backend.js';
import type { BackendRequest } from './select-backend.js';
import { wasmTrainingGradientScope } from './wasm-training-gradients.js';
import { nativeSkipOptions } from './native-test-skip.js';

const nativeBuilt = nativeAddonStatus().addon !== null;
const nativeTest = nativeSkipOptions(nativeBuilt ? null : nativeAddonStatus().reason);

describe('backend selection', () => {
  it('sees tfjs-node installed without its binding and never imports it', () => {
    for (const pkg of ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu']) {
      const found = tfjsNodeBinding(pkg);
      expect(found.ok).toBe(false);
      expect(found.reason).toMatch(/without its native binding|not installed/);
    }
    expect(tf.findBackendFactory('tensorflow')).toBeNull();
  });

  it('registerFastBackends lists what can be tried, in auto order, with reasons', async () => {
    const fast = await registerFastBackends();
    expect(fast.available).toEqual(nativeBuilt ? ['native', 'wasm', 'cpu'] : ['wasm', 'cpu']);
    expect(Object.keys(fast.reasons).sort()).toEqual(['cpu', 'native', 'tensorflow', 'tensorflow-gpu', 'wasm']);
    expect(wasmTrainingGradientScope()).toContain('wasm');
    expect(await registerFastBackends()).toBe(fast);
  });

  it('auto picks native when built (else wasm) and says why tfjs-node was skipped', async () => {
    const choice = await selectBackend('auto', { conv: true });
    expect(choice.backend).toBe(nativeBuilt ? 'native' : 'wasm');
    expect(tf.getBackend()).toBe(choice.backend);
    expect(choice.reason).toMatch(/^auto: chose /);
    expect(choice.reason).toMatch(/tensorflow-gpu: @tensorflow\/tfjs-node-gpu/);
    expect(choice.reason).toMatch(/tensorflow: @tensorflow\/tfjs-node/);
    if (!nativeBuilt) expect(choice.reason).toMatch(/native: /);
  });

  for (const request of ['wasm', 'cpu'] as const) {
    it(`an explicit '${request}' request activates it`, async () => {
      const choice = await selectBackend(request);
      expect(choice).toMatchObject({ backend: request });
      expect(choice.reason).toMatch(new RegExp(`^${request} as requested`));
    });
  }

  it('an explicit native request activates the native backend and computes', nativeTest, async () => {
    expect((await selectBackend('native')).backend).toBe('native');
    const y = tf.matMul(tf.tensor2d([[1, 2]]), tf.tensor2d([[3], [4]]));
    expect(Array.from(y.dataSync())).toEqual([11]);
    y.dispose();
  });

  it('an unavailable explicit request throws E_BACKEND_UNAVAILABLE and names the reason', async () => {
    const error = await selectBackend('tensorflow').catch((e: unknown) => e);
    expect(isSparseLearningError(error, 'E_BACKEND_UNAVAILABLE')).toBe(true);
    expect((error as Error).message).toMatch(/without its native binding/);
  });

  it('an unknown request throws E_UNKNOWN_ID listing the valid ones', async () => {
    const error = await selectBackend('gpu' as BackendRequest).catch((e: unknown) => e);
    expect(isSparseLearningError(error, 'E_UNKNOWN_ID')).toBe(true);
    expect((error as Error).message).toMatch(/auto, tensorflow-gpu, tensorflow, native, wasm, cpu/);
  });

  it('a missing addon file is reported, not thrown', () => {
    const status = loadAddonFrom('/nonexistent/sparse_native.node');
    expect(status.addon).toBeNull();
    expect(status.reason).toMatch(/not built/);
  });
});

describe('build-native script', () => {
  it('prints "skipped" and exits 0 when there is no compiler', () => {
    const script = join(packageRoot(), 'scripts', 'build-native.mjs');
    const run = spawnSync(process.execPath, [script, '--out=build/never'], {
      encoding: 'utf8',
      env: { ...process.env, CXX: '/nonexistent/c++' },
    });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/skipped: no C\+\+ compiler/);
  });
});

describe('adaptThreadsToLoad', () => {
  const fake = () => {
    const calls: number[] = [];
    const addon = { setThreads: (n: number) => calls.push(n) } as unknown as NativeAddon;
    return { calls, status: { addon, path: '/x.node', reason: 'native addon loaded (gemm: own-avx2-fma, 2 threads)' } };
  };

  it('drops to one thread on a saturated machine and says why', () => {
    const { calls, status } = fake();
    const out = adaptThreadsToLoad(status, 2, 8.5, undefined);
    expect(calls).toEqual([1]);
    expect(out.reason).toBe('native addon loaded (gemm: own-avx2-fma, 1 thread): load average 8.5 >= 2 cores at start-up (SPARSE_LEARNING_NATIVE_THREADS overrides)');
  });

  it('keeps the threads when the machine has room, when set explicitly, or on one core', () => {
    for (const [cores, load, env] of [[2, 1.2, undefined], [2, 9, '2'], [1, 3, undefined]] as const) {
      const { calls, status } = fake();
      expect(adaptThreadsToLoad(status, cores, load, env)).toBe(status);
      expect(calls).toEqual([]);
    }
  });
});
