/**
 * The initial state of a compact sparse MLP session (issue 9), drawn directly in compact form: no dense
 * `[in, out]` weight or mask array ever exists, so a model whose dense form does not fit in memory can start.
 *
 * Same distributions as the masked path (docs/algorithm.md#initialisation), not the same draws:
 * - per-layer densities exactly as the configured distribution computes them (`erdos-renyi`/`erk`: RigL's
 *   ε-scaling with dense layers made dense, `uniform-exact`: `d` everywhere), then exactly `round(n·d)`
 *   active positions per layer, a uniformly random subset of the layer (as `exactMask`);
 * - weights and biases uniform in ±1/√in (PyTorch's `nn.Linear` default, as the zoo builds them);
 * - momentum 0.
 * The random numbers come from the stream `compact-init` of the run's seed, so the draw is reproducible but
 * differs bit for bit from the dense path's (which draws a value for every dense position). Runs whose dense
 * form fits keep the dense session by default (`--sparse-state auto`), where `--execution sparse` equals the
 * masked run.
 */
import {
  ERDOS_RENYI_DISTRIBUTION_ID,
  ERK_DISTRIBUTION_ID,
  SparseLearningError,
  UNIFORM_EXACT_DISTRIBUTION_ID,
  scaleToTotal,
  type Rng,
} from '@sparse-learning/core';
import { sparseLayerFromCsc, type SparseMlpLayerSpec } from '@sparse-learning/backend-native';
import type { DenseChainSpec } from '@sparse-learning/models';

/** Density distributions a compact session can draw without a dense mask (exact counts per layer). */
export const COMPACT_DISTRIBUTIONS = [ERDOS_RENYI_DISTRIBUTION_ID, ERK_DISTRIBUTION_ID, UNIFORM_EXACT_DISTRIBUTION_ID] as const;

/** The compact initial layers and the float target count the growth controller keeps. */
export interface CompactInit {
  readonly layers: SparseMlpLayerSpec[];
  readonly baselineNonzero: number;
  readonly densities: number[];
}

/** A uniform double in [0, 1) with 53 random bits (two draws): `rng.next()` alone has 32, too few to reach every position of a 10¹⁰-weight layer. */
export function uniform53(rng: Rng): number {
  const hi = Math.floor(rng.next() * 2 ** 26);
  const lo = Math.floor(rng.next() * 2 ** 27);
  return (hi * 2 ** 27 + lo) / 2 ** 53;
}

/** Per-layer densities of `distribution` at total density `density` (the same numbers the dense draw uses). */
export function compactDensities(spec: DenseChainSpec, distribution: string, density: number): number[] {
  const shapes = spec.layers.map((l) => ({ name: `${l.name}.weight`, shape: [l.inFeatures, l.outFeatures], size: l.inFeatures * l.outFeatures }));
  if (distribution === UNIFORM_EXACT_DISTRIBUTION_ID) return shapes.map(() => density);
  if (distribution === ERDOS_RENYI_DISTRIBUTION_ID || distribution === ERK_DISTRIBUTION_ID) {
    // For Dense layers ERK's (in + out + kernel dims) / (in · out · kernel) is Erdős–Rényi's (in + out)/(in · out).
    return scaleToTotal(
      shapes,
      shapes.map(({ shape }) => (shape[0] + shape[1]) / (shape[0] * shape[1])),
      density,
    );
  }
  throw new SparseLearningError(
    'E_CONFIG_INVALID',
    `density distribution '${distribution}' cannot be drawn in compact form (it draws each of the dense positions); use --density-distribution ${COMPACT_DISTRIBUTIONS.join(' | ')} or --sparse-state dense`,
    { densityDistribution: distribution, valid: [...COMPACT_DISTRIBUTIONS] },
  );
}

/**
 * `count` distinct flat positions of `[0, size)`, a uniformly random subset, ascending (Float64Array: exact
 * below 2⁵³). Draws with replacement, sorts, removes duplicates and tops up until `count` are distinct, then
 * drops a uniformly random surplus — a uniform subset of a uniform subset is uniform. O(count log count) time,
 * 8 bytes per position; the dense range is never materialised.
 */
export function drawPositions(size: number, count: number, rng: Rng): Float64Array {
  if (count >= size) return Float64Array.from({ length: size }, (_, i) => i);
  let have = new Float64Array(0);
  while (have.length < count) {
    const want = Math.ceil((count - have.length) * 1.02) + 16;
    const merged = new Float64Array(have.length + want);
    merged.set(have);
    for (let k = have.length; k < merged.length; k++) merged[k] = Math.floor(uniform53(rng) * size);
    merged.sort();
    let n = 0;
    for (let k = 0; k < merged.length; k++) if (k === 0 || merged[k] !== merged[k - 1]) merged[n++] = merged[k];
    have = merged.slice(0, n);
  }
  if (have.length === count) return have;
  // Drop a uniform random surplus: a partial Fisher–Yates over the indices picks which to keep.
  const order = new Int32Array(have.length);
  for (let k = 0; k < order.length; k++) order[k] = k;
  for (let k = 0; k < count; k++) {
    const j = k + Math.floor(uniform53(rng) * (order.length - k));
    const t = order[k];
    order[k] = order[j];
    order[j] = t;
  }
  const kept = Float64Array.from(order.subarray(0, count), (k) => have[k]);
  return kept.sort();
}

/**
 * CSC arrays of a layer `[in, out]` from ascending flat positions `i·out + o` (TF.js layout): a counting sort
 * by output keeps the inputs of every output ascending.
 */
export function cscFromPositions(inFeatures: number, outFeatures: number, positions: Float64Array): { colptr: Int32Array; rowidx: Int32Array } {
  const colptr = new Int32Array(outFeatures + 1);
  for (let k = 0; k < positions.length; k++) colptr[(positions[k] % outFeatures) + 1]++;
  for (let o = 0; o < outFeatures; o++) colptr[o + 1] += colptr[o];
  const next = colptr.slice(0, outFeatures);
  const rowidx = new Int32Array(positions.length);
  for (let k = 0; k < positions.length; k++) {
    const p = positions[k];
    const o = p % outFeatures;
    rowidx[next[o]++] = (p - o) / outFeatures;
  }
  return { colptr, rowidx };
}

/** Draws the compact initial layers of `spec` (see the module comment). */
export function drawCompactInit(spec: DenseChainSpec, distribution: string, density: number, rng: Rng): CompactInit {
  const densities = compactDensities(spec, distribution, density);
  let baselineNonzero = 0;
  const layers = spec.layers.map((l, i): SparseMlpLayerSpec => {
    const size = l.inFeatures * l.outFeatures;
    baselineNonzero += size * densities[i];
    const positions = drawPositions(size, Math.round(size * densities[i]), rng);
    const { colptr, rowidx } = cscFromPositions(l.inFeatures, l.outFeatures, positions);
    const bound = 1 / Math.sqrt(l.inFeatures);
    // Values in CSC order (by output, then input); any fixed order of i.i.d. draws is the same distribution.
    const vals = new Float32Array(rowidx.length);
    for (let k = 0; k < vals.length; k++) vals[k] = (rng.next() * 2 - 1) * bound;
    const bias = l.bias ? Float32Array.from({ length: l.outFeatures }, () => (rng.next() * 2 - 1) * bound) : null;
    return {
      weightName: `${l.name}.weight`,
      biasName: l.bias ? `${l.name}.bias` : null,
      layer: sparseLayerFromCsc(l.inFeatures, l.outFeatures, colptr, rowidx, vals, { bias, relu: l.relu }),
      masked: true,
    };
  });
  return { layers, baselineNonzero, densities };
}
