import type { ControllerState } from './types.js';

/** The controller before the first update. */
export const INITIAL_CONTROLLER_STATE: ControllerState = Object.freeze({ adjustedGrowth: 0, adjustments: [] });

/**
 * The growth-deficit controller (docs/algorithm.md#the-mask-update): records `delta = baseline − total` and returns
 * `adjustedGrowth = 0.25·adjustedGrowth + 0.75·delta + mean(all deltas so far)`, which the next update adds to
 * its regrowth budget. It corrects the drift of ceil/floor rounding, the 0.99 cap, stochastic growth and the
 * Bernoulli initialisation, so the total stays near the target.
 */
export function updateController(state: ControllerState, baselineNonzero: number, totalNonzero: number): ControllerState {
  const delta = baselineNonzero - totalNonzero;
  const adjustments = [...state.adjustments, delta];
  let sum = 0;
  for (const value of adjustments) sum += value;
  // numpy's mean uses pairwise summation; for the short histories here a plain sum is exact to ~1e-15.
  const mean = sum / adjustments.length;
  return { adjustedGrowth: 0.25 * state.adjustedGrowth + 0.75 * delta + mean, adjustments };
}
