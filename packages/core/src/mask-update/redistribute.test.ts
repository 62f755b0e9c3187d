import { describe, expect, it } from 'vitest';
import { adjustPruneRates, planRegrowth } from './redistribute.js';

/** The three test vectors of docs/algorithm.md#the-mask-update (computed there with a literal port of the official logic). */
interface Vector {
  readonly name: string;
  readonly layers: ReadonlyArray<{ n: number; nz: number; s: number }>;
  readonly p: number;
  readonly pi: number[];
  readonly removed: number[];
  readonly regrow: number[];
  readonly finalNz: number[];
}

const vectors: Vector[] = [
  {
    name: 'A: a dense small layer is protected and capped; its overflow is split equally',
    layers: [
      { n: 1000, nz: 950, s: 5.0 },
      { n: 10000, nz: 500, s: 1.0 },
      { n: 100000, nz: 5000, s: 0.5 },
    ],
    p: 0.5,
    pi: [0.05, 0.5, 0.5],
    removed: [48, 250, 2500],
    regrow: [97, 1458, 1243],
    finalNz: [999, 1708, 3743],
  },
  {
    name: 'B: equal statistics, ceil makes the total 2802',
    layers: [
      { n: 1000, nz: 100, s: 1 },
      { n: 10000, nz: 500, s: 1 },
      { n: 100000, nz: 5000, s: 1 },
    ],
    p: 0.5,
    pi: [0.5, 0.5, 0.5],
    removed: [50, 250, 2500],
    regrow: [934, 934, 934],
    finalNz: [984, 1184, 3434],
  },
  {
    name: 'C: two growing layers, one dense enough to be adjusted',
    layers: [
      { n: 1000, nz: 900, s: 8 },
      { n: 2000, nz: 1000, s: 8 },
      { n: 100000, nz: 5000, s: 0.5 },
    ],
    p: 0.5,
    pi: [0.1, 0.5, 0.5],
    removed: [90, 500, 2500],
    regrow: [188, 1485, 1418],
    finalNz: [998, 1985, 3918],
  },
];

describe('docs/algorithm.md#the-mask-update test vectors (b)–(d)', () => {
  for (const v of vectors) {
    it(v.name, () => {
      const total = v.layers.reduce((acc, l) => acc + l.s, 0);
      const shares = v.layers.map((l) => l.s / total);
      const zeros = v.layers.map((l) => l.n - l.nz);
      const pi = adjustPruneRates(
        v.layers.map((l, i) => ({ size: l.n, zeros: zeros[i], share: shares[i] })),
        v.p,
      );
      expect(pi.map((x) => Number(x.toFixed(12)))).toEqual(v.pi);
      const removed = v.layers.map((l, i) => Math.ceil(pi[i] * l.nz));
      expect(removed).toEqual(v.removed);
      const budget = removed.reduce((a, b) => a + b, 0);
      const plan = planRegrowth(
        v.layers.map((_, i) => ({ share: shares[i], freeSlots: zeros[i] + removed[i] })),
        budget,
      );
      const regrow = plan.targets.map(Math.floor);
      expect(regrow).toEqual(v.regrow);
      expect(v.layers.map((l, i) => l.nz - removed[i] + regrow[i])).toEqual(v.finalNz);
      expect(plan.converged).toBe(true);
    });
  }

  it('A: the capped layer sits at 0.99 × its free slots (97.02)', () => {
    const plan = planRegrowth(
      [
        { share: 5 / 6.5, freeSlots: 50 + 48 },
        { share: 1 / 6.5, freeSlots: 9500 + 250 },
        { share: 0.5 / 6.5, freeSlots: 95000 + 2500 },
      ],
      2798,
    );
    expect(plan.targets[0]).toBeCloseTo(97.02, 10);
    // Even spreading: the two uncapped layers received the same absolute overflow.
    const first = [Math.ceil((1 / 6.5) * 2798), Math.ceil((0.5 / 6.5) * 2798)];
    expect(plan.targets[1] - first[0]).toBeCloseTo(plan.targets[2] - first[1], 9);
    expect(plan.passes).toBeGreaterThan(2);
  });

  it('a layer share at exactly 1/L is not adjusted (strict inequality)', () => {
    const rates = adjustPruneRates(
      [
        { size: 100, zeros: 5, share: 0.5 },
        { size: 100, zeros: 90, share: 0.5 },
      ],
      0.5,
    );
    expect(rates).toEqual([0.5, 0.5]);
  });

  it('a loop that cannot place its budget stops at the pass limit and reports it', () => {
    const plan = planRegrowth([{ share: 1, freeSlots: 0 }], 10, 0.99, 50);
    expect(plan.converged).toBe(false);
    expect(plan.passes).toBe(50);
    expect(plan.targets).toEqual([0]);
  });
});
