import { describe, expect, it } from 'vitest';
import { summarize } from './statistics.js';

describe('summarize (official get_results_from_logs.py)', () => {
  it('mean, SE = std(ddof=1)/sqrt(n) and the 95 % interval on a hand-worked case', () => {
    // values 1, 2, 3, 4: mean 2.5, sample variance (2.25+0.25+0.25+2.25)/3 = 5/3, std 1.2909944, SE 0.6454972
    const s = summarize([1, 2, 3, 4]);
    expect(s.n).toBe(4);
    expect(s.mean).toBe(2.5);
    expect(s.std).toBeCloseTo(Math.sqrt(5 / 3), 12);
    expect(s.se).toBeCloseTo(0.6454972243679028, 12);
    expect(s.ci95[0]).toBeCloseTo(2.5 - 1.96 * 0.6454972243679028, 12);
    expect(s.ci95[1]).toBeCloseTo(2.5 + 1.96 * 0.6454972243679028, 12);
  });

  it('a single value has SE 0; non-finite values are dropped; nothing gives NaN', () => {
    expect(summarize([0.0153])).toMatchObject({ n: 1, mean: 0.0153, se: 0, ci95: [0.0153, 0.0153] });
    expect(summarize([1, Number.NaN, 3]).mean).toBe(2);
    expect(Number.isNaN(summarize([]).mean)).toBe(true);
  });
});
