import type { DensityDistribution, InitialMasks, LayerShape } from '../contracts/density-distribution.js';
import type { Rng } from '../rng.js';
import { checkDensity, checkLayers, drawExact, scaleToTotal, targetTotal } from './draw.js';

/** Registry id of {@link ErdosRenyiDistribution}. */
export const ERDOS_RENYI_DISTRIBUTION_ID = 'erdos-renyi';

/**
 * Erdős–Rényi (SET, Mocanu et al. 2018) as RigL defines it (`sparse_utils.get_sparsities_erdos_renyi` with
 * `include_kernel=False`): per-layer density ∝ `(n_in + n_out) / (n_in · n_out)`, using only the last two
 * dimensions of the TensorFlow.js layout (Dense `[in, out]`, Conv2D `[kh, kw, in, out]`: kernel size ignored).
 * The total is exactly `Σ n_i·d`; layers that would exceed density 1 are made dense and the rest rescaled
 * (see {@link scaleToTotal}). Each layer then gets exactly `round(n_i·d_i)` weights at random positions.
 * A 1-D tensor (no in/out pair) falls back to `sum(shape)/prod(shape)` = 1.
 *
 * Not the official `Masking.init(mode='linear')` (docs/algorithm.md#initialisation, known-buggy and unreachable from the CLI).
 */
export class ErdosRenyiDistribution implements DensityDistribution {
  readonly id = ERDOS_RENYI_DISTRIBUTION_ID;

  initialize(layers: readonly LayerShape[], density: number, rng: Rng): InitialMasks {
    checkDensity('density', density);
    checkLayers(layers);
    const raw = layers.map(({ shape }) => {
      if (shape.length < 2) return shape.reduce((a, b) => a + b, 0) / shape.reduce((a, b) => a * b, 1);
      const nIn = shape[shape.length - 2];
      const nOut = shape[shape.length - 1];
      return (nIn + nOut) / (nIn * nOut);
    });
    const densities = scaleToTotal(layers, raw, density);
    return { masks: drawExact(layers, densities, rng), densities, baselineNonzero: targetTotal(layers, densities) };
  }
}
