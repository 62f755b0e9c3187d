import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-layers';
import { DROPOUT_MASK_KERNEL } from '@sparse-learning/core';
import { nativeAddonStatus, NATIVE_BACKEND, registerFastBackends } from '@sparse-learning/backend-native';
import { describe, expect, it } from 'vitest';
import { createModel } from './registry.js';
import { createWideResNet } from './wide-resnet.js';
import type { LayersTrainableModel } from './layers-trainable-model.js';
import { modelGradientsOn, useWasmWithCompositeKernels, worstRelativeError } from './test-support/fast-backend.js';

/**
 * The zoo's CNNs on the backends the runner trains them with (`@sparse-learning/backend-native`): tf.layers
 * convs and denses run as the fused ops, whose gradients call the `Conv2DBackpropFilter`/`-Input` and
 * transposed-matmul kernels directly, so one step's loss and gradients must equal tfjs-cpu's.
 */
const CASES: [string, () => LayersTrainableModel, number][] = [
  ['lenet5', () => createModel('lenet5', { seed: 1 }), 3],
  // Dropout off so both backends compute the same function (dropout masks are drawn per backend).
  ['wrn-28-2 at 8x8x3 (dropout 0)', () => createWideResNet(28, 2, { inputShape: [8, 8, 3], seed: 2, dropRate: 0 }), 2],
];

async function expectSameStep(backend: string, make: () => LayersTrainableModel, batch: number): Promise<void> {
  const cpu = await modelGradientsOn('cpu', make, batch);
  const fast = await modelGradientsOn(backend, make, batch, cpu.weights);
  expect(Number.isFinite(fast.loss)).toBe(true);
  expect(Math.abs(fast.loss - cpu.loss)).toBeLessThan(1e-4 * (1 + Math.abs(cpu.loss)));
  expect(worstRelativeError(fast.grads, cpu.grads)).toBeLessThanOrEqual(5e-4);
}

describe('zoo CNNs on wasm with the composite kernels', () => {
  for (const [name, make, batch] of CASES) {
    it(`${name}: one step's loss and gradients match cpu`, async () => {
      await useWasmWithCompositeKernels();
      await expectSameStep('wasm', make, batch);
    });
  }
});

const native = nativeAddonStatus();
const nativeSuite = native.addon ? { skip: false, meta: {} } : { skip: true, meta: { skipReason: `needs the native addon: ${native.reason}` } };

describe('zoo CNNs on the native backend', nativeSuite, () => {
  it("lenet5 (FusedConv2D/_FusedMatMul): one step's loss and gradients match cpu", async () => {
    expect((await registerFastBackends()).available).toContain(NATIVE_BACKEND);
    await expectSameStep(NATIVE_BACKEND, CASES[0][1], CASES[0][2]);
  });

  it("wrn-28-2 (native batch norm kernels): loss, gradients and running statistics match cpu", async () => {
    expect((await registerFastBackends()).available).toContain(NATIVE_BACKEND);
    const [, make, batch] = CASES[1];
    const cpu = await modelGradientsOn('cpu', make, batch);
    const fast = await modelGradientsOn(NATIVE_BACKEND, make, batch, cpu.weights);
    expect(Math.abs(fast.loss - cpu.loss)).toBeLessThan(1e-4 * (1 + Math.abs(cpu.loss)));
    expect(worstRelativeError(fast.grads, cpu.grads)).toBeLessThanOrEqual(5e-4);
    expect(cpu.state.length).toBeGreaterThan(0);
    // The running means/variances moved off their initial 0/1 and agree (unbiased variance, momentum 0.1).
    expect(cpu.state.some((s) => s.some((v) => v !== 0 && v !== 1))).toBe(true);
    expect(worstRelativeError(fast.state, cpu.state)).toBeLessThanOrEqual(1e-5);
  });

  it('wrn-16-2 at 16x16x3 with dropout 0.3 (direct convolutions, native dropout draw): loss and gradients match cpu', async () => {
    // 32-channel 3x3 convolutions on 16-pixel rows run the direct forward and input-gradient kernels (issue 10,
    // wrn-parity), and the dropout multipliers are drawn by the addon: bit-identical to tfjs's draw on cpu, so
    // with dropout on both backends still compute the same function.
    expect((await registerFastBackends()).available).toContain(NATIVE_BACKEND);
    expect(tf.getKernel(DROPOUT_MASK_KERNEL, NATIVE_BACKEND)).toBeDefined();
    const make = () => createWideResNet(16, 2, { inputShape: [16, 16, 3], seed: 3, dropRate: 0.3 });
    const cpu = await modelGradientsOn('cpu', make, 2);
    const fast = await modelGradientsOn(NATIVE_BACKEND, make, 2, cpu.weights);
    expect(Math.abs(fast.loss - cpu.loss)).toBeLessThan(1e-4 * (1 + Math.abs(cpu.loss)));
    expect(worstRelativeError(fast.grads, cpu.grads)).toBeLessThanOrEqual(5e-4);
  });
});

