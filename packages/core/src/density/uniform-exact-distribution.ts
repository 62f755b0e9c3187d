import type { DensityDistribution, InitialMasks, LayerShape } from '../contracts/density-distribution.js';
import type { Rng } from '../rng.js';
import { checkDensity, checkLayers, drawExact, targetTotal } from './draw.js';

/** Registry id of {@link UniformExactDistribution}. */
export const UNIFORM_EXACT_DISTRIBUTION_ID = 'uniform-exact';

/**
 * Uniform density with exact counts (an option beside the official Bernoulli draw of docs/algorithm.md#initialisation): every layer
 * gets exactly `round(n_i · d)` active weights at uniformly random positions. `baselineNonzero = Σ n_i·d`.
 */
export class UniformExactDistribution implements DensityDistribution {
  readonly id = UNIFORM_EXACT_DISTRIBUTION_ID;

  initialize(layers: readonly LayerShape[], density: number, rng: Rng): InitialMasks {
    checkDensity('density', density);
    checkLayers(layers);
    const densities = layers.map(() => density);
    return { masks: drawExact(layers, densities, rng), densities, baselineNonzero: targetTotal(layers, densities) };
  }
}
