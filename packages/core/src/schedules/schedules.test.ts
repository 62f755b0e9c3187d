import { describe, expect, it } from 'vitest';
import { isSparseLearningError } from '../errors.js';
import { ConstantLrSchedule } from './constant-lr-schedule.js';
import { ConstantSchedule } from './constant-schedule.js';
import { CosineDecaySchedule } from './cosine-decay-schedule.js';
import { LinearDecaySchedule } from './linear-decay-schedule.js';
import { StepLrSchedule } from './step-lr-schedule.js';

function expectOutOfRange(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    expect(isSparseLearningError(error, 'E_OUT_OF_RANGE')).toBe(true);
    return;
  }
  throw new Error('expected E_OUT_OF_RANGE');
}

describe('CosineDecaySchedule', () => {
  it('matches the docs/algorithm.md#the-prune-rate-schedule CIFAR example (250 epochs × N batches, p0 = 0.5)', () => {
    const n = 100;
    const s = new CosineDecaySchedule({ initial: 0.5, totalSteps: 250 * n });
    expect(s.rateAt(0)).toBe(0.5);
    expect(s.rateAt(125 * n)).toBeCloseTo(0.2525, 12);
    expect(s.rateAt(250 * n)).toBeCloseTo(0.005, 15);
    expect(s.rateAt(249 * n)).toBeCloseTo(0.00502, 5);
  });
  it('defaults etaMin to 0.005 and rejects bad options', () => {
    expect(new CosineDecaySchedule({ initial: 0.5, totalSteps: 10 }).etaMin).toBe(0.005);
    expectOutOfRange(() => new CosineDecaySchedule({ initial: 1.5, totalSteps: 10 }));
    expectOutOfRange(() => new CosineDecaySchedule({ initial: 0.5, totalSteps: 0 }));
    expectOutOfRange(() => new CosineDecaySchedule({ initial: 0.5, totalSteps: 10, etaMin: 0.6 }));
    expectOutOfRange(() => new CosineDecaySchedule({ initial: 0.5, totalSteps: 10 }).rateAt(-1));
    expectOutOfRange(() => new CosineDecaySchedule({ initial: 0.5, totalSteps: 10 }).rateAt(1.5));
  });
});

describe('LinearDecaySchedule', () => {
  it('decays p0 to 0 and clamps at 0 afterwards', () => {
    const s = new LinearDecaySchedule({ initial: 0.4, totalSteps: 8 });
    expect(s.rateAt(0)).toBe(0.4);
    expect(s.rateAt(2)).toBeCloseTo(0.3, 15);
    expect(s.rateAt(8)).toBe(0);
    expect(s.rateAt(20)).toBe(0);
  });
});

describe('ConstantSchedule / ConstantLrSchedule', () => {
  it('return their rate at every step', () => {
    expect(new ConstantSchedule({ rate: 0.3 }).rateAt(12345)).toBe(0.3);
    expect(new ConstantLrSchedule({ rate: 0.01 }).rateAt(0)).toBe(0.01);
    expectOutOfRange(() => new ConstantSchedule({ rate: -0.1 }));
    expectOutOfRange(() => new ConstantLrSchedule({ rate: 0 }));
  });
});

describe('StepLrSchedule', () => {
  it('is stepped before each batch: batch b uses lr0·γ^floor((b+1)/stepSize)', () => {
    const s = new StepLrSchedule({ initial: 0.1, stepSize: 4, gamma: 0.5 });
    expect([0, 1, 2, 3, 4, 6, 7, 11].map((b) => s.rateAt(b))).toEqual([0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.0125]);
  });
  it('can be stepped after each batch instead', () => {
    const s = new StepLrSchedule({ initial: 0.1, stepSize: 4, gamma: 0.5, steppedBeforeEachBatch: false });
    expect([3, 4].map((b) => s.rateAt(b))).toEqual([0.1, 0.05]);
  });
  it('multiplies repeatedly like torch (not Math.pow)', () => {
    const s = new StepLrSchedule({ initial: 0.1, stepSize: 1, gamma: 0.1 });
    expect(s.rateAt(0)).toBe(0.010000000000000002);
    expect(s.rateAt(1)).toBe(0.0010000000000000002);
  });
  it('rejects bad options', () => {
    expectOutOfRange(() => new StepLrSchedule({ initial: 0.1, stepSize: 0 }));
    expectOutOfRange(() => new StepLrSchedule({ initial: 0.1, stepSize: 10, gamma: 2 }));
    expectOutOfRange(() => new StepLrSchedule({ initial: -1, stepSize: 10 }));
  });
});
