/**
 * Summary statistics as the paper reports them (docs/algorithm.md#recipes notes, official `get_results_from_logs.py`):
 * mean, standard error `SE = std(ddof = 1) / √n`, and the 95 % interval `mean ± 1.96 · SE`.
 *
 * With fewer than two values the sample standard deviation (ddof = 1) is undefined, so are SE and the
 * interval: they are `null` (JSON `null`, rendered `—`), never `± 0`, which would claim a certainty a single
 * run cannot give.
 */
export interface Summary {
  readonly n: number;
  readonly mean: number;
  /** Sample standard deviation (ddof = 1); `null` when n < 2. */
  readonly std: number | null;
  /** Standard error of the mean, `std / √n`; `null` when n < 2. */
  readonly se: number | null;
  /** `[mean − 1.96·SE, mean + 1.96·SE]`; `null` when n < 2. */
  readonly ci95: readonly [number, number] | null;
}

/** Summarises `values` (non-finite values are dropped; an empty list gives mean NaN and n = 0). */
export function summarize(values: readonly number[]): Summary {
  const xs = values.filter((v) => Number.isFinite(v));
  const n = xs.length;
  if (n === 0) return { n: 0, mean: Number.NaN, std: null, se: null, ci95: null };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  if (n === 1) return { n, mean, std: null, se: null, ci95: null };
  const std = Math.sqrt(xs.reduce((acc, x) => acc + (x - mean) ** 2, 0) / (n - 1));
  const se = std / Math.sqrt(n);
  return { n, mean, std, se, ci95: [mean - 1.96 * se, mean + 1.96 * se] };
}

/** `value × scale` with `digits` decimals, or `—` for a missing or non-finite value. */
export function formatScaled(value: number | null | undefined, scale = 1, digits = 2): string {
  return typeof value === 'number' && Number.isFinite(value) ? (scale * value).toFixed(digits) : '—';
}

/** The interval of a summary as `[low, high]` (scaled), or `—` when it is undefined (n < 2). */
export function formatInterval(
  ci95: readonly [number, number] | null | undefined,
  scale = 1,
  digits = 2,
): string {
  return ci95 ? `[${formatScaled(ci95[0], scale, digits)}, ${formatScaled(ci95[1], scale, digits)}]` : '—';
}
