import type { DensityDistribution, InitialMasks, LayerShape } from '../contracts/density-distribution.js';
import { SparseLearningError, outOfRangeError } from '../errors.js';
import type { Rng } from '../rng.js';
import { bernoulliMask, checkDensity, checkLayers, drawExact, targetTotal } from './draw.js';

/** Registry id of {@link CustomDensityDistribution}. */
export const CUSTOM_DENSITY_DISTRIBUTION_ID = 'custom';

/** Options of {@link CustomDensityDistribution}. */
export interface CustomDensityDistributionOptions {
  /** Density per layer name, each in `(0, 1]`. */
  readonly densities: Readonly<Record<string, number>>;
  /**
   * What layers missing from the map get: `'global'` (default) uses the `density` passed to `initialize`;
   * `'error'` requires every layer to be listed.
   */
  readonly missing?: 'global' | 'error';
  /** `'exact'` (default): `round(n_i·d_i)` at random positions; `'bernoulli'`: independent draws (official style). */
  readonly draw?: 'exact' | 'bernoulli';
}

/**
 * A user-given density per layer (an extension of docs/algorithm.md#initialisation). Names must match prunable tensors: an unknown
 * name is an error listing the valid ones, so typos do not silently fall back to the global density.
 * `baselineNonzero = Σ n_i·d_i`.
 */
export class CustomDensityDistribution implements DensityDistribution {
  readonly id = CUSTOM_DENSITY_DISTRIBUTION_ID;
  readonly densities: Readonly<Record<string, number>>;
  readonly missing: 'global' | 'error';
  readonly draw: 'exact' | 'bernoulli';

  constructor(options: CustomDensityDistributionOptions) {
    for (const [name, value] of Object.entries(options.densities)) checkDensity(`densities['${name}']`, value);
    this.densities = { ...options.densities };
    this.missing = options.missing ?? 'global';
    this.draw = options.draw ?? 'exact';
  }

  initialize(layers: readonly LayerShape[], density: number, rng: Rng): InitialMasks {
    checkLayers(layers);
    const names = layers.map((layer) => layer.name);
    const unknown = Object.keys(this.densities).filter((name) => !names.includes(name));
    if (unknown.length > 0) {
      throw new SparseLearningError(
        'E_CONFIG_INVALID',
        `custom densities name unknown layer(s) ${unknown.map((n) => `'${n}'`).join(', ')}; prunable layers: ${names.join(', ')}`,
        { unknown, valid: names },
      );
    }
    const densities = layers.map((layer) => {
      const value = this.densities[layer.name];
      if (value !== undefined) return value;
      if (this.missing === 'error') {
        throw new SparseLearningError(
          'E_CONFIG_INVALID',
          `custom densities give no density for layer '${layer.name}' (missing: 'error'); prunable layers: ${names.join(', ')}`,
          { layer: layer.name, valid: names },
        );
      }
      if (typeof density !== 'number' || !Number.isFinite(density) || density <= 0 || density > 1) {
        throw outOfRangeError('density', density, '0 < density <= 1');
      }
      return density;
    });
    const masks =
      this.draw === 'exact'
        ? drawExact(layers, densities, rng)
        : layers.map((layer, i) => bernoulliMask(layer.size, densities[i], rng));
    return { masks, densities, baselineNonzero: targetTotal(layers, densities) };
  }
}
