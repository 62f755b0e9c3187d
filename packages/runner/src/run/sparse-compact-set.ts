/**
 * SET's mask update on compact layers (issue 9): the same cycle the `MaskUpdater` runs for the `set` preset
 * (docs/algorithm.md#baselines: SET-rule prune of ζ·nnz per layer, no redistribution, regrowth in place at
 * uniformly random positions that were inactive before the update, new weights and momentum 0), computed on
 * the CSC arrays without any dense `[in, out]` array, so that it runs for models whose dense form does not
 * fit in memory. Cost O(nnz log nnz) per layer.
 *
 * Equal to the dense-view update in what it removes (the same SET rule: exact zeros first, then ⌈r/2⌉
 * smallest positive and ⌊r/2⌋ largest negative, ties by flat position), in the counts, the prune-rate
 * adjustment of nearly dense layers and the report; the regrown positions follow the same distribution
 * (uniform over the candidates, just-pruned positions only when the others run out) from other draws of the
 * `mask-update` stream (53-bit positions instead of the dense path's scan), so not the same positions.
 */
import { SparseLearningError, adjustPruneRates, type LayerUpdateReport, type MaskUpdateEvent, type Rng } from '@sparse-learning/core';
import { sparseLayerFromCsc, type CompactMaskUpdate, type SparseDenseLayer } from '@sparse-learning/backend-native';
import { uniform53 } from './sparse-compact-init.js';

/** `[keep per entry, removed count]` of the SET rule on one layer's values (see the module comment). */
export function setRulePrune(layer: SparseDenseLayer, count: number): { keep: Uint8Array; removed: number } {
  const nnz = layer.colptr[layer.out];
  const keep = new Uint8Array(nnz).fill(1);
  const r = Math.min(count, nnz);
  if (r <= 0) {
    // r = 0 keeps the active weights that are not exactly zero (the SET prune's `mask ∧ (w ≠ 0)`).
    let removed = 0;
    for (let k = 0; k < nnz; k++) if (layer.vals[k] === 0) (keep[k] = 0), removed++;
    return { keep, removed };
  }
  // Flat position of every CSC entry, for ties (the dense path orders by position).
  const position = (k: number, o: number) => layer.rowidx[k] * layer.out + o;
  const pos: number[] = [];
  const neg: number[] = [];
  const zero: number[] = [];
  const flat = new Float64Array(nnz);
  for (let o = 0; o < layer.out; o++) {
    for (let k = layer.colptr[o]; k < layer.colptr[o + 1]; k++) {
      flat[k] = position(k, o);
      const w = layer.vals[k];
      if (w > 0) pos.push(k);
      else if (w < 0) neg.push(k);
      else zero.push(k);
    }
  }
  const takeZero = Math.min(r, zero.length);
  const rest = r - takeZero;
  let takePos = Math.min(Math.ceil(rest / 2), pos.length);
  const takeNeg = Math.min(rest - takePos, neg.length);
  takePos = Math.min(rest - takeNeg, pos.length);
  const absOf = (k: number) => {
    const w = layer.vals[k];
    return Number.isNaN(w) ? Number.POSITIVE_INFINITY : Math.abs(w);
  };
  for (const [pool, take] of [
    [pos, takePos],
    [neg, takeNeg],
    [zero, takeZero],
  ] as const) {
    if (take === 0) continue;
    const sorted = take === pool.length ? pool : [...pool].sort((a, b) => absOf(a) - absOf(b) || flat[a] - flat[b]);
    for (let j = 0; j < take; j++) keep[sorted[j]] = 0;
  }
  return { keep, removed: r };
}

