import * as tfl from '@tensorflow/tfjs-layers';
import { createRng } from '@sparse-learning/core';
import type { Rng } from '@sparse-learning/core';

/** A tfjs-layers initializer (the type `tfl.initializers.*` return). */
export type Initializer = ReturnType<typeof tfl.initializers.zeros>;

/**
 * Hands out one initializer seed per weight tensor, in declaration (= PyTorch parameter) order.
 *
 * Without a model seed every initializer is unseeded (tfjs draws from its own random source), as in PyTorch
 * without `torch.manual_seed`. With a seed, the seeds come from a forked stream of the library RNG
 * (`createRng(seed).fork('model-init')`), so the same seed builds bit-identical weights on every run.
 */
export class SeedSource {
  private readonly rng: Rng | undefined;

  constructor(seed?: number | string) {
    this.rng = seed === undefined ? undefined : createRng(seed).fork('model-init');
  }

  /** The next initializer seed, or `undefined` when the model is unseeded. */
  next(): number | undefined {
    return this.rng === undefined ? undefined : this.rng.nextUint32();
  }
}

/**
 * PyTorch's default `nn.Conv2d` / `nn.Linear` weight init (docs/algorithm.md#initialisation): `kaiming_uniform_(a=√5)`, which is
 * U(−1/√fan_in, +1/√fan_in). tfjs' `varianceScaling` with `scale = 1/3`, `fanIn`, `uniform` draws from
 * U(±√(3·scale/fan_in)) = U(±1/√fan_in); fan_in is computed from the kernel shape (kh·kw·in or in).
 */
export function pytorchKernelInitializer(seed?: number): Initializer {
  return tfl.initializers.varianceScaling({ scale: 1 / 3, mode: 'fanIn', distribution: 'uniform', seed });
}

/**
 * PyTorch's default bias init (docs/algorithm.md#initialisation): U(−1/√fan_in, +1/√fan_in) where fan_in is the fan-in of the
 * layer's *kernel* (in_ch·kh·kw for a conv, in_features for a linear layer), not of the bias vector.
 */
export function pytorchBiasInitializer(fanIn: number, seed?: number): Initializer {
  const bound = 1 / Math.sqrt(fanIn);
  return tfl.initializers.randomUniform({ minval: -bound, maxval: bound, seed });
}

/** A plain (not truncated) normal N(0, stddev²) — PyTorch's `normal_` / `kaiming_normal_`. */
export function normalInitializer(stddev: number, seed?: number): Initializer {
  return tfl.initializers.randomNormal({ mean: 0, stddev, seed });
}

/**
 * The WideResNet / DSR-ResNet conv init (docs/algorithm.md#initialisation, docs/algorithm.md#models): N(0, √(2/n)) with n = k·k·out_channels
 * (He-normal on **fan_out**).
 */
export function heNormalFanOutStd(kernelSize: number, outChannels: number): number {
  return Math.sqrt(2 / (kernelSize * kernelSize * outChannels));
}

/** `kaiming_normal_(mode='fan_in', nonlinearity='relu')` (tuned ResNet-50, docs/algorithm.md#models): std √(2/fan_in). */
export function heNormalFanInStd(kernelSize: number, inChannels: number): number {
  return Math.sqrt(2 / (kernelSize * kernelSize * inChannels));
}

/**
 * How a conv / linear layer initialises its kernel:
 * - `pytorch`: PyTorch default, U(±1/√fan_in) (docs/algorithm.md#initialisation);
 * - `{ normal: std }`: N(0, std²), used for the WRN and ResNet-50 overrides.
 */
export type KernelInit = 'pytorch' | { readonly normal: number };

/** How a layer initialises its bias: PyTorch default U(±1/√fan_in), or zeros (WRN `Linear`, docs/algorithm.md#initialisation). */
export type BiasInit = 'pytorch' | 'zeros';

/** Builds the kernel initializer for a {@link KernelInit}. */
export function kernelInitializer(init: KernelInit, seed?: number): Initializer {
  return init === 'pytorch' ? pytorchKernelInitializer(seed) : normalInitializer(init.normal, seed);
}

/** Builds the bias initializer for a {@link BiasInit}. */
export function biasInitializer(init: BiasInit, fanIn: number, seed?: number): Initializer {
  return init === 'pytorch' ? pytorchBiasInitializer(fanIn, seed) : tfl.initializers.zeros();
}
