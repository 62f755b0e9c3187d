import * as tf from '@tensorflow/tfjs-core';
import type { DensityDistribution, InitialMasks, LayerShape } from '../contracts/density-distribution.js';
import type { NamedVariable } from '../contracts/model.js';
import { SparseLearningError, outOfRangeError } from '../errors.js';
import type { Rng } from '../rng.js';
import { NON_BINARY_BITS, maskWords } from '../util/mask-words.js';
import { countActive } from '../util/selection.js';

/**
 * Which variables get a mask. Default (no field set): the `prunable` flag of each {@link NamedVariable}, i.e.
 * every conv and dense kernel, first and last layers included, biases and batch norm excluded (docs/algorithm.md#which-weights-are-sparse).
 */
export interface MaskingSelection {
  /** Variables to mask by exact name or pattern; replaces the `prunable` flag. */
  readonly names?: readonly (string | RegExp)[];
  /** Predicate deciding which variables to mask; replaces the `prunable` flag (ANDed with `names` if both). */
  readonly include?: (variable: NamedVariable) => boolean;
  /** Names or patterns never masked (applied last, e.g. `['fc1.weight']` to keep the first layer dense). */
  readonly exclude?: readonly (string | RegExp)[];
}

/** One masked tensor. */
export interface MaskedLayer {
  readonly name: string;
  readonly index: number;
  readonly variable: tf.Variable;
  /** TensorFlow.js layout: Dense `[in, out]`, Conv2D `[kh, kw, in, out]`. */
  readonly shape: readonly number[];
  readonly size: number;
}

/** Active-weight count and density of one masked tensor. */
export interface LayerDensity {
  readonly name: string;
  readonly size: number;
  readonly active: number;
  readonly density: number;
}

/**
 * Index of the first byte of `mask` that is neither 0 nor 1, or -1. Four bytes at a time (issue 14: the
 * masks are replaced after every DeepR step); only a word holding such a byte is looked at byte by byte.
 */
function firstNonBinary(mask: Uint8Array): number {
  const words = maskWords(mask);
  const whole = words ? words.length : 0;
  for (let k = 0; k < whole; k++) {
    if ((words![k] & NON_BINARY_BITS) === 0) continue;
    for (let j = k << 2; j < (k << 2) + 4; j++) if (mask[j] > 1) return j;
  }
  for (let j = whole << 2; j < mask.length; j++) if (mask[j] > 1) return j;
  return -1;
}

function matches(name: string, patterns: readonly (string | RegExp)[]): boolean {
  return patterns.some((p) => (typeof p === 'string' ? p === name : p.test(name)));
}

/**
 * A 0/1 mask per prunable tensor (docs/algorithm.md#the-mask-update, docs/algorithm.md#initialisation): drawn by a {@link DensityDistribution}, applied as
 * `W ← W ⊙ M` after every optimizer step and after every mask update. Gradients and optimizer buffers are
 * never masked (docs/algorithm.md#one-training-step).
 *
 * Masks live twice: as `Uint8Array`s (the mask update and the counts work on CPU arrays) and as float32
 * tensors of the variable's shape (so {@link Masking.apply} is one multiply per tensor, no upload per step).
 */
export class Masking {
  readonly layers: readonly MaskedLayer[];
  private masks: Uint8Array[] | null = null;
  private tensors: tf.Tensor[] = [];
  private baseline = Number.NaN;
  private readonly densitiesAtInit: number[] = [];

  /**
   * @param variables every variable of the model, in parameter order (masking keeps that order).
   * @param selection overrides the default `prunable` selection.
   * @throws `E_NO_PRUNABLE_TENSORS` when nothing is selected; `E_CONFIG_INVALID` for duplicate names.
   */
  constructor(variables: readonly NamedVariable[], selection: MaskingSelection = {}) {
    const seen = new Set<string>();
    for (const v of variables) {
      if (seen.has(v.name)) {
        throw new SparseLearningError('E_CONFIG_INVALID', `duplicate variable name '${v.name}'`, { name: v.name });
      }
      seen.add(v.name);
    }
    const selected = variables.filter((v) => {
      let keep: boolean;
      if (selection.names || selection.include) {
        keep = (!selection.names || matches(v.name, selection.names)) && (!selection.include || selection.include(v));
      } else {
        keep = v.prunable;
      }
      return keep && !(selection.exclude && matches(v.name, selection.exclude));
    });
    if (selected.length === 0) {
      throw new SparseLearningError(
        'E_NO_PRUNABLE_TENSORS',
        `no variable selected for masking; variables: ${variables.map((v) => v.name).join(', ') || '(none)'}`,
        { variables: variables.map((v) => v.name) },
      );
    }
    this.layers = selected.map((v, index) => ({
      name: v.name,
      index,
      variable: v.variable,
      shape: [...v.variable.shape],
      size: v.variable.size,
    }));
  }

  /** Names of the masked tensors, in masking order. */
  get names(): string[] {
    return this.layers.map((l) => l.name);
  }

  /** Shapes as a {@link DensityDistribution} sees them. */
  layerShapes(): LayerShape[] {
    return this.layers.map(({ name, shape, size }) => ({ name, shape, size }));
  }

  /** True once masks exist ({@link Masking.initialize} or {@link Masking.setMasks}). */
  get initialized(): boolean {
    return this.masks !== null;
  }

