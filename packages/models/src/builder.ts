import * as tfl from '@tensorflow/tfjs-layers';
import { SparseLearningError } from '@sparse-learning/core';
import type { NamedVariable } from '@sparse-learning/core';
import type { Variable } from '@tensorflow/tfjs-core';
import { SeedSource, biasInitializer, kernelInitializer } from './init.js';
import type { BiasInit, KernelInit } from './init.js';
import { planPadding } from './padding.js';
import { RandomKeyStream, SeededDropout, defaultRandomKey } from './seeded-dropout.js';
import { TorchBatchNorm, type RunningVariance } from './torch-batch-norm.js';

/** A symbolic tensor of the functional tfjs-layers API. */
export type Sym = tfl.SymbolicTensor;
/** A layer (or chain of layers) applied to a symbolic tensor. */
export type Apply = (x: Sym) => Sym;

/**
 * PyTorch `BatchNorm` defaults (docs/algorithm.md#initialisation): running-stat momentum 0.1 (`running = 0.9 · running + 0.1 · batch`),
 * which is tfjs-layers' `momentum` 0.9; eps 1e-5. `BN_MOMENTUM` is given in the tfjs convention.
 */
export const BN_MOMENTUM = 0.9;
export const BN_EPSILON = 1e-5;
/** The running-statistics momentum in PyTorch's convention (`nn.BatchNorm*d(momentum=0.1)`). */
export const BN_TORCH_MOMENTUM = 0.1;

/** Options of {@link ModelBuilder} beyond the seed. */
export interface BuilderOptions {
  /**
   * How batch norm updates its running variance in training: `'unbiased'` (default, PyTorch) or `'biased'`
   * (tfjs-layers/Keras). See {@link TorchBatchNorm}.
   */
  readonly batchNormRunningVariance?: RunningVariance;
  /** Fused loss and, where a model provides one, direct forward pass (`ModelOptions.fused`); default true. */
  readonly fused?: boolean;
}

/** Options of {@link ModelBuilder.conv2d}; the PyTorch `nn.Conv2d(in, out, k, stride, padding, bias)`. */
export interface Conv2dSpec {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number;
  readonly stride?: number;
  /** Symmetric zero padding on every side, as PyTorch's `padding` (docs/algorithm.md#models). Default 0. */
  readonly padding?: number;
  readonly bias?: boolean;
  readonly kernelInit?: KernelInit;
  readonly biasInit?: BiasInit;
}

/** Options of {@link ModelBuilder.linear}; the PyTorch `nn.Linear(in, out, bias)`. */
export interface LinearSpec {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly bias?: boolean;
  readonly kernelInit?: KernelInit;
  readonly biasInit?: BiasInit;
}

type ModuleKind = 'conv' | 'linear' | 'bn';

interface ParamModule {
  readonly name: string;
  readonly kind: ModuleKind;
  readonly layer: tfl.layers.Layer;
}

/**
 * Builds a tfjs-layers functional model the way a PyTorch `nn.Module` is written: parametric modules are
 * *declared* (layer objects created, in PyTorch registration order, under their official module names such
 * as `features.0` or `block1.layer.0.conv1`) and then *applied* in the forward pass. The declaration order is
 * the PyTorch parameter order used for {@link NamedVariable} lists (docs/algorithm.md#which-weights-are-sparse iterates tensors in it).
 */
export class ModelBuilder {
  private readonly modules: ParamModule[] = [];
  private readonly names = new Set<string>();
  private readonly seeds: SeedSource;
  private readonly runningVariance: RunningVariance;
  private anonymous = 0;
  /**
   * The source of the training-mode random draws (dropout masks) of the built model; the model exposes it as
   * `setRandomKey`. Keyed `<seed>/dropout` until a caller sets a per-step key.
   */
  readonly randomKeys: RandomKeyStream;
  /** Whether the built model uses core's fused ops (`ModelOptions.fused`). */
  readonly fused: boolean;

  constructor(seed?: number | string, options: BuilderOptions = {}) {
    this.seeds = new SeedSource(seed);
    this.runningVariance = options.batchNormRunningVariance ?? 'unbiased';
    this.fused = options.fused ?? true;
    this.randomKeys = new RandomKeyStream(defaultRandomKey(seed));
  }

