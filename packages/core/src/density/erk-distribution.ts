import type { DensityDistribution, InitialMasks, LayerShape } from '../contracts/density-distribution.js';
import { outOfRangeError } from '../errors.js';
import type { Rng } from '../rng.js';
import { checkDensity, checkLayers, drawExact, scaleToTotal, targetTotal } from './draw.js';

/** Registry id of {@link ErkDistribution}. */
export const ERK_DISTRIBUTION_ID = 'erk';

/** Options of {@link ErkDistribution}. */
export interface ErkDistributionOptions {
  /** RigL's `erk_power_scale`: raw densities are `(Σshape/Πshape)^power` (default 1). */
  readonly powerScale?: number;
}

/**
 * Erdős–Rényi-Kernel (RigL, Evci et al. 2020; `sparse_utils.get_sparsities_erdos_renyi` with
 * `include_kernel=True`): per-layer density ∝ `(Σ shape / Π shape)^powerScale`, i.e. kernel dimensions count.
 * The total is exactly `Σ n_i·d`: layers whose density would exceed 1 are made dense and the others rescaled,
 * iteratively (see {@link scaleToTotal}). Each layer gets exactly `round(n_i·d_i)` weights at random positions.
 */
export class ErkDistribution implements DensityDistribution {
  readonly id = ERK_DISTRIBUTION_ID;
  readonly powerScale: number;

  constructor(options: ErkDistributionOptions = {}) {
    const powerScale = options.powerScale ?? 1;
    if (!Number.isFinite(powerScale) || powerScale <= 0) {
      throw outOfRangeError('erk.powerScale', powerScale, 'a finite number > 0');
    }
    this.powerScale = powerScale;
  }

  initialize(layers: readonly LayerShape[], density: number, rng: Rng): InitialMasks {
    checkDensity('density', density);
    checkLayers(layers);
    const raw = layers.map(
      ({ shape }) => (shape.reduce((a, b) => a + b, 0) / shape.reduce((a, b) => a * b, 1)) ** this.powerScale,
    );
    const densities = scaleToTotal(layers, raw, density);
    return { masks: drawExact(layers, densities, rng), densities, baselineNonzero: targetTotal(layers, densities) };
  }
}
