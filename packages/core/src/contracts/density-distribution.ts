import type { Rng } from '../rng.js';

/** Shape information of one prunable tensor, as a density distribution sees it. */
export interface LayerShape {
  readonly name: string;
  /** TensorFlow.js layout: Dense `[in, out]`, Conv2D `[kh, kw, in, out]`. */
  readonly shape: readonly number[];
  readonly size: number;
}

/** Result of an initial mask draw. */
export interface InitialMasks {
  /** One 0/1 mask per layer, in the order given. */
  readonly masks: Uint8Array[];
  /** Per-layer target densities the draw aimed at. */
  readonly densities: number[];
  /**
   * The float target total of active weights that the growth controller keeps the network at
   * (official: `Σ n_i · d`, docs/algorithm.md#the-mask-update).
   */
  readonly baselineNonzero: number;
}

/**
 * How the initial budget is spread over layers and drawn (docs/algorithm.md#initialisation): uniform Bernoulli (official),
 * uniform with exact counts, Erdős–Rényi, ERK, or a custom per-layer map.
 */
export interface DensityDistribution {
  readonly id: string;
  initialize(layers: readonly LayerShape[], density: number, rng: Rng): InitialMasks;
}
