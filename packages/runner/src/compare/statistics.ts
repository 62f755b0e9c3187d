/**
 * Summary statistics as the paper reports them (spec §4.3 notes, official `get_results_from_logs.py`):
 * mean, standard error `SE = std(ddof = 1) / √n`, and the 95 % interval `mean ± 1.96 · SE`.
 */
export interface Summary {
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation (ddof = 1); 0 for a single value. */
  readonly std: number;
  /** Standard error of the mean, `std / √n`; 0 for a single value. */
  readonly se: number;
  /** `[mean − 1.96·SE, mean + 1.96·SE]`. */
  readonly ci95: readonly [number, number];
}

/** Summarises `values` (NaN values are dropped; an empty list gives NaNs and n = 0). */
export function summarize(values: readonly number[]): Summary {
  const xs = values.filter((v) => Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return { n: 0, mean: Number.NaN, std: Number.NaN, se: Number.NaN, ci95: [Number.NaN, Number.NaN] };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? xs.reduce((acc, x) => acc + (x - mean) ** 2, 0) / (n - 1) : 0;
  const std = Math.sqrt(variance);
  const se = std / Math.sqrt(n);
  return { n, mean, std, se, ci95: [mean - 1.96 * se, mean + 1.96 * se] };
}