  private register(name: string, kind: ModuleKind, layer: tfl.layers.Layer): void {
    if (this.names.has(name)) {
      throw new SparseLearningError('E_CONFIG_INVALID', `module name '${name}' is declared twice`, { name });
    }
    this.names.add(name);
    this.modules.push({ name, kind, layer });
  }

  /** A unique layer name for a parameter-free layer (only needs to be unique inside the model). */
  private auto(prefix: string): string {
    this.anonymous += 1;
    return `${prefix}_${this.anonymous}`;
  }

  /**
   * `nn.Conv2d` with PyTorch padding semantics (`ZeroPadding2D` + `'valid'`, or `'same'` only where it is
   * identical, see {@link planPadding}) and PyTorch init by default (docs/algorithm.md#initialisation). The weight is prunable.
   */
  conv2d(name: string, spec: Conv2dSpec): Apply {
    const stride = spec.stride ?? 1;
    const plan = planPadding(spec.kernelSize, stride, spec.padding ?? 0);
    const useBias = spec.bias ?? true;
    const fanIn = spec.inChannels * spec.kernelSize * spec.kernelSize;
    const kernelSeed = this.seeds.next();
    const biasSeed = useBias ? this.seeds.next() : undefined;
    const pad =
      plan.explicit > 0
        ? tfl.layers.zeroPadding2d({ padding: plan.explicit, name: `${name}.pad`, dataFormat: 'channelsLast' })
        : undefined;
    const conv = tfl.layers.conv2d({
      name,
      filters: spec.outChannels,
      kernelSize: spec.kernelSize,
      strides: stride,
      padding: plan.mode,
      useBias,
      dataFormat: 'channelsLast',
      kernelInitializer: kernelInitializer(spec.kernelInit ?? 'pytorch', kernelSeed),
      biasInitializer: useBias ? biasInitializer(spec.biasInit ?? 'pytorch', fanIn, biasSeed) : undefined,
    });
    this.register(name, 'conv', conv);
    return (x) => {
      checkChannels(name, x, spec.inChannels);
      return conv.apply(pad === undefined ? x : (pad.apply(x) as Sym)) as Sym;
    };
  }

  /** `nn.Linear` (dense) with PyTorch init by default (docs/algorithm.md#initialisation). The weight is prunable. */
  linear(name: string, spec: LinearSpec): Apply {
    const useBias = spec.bias ?? true;
    const kernelSeed = this.seeds.next();
    const biasSeed = useBias ? this.seeds.next() : undefined;
    const dense = tfl.layers.dense({
      name,
      units: spec.outFeatures,
      useBias,
      kernelInitializer: kernelInitializer(spec.kernelInit ?? 'pytorch', kernelSeed),
      biasInitializer: useBias ? biasInitializer(spec.biasInit ?? 'pytorch', spec.inFeatures, biasSeed) : undefined,
    });
    this.register(name, 'linear', dense);
    return (x) => {
      checkChannels(name, x, spec.inFeatures);
      return dense.apply(x) as Sym;
    };
  }

  /**
   * `nn.BatchNorm2d` / `nn.BatchNorm1d` over the last (channel) axis with PyTorch semantics
   * ({@link TorchBatchNorm}): γ = 1, β = 0, eps 1e-5, running-stat momentum 0.1, running variance updated
   * with the unbiased batch variance (unless the builder was given `batchNormRunningVariance: 'biased'`). Not prunable.
   */
  batchNorm(name: string, features: number): Apply {
    const bn = new TorchBatchNorm({
      name,
      momentum: BN_TORCH_MOMENTUM,
      epsilon: BN_EPSILON,
      runningVariance: this.runningVariance,
    });
    this.register(name, 'bn', bn);
    return (x) => {
      checkChannels(name, x, features);
      return bn.apply(x) as Sym;
    };
  }

  /** ReLU. */
  relu(): Apply {
    const layer = tfl.layers.reLU({ name: this.auto('relu') });
    return (x) => layer.apply(x) as Sym;
  }