  /**
   * Draws the initial masks (docs/algorithm.md#initialisation), applies them to the weights and stores `baselineNonzero`.
   * @param density target overall density `d`, `0 < d <= 1`.
   */
  initialize(distribution: DensityDistribution, density: number, rng: Rng): InitialMasks {
    const init = distribution.initialize(this.layerShapes(), density, rng);
    this.setMasks(init.masks);
    this.baselineNonzero = init.baselineNonzero;
    this.densitiesAtInit.splice(0, this.densitiesAtInit.length, ...init.densities);
    this.apply();
    return init;
  }

  /** The float target total of active weights, `Σ n_i·d` (docs/algorithm.md#the-mask-update). */
  get baselineNonzero(): number {
    if (Number.isNaN(this.baseline)) {
      throw new SparseLearningError('E_ENGINE_STATE', 'baselineNonzero is unknown: call initialize() (or set it) first');
    }
    return this.baseline;
  }

  /** Sets the target total (e.g. when restoring a checkpoint). */
  set baselineNonzero(value: number) {
    if (!Number.isFinite(value) || value < 0) throw outOfRangeError('baselineNonzero', value, 'a finite number >= 0');
    this.baseline = value;
  }

  /** Per-layer densities the initial draw aimed at (empty before {@link Masking.initialize}). */
  get targetDensities(): readonly number[] {
    return this.densitiesAtInit;
  }

  /**
   * Replaces every mask (order of {@link Masking.layers}). Does not touch the weights: call
   * {@link Masking.apply} (the trainer writes the weights of a mask update itself).
   * @throws `E_SHAPE_MISMATCH` for a wrong count or length, `E_OUT_OF_RANGE` for a value other than 0/1.
   */
  setMasks(masks: readonly Uint8Array[]): void {
    if (masks.length !== this.layers.length) {
      throw new SparseLearningError(
        'E_SHAPE_MISMATCH',
        `setMasks got ${masks.length} masks for ${this.layers.length} masked tensors (${this.names.join(', ')})`,
      );
    }
    masks.forEach((mask, i) => {
      const layer = this.layers[i];
      if (mask.length !== layer.size) {
        throw new SparseLearningError(
          'E_SHAPE_MISMATCH',
          `mask of '${layer.name}' has ${mask.length} elements, expected ${layer.size} (shape [${layer.shape.join(', ')}])`,
          { layer: layer.name },
        );
      }
      const bad = firstNonBinary(mask);
      if (bad >= 0) throw outOfRangeError(`mask['${layer.name}'][${bad}]`, mask[bad], '0 or 1');
    });
    // Plain copies (a Buffer's slice would share memory); the typed-array constructors copy natively.
    const copies = masks.map((m) => new Uint8Array(m));
    // Kept: setMasks may run inside a caller's tidy; the masking owns these tensors until replaced or disposed.
    const tensors = copies.map((m, i) => tf.keep(tf.tensor(new Float32Array(m), [...this.layers[i].shape], 'float32')));
    tf.dispose(this.tensors);
    this.masks = copies;
    this.tensors = tensors;
  }

  /** Copies of every mask, in masking order. */
  readMasks(): Uint8Array[] {
    return this.requireMasks().map((m) => m.slice());
  }

  /** The masks as float32 0/1 tensors by name (owned by the masking: do not dispose; replaced by setMasks). */
  maskTensors(): Record<string, tf.Tensor> {
    this.requireMasks();
    return Object.fromEntries(this.layers.map((l, i) => [l.name, this.tensors[i]]));
  }

  /**
   * The masks themselves (not copies) by name, for readers that must not pay a copy per step (the trainer hands
   * them to gradient transforms). Read-only: writing into them would put them out of step with
   * {@link Masking.maskTensors}; replaced, not changed, by {@link Masking.setMasks}.
   */
  maskArrays(): Record<string, Uint8Array> {
    const masks = this.requireMasks();
    return Object.fromEntries(this.layers.map((l, i) => [l.name, masks[i]]));
  }

  /** `W ← W ⊙ M` for every masked tensor (docs/algorithm.md#one-training-step `apply_mask`). Leaves no tensor behind. */
  apply(): void {
    this.requireMasks();
    tf.tidy(() => {
      this.layers.forEach((layer, i) => layer.variable.assign(tf.mul(layer.variable, this.tensors[i])));
    });
  }

  /** Active count and density per masked tensor. */
  counts(): LayerDensity[] {
    const masks = this.requireMasks();
    return this.layers.map((layer, i) => {
      const active = countActive(masks[i]);
      return { name: layer.name, size: layer.size, active, density: active / layer.size };
    });
  }

  /** Total active weights over the masked tensors. */
  get totalActive(): number {
    return this.requireMasks().reduce((acc, m) => acc + countActive(m), 0);
  }

  /** Total elements of the masked tensors. */
  get totalSize(): number {
    return this.layers.reduce((acc, l) => acc + l.size, 0);
  }

  /** Overall density among the masked tensors only (the paper's "Weights (%)", docs/algorithm.md#which-weights-are-sparse). */
  get totalDensity(): number {
    return this.totalActive / this.totalSize;
  }

  /** Releases the mask tensors (not the variables). */
  dispose(): void {
    tf.dispose(this.tensors);
    this.tensors = [];
    this.masks = null;
  }

  private requireMasks(): Uint8Array[] {
    if (!this.masks) {
      throw new SparseLearningError('E_ENGINE_STATE', 'masks are not set: call initialize() or setMasks() first');
    }
    return this.masks;
  }
}
