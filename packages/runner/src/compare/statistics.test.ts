import { describe, expect, it } from 'vitest';
import { formatInterval, formatScaled, summarize } from './statistics.js';

describe('summarize (official get_results_from_logs.py)', () => {
  it('mean, SE = std(ddof=1)/sqrt(n) and the 95 % interval on a hand-worked case', () => {
    // values 1, 2, 3, 4: mean 2.5, sample variance (2.25+0.25+0.25+2.25)/3 = 5/3, std 1.2909944, SE 0.6454972
    const s = summarize([1, 2, 3, 4]);
    expect(s.n).toBe(4);
    expect(s.mean).toBe(2.5);
    expect(s.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(s.se).toBeCloseTo(0.6454972243679028, 12);
    expect(s.ci95![0]).toBeCloseTo(2.5 - 1.96 * 0.6454972243679028, 12);
    expect(s.ci95![1]).toBeCloseTo(2.5 + 1.96 * 0.6454972243679028, 12);
  });

  it('two values: SE = |a − b| / 2 (std = |a − b|/√2, divided by √2)', () => {
    const s = summarize([0.02, 0.03]);
    expect(s.se).toBeCloseTo(0.005, 15);
    expect(s.ci95).toEqual([s.mean - 1.96 * s.se!, s.mean + 1.96 * s.se!]);
  });

  it('a single value has no standard deviation, SE or interval (null, not 0); non-finite values are dropped', () => {
    expect(summarize([0.0153])).toEqual({ n: 1, mean: 0.0153, std: null, se: null, ci95: null });
    expect(summarize([Number.NaN, 0.0153])).toEqual({ n: 1, mean: 0.0153, std: null, se: null, ci95: null });
    expect(summarize([1, Number.NaN, 3]).mean).toBe(2);
    const empty = summarize([]);
    expect(empty.n).toBe(0);
    expect(Number.isNaN(empty.mean)).toBe(true);
    expect(empty.se).toBeNull();
    // JSON keeps the distinction (null), where NaN would also have become null but 0 would have stayed 0.
    expect(JSON.parse(JSON.stringify(summarize([0.5])))).toEqual({ n: 1, mean: 0.5, std: null, se: null, ci95: null });
  });

  it('formats a missing SE or interval as a dash', () => {
    expect(formatScaled(0.01234, 100)).toBe('1.23');
    expect(formatScaled(null, 100)).toBe('—');
    expect(formatScaled(Number.NaN)).toBe('—');
    expect(formatInterval([0.0152, 0.0348], 100)).toBe('[1.52, 3.48]');
    expect(formatInterval(null, 100)).toBe('—');
  });
});