  /**
   * Max pooling with PyTorch semantics (floor mode = tfjs `'valid'`). `padding > 0` is realised as zero
   * padding, which equals PyTorch's −∞ padding only when the input is non-negative (i.e. after a ReLU, as
   * in ResNet-50's stem) — callers must guarantee that.
   */
  maxPool(poolSize: number, stride: number, padding = 0): Apply {
    const pad = padding > 0 ? tfl.layers.zeroPadding2d({ padding, name: this.auto('maxpool_pad') }) : undefined;
    const pool = tfl.layers.maxPooling2d({ poolSize, strides: stride, padding: 'valid', name: this.auto('maxpool') });
    return (x) => pool.apply(pad === undefined ? x : (pad.apply(x) as Sym)) as Sym;
  }

  /** Global average pooling (`AdaptiveAvgPool2d(1)`; equals WRN's `avg_pool2d(8)` on its 8×8 map). */
  globalAvgPool(): Apply {
    const layer = tfl.layers.globalAveragePooling2d({ name: this.auto('avgpool') });
    return (x) => layer.apply(x) as Sym;
  }

  /**
   * Dropout, active only in training mode (`F.dropout(..., training=self.training)`), its masks drawn from
   * {@link ModelBuilder.randomKeys} ({@link SeededDropout}): reproducible from the seed and resumable.
   */
  dropout(rate: number): Apply {
    const layer = new SeededDropout({ rate, name: this.auto('dropout'), stream: this.randomKeys });
    return (x) => layer.apply(x) as Sym;
  }

  /**
   * Flatten to `[batch, features]`. Flattens NHWC (channel-minor) where PyTorch flattens NCHW; this only
   * matters when porting trained PyTorch weights, not for training from scratch (docs/algorithm.md#models).
   */
  flatten(): Apply {
    const layer = tfl.layers.flatten({ name: this.auto('flatten') });
    return (x) => layer.apply(x) as Sym;
  }

  /** Element-wise sum (residual connections). */
  add(): (a: Sym, b: Sym) => Sym {
    const layer = tfl.layers.add({ name: this.auto('add') });
    return (a, b) => layer.apply([a, b]) as Sym;
  }

  /**
   * Collects the variables of every declared module, named like PyTorch's `named_parameters()` /
   * `named_buffers()`: conv/linear `weight` (prunable) and `bias`; BN `weight` (γ), `bias` (β) and the
   * non-trainable `running_mean` / `running_var`. Trainable parameters come first in declaration order,
   * then the BN running statistics (core contract `TrainableModel.variables`).
   */
  collectVariables(): NamedVariable[] {
    const params: NamedVariable[] = [];
    const buffers: NamedVariable[] = [];
    for (const module of this.modules) {
      const find = (suffix: string): Variable | undefined => {
        const weight = module.layer.weights.find((w) => w.originalName.endsWith(`/${suffix}`));
        return weight === undefined ? undefined : (weight.read() as Variable);
      };
      const need = (suffix: string): Variable => {
        const variable = find(suffix);
        if (variable === undefined) {
          throw new SparseLearningError('E_ENGINE_STATE', `layer '${module.name}' has no '${suffix}' weight`, {
            layer: module.name,
            weight: suffix,
          });
        }
        return variable;
      };
      if (module.kind === 'bn') {
        params.push({ name: `${module.name}.weight`, variable: need('gamma'), prunable: false, trainable: true });
        params.push({ name: `${module.name}.bias`, variable: need('beta'), prunable: false, trainable: true });
        buffers.push({
          name: `${module.name}.running_mean`,
          variable: need('moving_mean'),
          prunable: false,
          trainable: false,
        });
        buffers.push({
          name: `${module.name}.running_var`,
          variable: need('moving_variance'),
          prunable: false,
          trainable: false,
        });
      } else {
        params.push({ name: `${module.name}.weight`, variable: need('kernel'), prunable: true, trainable: true });
        const bias = find('bias');
        if (bias !== undefined) params.push({ name: `${module.name}.bias`, variable: bias, prunable: false, trainable: true });
      }
    }
    return [...params, ...buffers];
  }
}

/** Fails early, with the module name, when a layer is wired to an input of the wrong width. */
function checkChannels(name: string, x: Sym, expected: number): void {
  const actual = x.shape[x.shape.length - 1];
  if (actual !== expected) {
    throw new SparseLearningError(
      'E_SHAPE_MISMATCH',
      `module '${name}' expects ${expected} input channels/features but receives ${String(actual)}`,
      { module: name, expected, actual },
    );
  }
}