/** Is input `i` active in output `o` of `layer` (binary search in the column)? */
function isActive(layer: SparseDenseLayer, o: number, i: number): boolean {
  let lo = layer.colptr[o];
  let hi = layer.colptr[o + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = layer.rowidx[mid];
    if (v === i) return true;
    if (v < i) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/**
 * `count` uniformly random flat positions among the positions inactive in `layer` (before the update), the
 * rest (when those are too few) uniformly among the just-pruned entries (CSC slots `pruned`).
 */
function growPositions(layer: SparseDenseLayer, count: number, pruned: readonly number[], rng: Rng): Map<number, number[]> {
  const size = layer.in * layer.out;
  const nnz = layer.colptr[layer.out];
  const candidates = size - nnz;
  const fromCandidates = Math.min(count, candidates);
  const grown = new Map<number, number[]>();
  const add = (o: number, i: number) => (grown.get(o) ?? grown.set(o, []).get(o)!).push(i);
  if (fromCandidates > 0) {
    if (fromCandidates * 4 <= candidates && candidates * 4 >= size) {
      // Rejection sampling: the candidates are most of the layer.
      const taken = new Set<number>();
      while (taken.size < fromCandidates) {
        const p = Math.floor(uniform53(rng) * size);
        if (taken.has(p)) continue;
        const o = p % layer.out;
        const i = (p - o) / layer.out;
        if (isActive(layer, o, i)) continue;
        taken.add(p);
        add(o, i);
      }
    } else {
      // A nearly full layer (its free positions are few enough to list): partial Fisher–Yates over them.
      const free: number[] = [];
      for (let o = 0; o < layer.out; o++) {
        let k = layer.colptr[o];
        for (let i = 0; i < layer.in; i++) {
          if (k < layer.colptr[o + 1] && layer.rowidx[k] === i) k++;
          else free.push(i * layer.out + o);
        }
      }
      for (let j = 0; j < fromCandidates; j++) {
        const pick = j + Math.floor(uniform53(rng) * (free.length - j));
        const p = free[pick];
        free[pick] = free[j];
        free[j] = p;
        add(p % layer.out, (p - (p % layer.out)) / layer.out);
      }
    }
  }
  const fromPruned = Math.min(count - fromCandidates, pruned.length);
  const slots = [...pruned];
  for (let j = 0; j < fromPruned; j++) {
    const pick = j + Math.floor(uniform53(rng) * (slots.length - j));
    const k = slots[pick];
    slots[pick] = slots[j];
    slots[j] = k;
    add(outputOf(layer, k), layer.rowidx[k]);
  }
  return grown;
}

/** The output (column) of CSC slot `k`. */
function outputOf(layer: SparseDenseLayer, k: number): number {
  let lo = 0;
  let hi = layer.out - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (layer.colptr[mid] <= k) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The layer after pruning (`keep`) and growth (`grown`: inputs per output, value and momentum 0). */
function rebuild(layer: SparseDenseLayer, keep: Uint8Array, grown: Map<number, number[]>): SparseDenseLayer {
  const colptr = new Int32Array(layer.out + 1);
  for (let o = 0; o < layer.out; o++) {
    let n = grown.get(o)?.length ?? 0;
    for (let k = layer.colptr[o]; k < layer.colptr[o + 1]; k++) n += keep[k];
    colptr[o + 1] = colptr[o] + n;
  }
  const total = colptr[layer.out];
  const rowidx = new Int32Array(total);
  const vals = new Float32Array(total);
  const mom = new Float32Array(total);
  for (let o = 0; o < layer.out; o++) {
    const extra = (grown.get(o) ?? []).sort((a, b) => a - b);
    let at = colptr[o];
    let g = 0;
    for (let k = layer.colptr[o]; k <= layer.colptr[o + 1]; k++) {
      const i = k < layer.colptr[o + 1] ? layer.rowidx[k] : Number.POSITIVE_INFINITY;
      // Grown inputs before this entry's input (a just-pruned slot regrown equals its own input: kept after it).
      while (g < extra.length && extra[g] <= i && !(extra[g] === i && keep[k])) {
        rowidx[at] = extra[g++];
        at++;
      }
      if (k < layer.colptr[o + 1] && keep[k]) {
        rowidx[at] = i;
        vals[at] = layer.vals[k];
        mom[at] = layer.mom[k];
        at++;
      }
    }
  }
  return sparseLayerFromCsc(layer.in, layer.out, colptr, rowidx, vals, { mom, bias: layer.bias, biasMom: layer.biasMom, relu: layer.relu });
}

/** SET's mask update on compact layers (see the module comment); `denseSparsityThreshold` is the updater's option. */
export class CompactSetUpdate implements CompactMaskUpdate {
  constructor(private readonly denseSparsityThreshold = 0.2) {}

  update(args: Parameters<CompactMaskUpdate['update']>[0]): ReturnType<CompactMaskUpdate['update']> {
    const { layers, pruneRate, baselineNonzero } = args;
    if (!(baselineNonzero > 0)) throw new SparseLearningError('E_ENGINE_STATE', `compact SET update with baselineNonzero ${baselineNonzero}`);
    const sizes = layers.map((s) => s.layer.in * s.layer.out);
    // The uniform ("none") statistic n_i / baselineNonzero and its shares, as the MaskUpdater computes them.
    const stats = sizes.map((n) => n / baselineNonzero);
    const totalStat = stats.reduce((a, b) => a + b, 0);
    const shares = stats.map((s) => s / totalStat);
    const nnz = layers.map((s) => s.layer.colptr[s.layer.out]);
    const rates = adjustPruneRates(
      sizes.map((size, i) => ({ size, zeros: size - nnz[i], share: shares[i] })),
      pruneRate,
      this.denseSparsityThreshold,
    );
    const reports: LayerUpdateReport[] = [];
    const next = layers.map((spec, i) => {
      const layer = spec.layer;
      const requested = Math.ceil(rates[i] * nnz[i]);
      const { keep, removed } = setRulePrune(layer, requested);
      const pruned: number[] = [];
      for (let k = 0; k < keep.length; k++) if (!keep[k]) pruned.push(k);
      const grown = growPositions(layer, removed, pruned, args.rng);
      let regrown = 0;
      for (const list of grown.values()) regrown += list.length;
      const after = rebuild(layer, keep, grown);
      const active = after.colptr[after.out];
      reports.push({
        name: spec.weightName,
        size: sizes[i],
        activeBefore: nnz[i],
        activeAfter: active,
        density: active / sizes[i],
        stat: stats[i],
        share: shares[i],
        pruneRate: rates[i],
        removed,
        regrowTarget: removed,
        regrown,
      });
      return after;
    });
    const totalNonzero = reports.reduce((a, r) => a + r.activeAfter, 0);
    const event: MaskUpdateEvent = {
      type: 'mask-update',
      step: args.step,
      epoch: args.epoch,
      pruneRate,
      baselineNonzero,
      totalRemoved: reports.reduce((a, r) => a + r.removed, 0),
      totalRegrown: reports.reduce((a, r) => a + r.regrown, 0),
      totalNonzero,
      adjustedGrowth: 0,
      redistributionPasses: 0,
      layers: reports,
      warnings: [],
    };
    return { layers: next, event };
  }
}
