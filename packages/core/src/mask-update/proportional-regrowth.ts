import type { Rng } from '../rng.js';

/** Outcome of {@link planProportionalRegrowth}. */
export interface ProportionalRegrowthPlan {
  /** Whole regrowth counts per layer; they sum to the budget unless the layers are too full. */
  readonly counts: number[];
  /** Passes of the placement loop. */
  readonly passes: number;
  /** False when the layers could not take the whole budget (capacity exhausted or the pass limit reached). */
  readonly complete: boolean;
}

/**
 * Round half to even, as `numpy.round` does (DSR's counts go through `np.round`): `0.5 → 0`, `1.5 → 2`,
 * `2.5 → 2`. Values here are never negative.
 */
export function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * The DSR codebase's reallocation of the pruned budget across layers (`--rewire-scaling`; Mostafa & Wang 2019,
 * Algorithm 1; docs/algorithm.md#baselines), ported from its training loop. Exactly `budget` weights (the number just pruned) are
 * regrown. Each pass shares what is still to place by the normalised `shares`, rounds half to even, adds the
 * rounding discrepancy to one layer drawn uniformly from `rng` (clamped at 0), and lets every layer take what
 * fits in its remaining `capacity` (DSR's `grow_random` grows fewer when a layer has no room); passes repeat
 * until the budget is placed.
 *
 * Deviations, none of which changes a pass in which every layer has room (the case in every run we made):
 * (1) a layer without room drops out of the sharing (shares renormalised over the others, the discrepancy
 * drawn among them). DSR keeps offering it its share, which it cannot take, pass after pass, so the others
 * end up with the remainder in proportion to their shares — the same split up to rounding — and loops forever
 * when no layer has room; here the loop stops then (or after `maxPasses`) with `complete: false`.
 * (2) When a negative discrepancy lands on a layer that wanted less than its size, DSR's clamp at 0 makes the
 * pass ask for more than remains and DSR grows more than it pruned (it logs a "discrepancy between pruned and
 * grown"); here the takes stop at the budget (layers in order), so the total count stays exact.
 *
 * @param shares normalised redistribution shares (sum 1, or all 0), one per layer
 * @param budget whole number of weights to regrow (DSR: the total pruned)
 * @param capacity per layer, how many positions growth may enable (DSR: zero positions except the just-pruned)
 */
export function planProportionalRegrowth(
  shares: readonly number[],
  budget: number,
  capacity: readonly number[],
  rng: Rng,
  maxPasses = 1000,
): ProportionalRegrowthPlan {
  const L = shares.length;
  const counts = new Array<number>(L).fill(0);
  let placed = 0;
  let passes = 0;
  while (placed < budget && passes < maxPasses) {
    const open = shares.map((_, i) => i).filter((i) => capacity[i] - counts[i] > 0);
    if (open.length === 0) break;
    passes++;
    const remaining = budget - placed;
    const openShare = open.reduce((acc, i) => acc + shares[i], 0);
    const wanted = new Array<number>(L).fill(0);
    for (const i of open) wanted[i] = openShare > 0 ? roundHalfEven((shares[i] / openShare) * remaining) : 0;
    const discrepancy = remaining - wanted.reduce((a, b) => a + b, 0);
    if (discrepancy !== 0) {
      const r = open.length === L ? rng.int(L) : open[rng.int(open.length)];
      wanted[r] = Math.max(0, wanted[r] + discrepancy);
    }
    for (let i = 0; i < L; i++) {
      const take = Math.min(wanted[i], capacity[i] - counts[i], budget - placed);
      if (take <= 0) continue;
      counts[i] += take;
      placed += take;
    }
  }
  return { counts, passes, complete: placed === budget };
}
