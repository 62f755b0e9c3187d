import { describe, expect, it } from 'vitest';
import { INITIAL_CONTROLLER_STATE, updateController } from './controller.js';

describe('growth-deficit controller (docs/algorithm.md#the-mask-update)', () => {
  it('first update: 0.75·delta + mean([delta]) = 1.75·delta', () => {
    const next = updateController(INITIAL_CONTROLLER_STATE, 693.4, 692);
    expect(next.adjustments).toEqual([693.4 - 692]);
    expect(next.adjustedGrowth).toBeCloseTo(1.75 * (693.4 - 692), 12);
  });

  it('second update mixes the decayed state, the new delta and the mean of the whole history', () => {
    const first = updateController(INITIAL_CONTROLLER_STATE, 100, 90); // delta 10 → 17.5
    const second = updateController(first, 100, 104); // delta -4 → 0.25·17.5 + 0.75·(-4) + mean(10, -4)
    expect(first.adjustedGrowth).toBe(17.5);
    expect(second.adjustedGrowth).toBeCloseTo(4.375 - 3 + 3, 12);
    expect(second.adjustments).toEqual([10, -4]);
  });
});
