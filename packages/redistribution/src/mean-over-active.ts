/**
 * Mean of `|values[i]|` over the active positions of `mask`; NaN when nothing is active (the official
 * `tensor[mask.bool()].mean()` of an empty selection). Summed in float64: the official float32 reduction
 * differs by ~1e-7 relative, which the golden cases tolerate (their integer results are insensitive to it).
 */
export function meanAbsOverActive(values: Float32Array, mask: Uint8Array): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] === 1) {
      sum += Math.abs(values[i]);
      count++;
    }
  }
  return count === 0 ? Number.NaN : sum / count;
}
