import type { LayerShape } from '../contracts/density-distribution.js';
import { SparseLearningError, outOfRangeError } from '../errors.js';
import type { Rng } from '../rng.js';

/** Throws `E_OUT_OF_RANGE` unless `0 < density <= 1`. */
export function checkDensity(field: string, density: number): void {
  if (typeof density !== 'number' || !Number.isFinite(density) || density <= 0 || density > 1) {
    throw outOfRangeError(field, density, '0 < density <= 1');
  }
}

/** Throws `E_NO_PRUNABLE_TENSORS` for an empty layer list and `E_SHAPE_MISMATCH` for inconsistent sizes. */
export function checkLayers(layers: readonly LayerShape[]): void {
  if (layers.length === 0) {
    throw new SparseLearningError('E_NO_PRUNABLE_TENSORS', 'density distribution called with no prunable tensors');
  }
  for (const layer of layers) {
    const size = layer.shape.reduce((a, b) => a * b, 1);
    if (size !== layer.size || size === 0) {
      throw new SparseLearningError(
        'E_SHAPE_MISMATCH',
        `layer '${layer.name}': size ${layer.size} does not match shape [${layer.shape.join(', ')}] (${size} elements), or is empty`,
        { layer: layer.name },
      );
    }
  }
}

/** A mask of `size` elements, each independently 1 with probability `density` (official `rand < density`). */
export function bernoulliMask(size: number, density: number, rng: Rng): Uint8Array {
  const mask = new Uint8Array(size);
  for (let i = 0; i < size; i++) mask[i] = rng.next() < density ? 1 : 0;
  return mask;
}

/** A mask with exactly `count` ones at uniformly random positions (partial Fisher–Yates). */
export function exactMask(size: number, count: number, rng: Rng): Uint8Array {
  const k = Math.max(0, Math.min(size, count));
  const mask = new Uint8Array(size);
  if (k === size) return mask.fill(1);
  const order = new Uint32Array(size);
  for (let i = 0; i < size; i++) order[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(size - i);
    const tmp = order[i];
    order[i] = order[j];
    order[j] = tmp;
    mask[order[i]] = 1;
  }
  return mask;
}

/** `Σ n_i · d_i`: the float target count of active weights (docs/algorithm.md#the-mask-update). */
export function targetTotal(layers: readonly LayerShape[], densities: readonly number[]): number {
  return layers.reduce((acc, layer, i) => acc + layer.size * densities[i], 0);
}

/**
 * Per-layer densities of RigL's `get_sparsities_erdos_renyi` (google-research/rigl `rigl/sparse_utils.py`):
 * density_i = ε · raw_i, with ε chosen so that the total number of active weights is exactly `Σ n_i · d`;
 * layers whose density would exceed 1 are made dense (all layers sharing the largest `raw_i` at once) and ε is
 * recomputed for the rest, until no layer exceeds 1.
 *
 * Deviation: RigL counts `n_zeros = floor(n_i · (1 − d))`; we keep the float target `Σ n_i·d` (the official
 * Sparse Momentum baseline), the integer rounding happens when the masks are drawn.
 */
export function scaleToTotal(layers: readonly LayerShape[], raw: readonly number[], density: number): number[] {
  const dense = new Set<number>();
  for (;;) {
    let rhs = 0;
    let divisor = 0;
    let maxRaw = 0;
    layers.forEach((layer, i) => {
      if (dense.has(i)) {
        rhs -= layer.size * (1 - density);
      } else {
        rhs += layer.size * density;
        divisor += raw[i] * layer.size;
        maxRaw = Math.max(maxRaw, raw[i]);
      }
    });
    if (divisor === 0) return layers.map(() => 1);
    const eps = rhs / divisor;
    if (maxRaw * eps > 1) {
      layers.forEach((_, i) => {
        if (!dense.has(i) && raw[i] === maxRaw) dense.add(i);
      });
      continue;
    }
    return layers.map((_, i) => (dense.has(i) ? 1 : Math.max(0, eps * raw[i])));
  }
}

/** Draws masks with exactly `round(n_i · d_i)` ones per layer at uniformly random positions. */
export function drawExact(layers: readonly LayerShape[], densities: readonly number[], rng: Rng): Uint8Array[] {
  return layers.map((layer, i) => exactMask(layer.size, Math.round(layer.size * densities[i]), rng));
}
