import { describe, expect, it } from 'vitest';
import { createRng, rngFromState } from './rng.js';

describe('Rng (xoshiro128**)', () => {
  it('is deterministic under a seed and differs across seeds', () => {
    const a = createRng(17);
    const b = createRng(17);
    const c = createRng(18);
    const xs = Array.from({ length: 5 }, () => a.nextUint32());
    expect(Array.from({ length: 5 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 5 }, () => c.nextUint32())).not.toEqual(xs);
  });

  it('draws uniform [0,1) with the right mean and variance', () => {
    const rng = createRng('uniform');
    let sum = 0;
    let sq = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const x = rng.next();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
      sq += x * x;
    }
    expect(sum / n).toBeCloseTo(0.5, 2);
    expect(sq / n - (sum / n) ** 2).toBeCloseTo(1 / 12, 2);
  });

  it('draws standard normals', () => {
    const rng = createRng('normal');
    let sum = 0;
    let sq = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const x = rng.normal();
      sum += x;
      sq += x * x;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.02);
    expect(sq / n).toBeCloseTo(1, 1);
  });

  it('forks independent streams that depend only on seed and label', () => {
    const a = createRng(1);
    a.nextUint32();
    const fromUsed = a.fork('growth').nextUint32();
    const fromFresh = createRng(1).fork('growth').nextUint32();
    expect(fromUsed).toBe(fromFresh);
    expect(createRng(1).fork('noise').nextUint32()).not.toBe(fromFresh);
  });

  it('restores its exact state, including the spare normal', () => {
    const rng = createRng(5);
    rng.normal();
    const state = JSON.parse(JSON.stringify(rng.getState()));
    const expected = [rng.normal(), rng.next(), rng.int(10)];
    const restored = rngFromState(state);
    expect([restored.normal(), restored.next(), restored.int(10)]).toEqual(expected);
  });

  it('shuffles into a permutation', () => {
    const arr = Int32Array.from({ length: 100 }, (_, i) => i);
    createRng(3).shuffle(arr);
    expect(Array.from(arr).sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(Array.from(arr.slice(0, 10))).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
