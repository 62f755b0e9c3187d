import type { DensityDistribution, InitialMasks, LayerShape } from '../contracts/density-distribution.js';
import type { Rng } from '../rng.js';
import { bernoulliMask, checkDensity, checkLayers, targetTotal } from './draw.js';

/** Registry id of {@link UniformBernoulliDistribution}. */
export const UNIFORM_BERNOULLI_DISTRIBUTION_ID = 'uniform-bernoulli';

/**
 * The official initialisation (docs/algorithm.md#initialisation, `Masking.init(mode='constant')`), the default: every element of
 * every masked tensor is independently 1 with probability `d`, so per-layer counts are only approximately
 * `n_i·d`; `baselineNonzero = Σ n_i·d` (a float), which the growth controller then steers the total towards.
 */
export class UniformBernoulliDistribution implements DensityDistribution {
  readonly id = UNIFORM_BERNOULLI_DISTRIBUTION_ID;

  initialize(layers: readonly LayerShape[], density: number, rng: Rng): InitialMasks {
    checkDensity('density', density);
    checkLayers(layers);
    const densities = layers.map(() => density);
    return {
      masks: layers.map((layer) => bernoulliMask(layer.size, density, rng)),
      densities,
      baselineNonzero: targetTotal(layers, densities),
    };
  }
}
