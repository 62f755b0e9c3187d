import { describe, expect, it } from 'vitest';
import type { TrainingPosition } from '../contracts/mask-update-trigger.js';
import { isSparseLearningError } from '../errors.js';
import { EpochEndTrigger } from './epoch-end-trigger.js';
import { EveryKStepsTrigger } from './every-k-steps-trigger.js';

const at = (step: number, epoch = 0, epochs = 5, stepsPerEpoch = 10): TrainingPosition => ({
  step,
  epoch,
  epochs,
  stepsPerEpoch,
});

describe('EpochEndTrigger', () => {
  it('fires after every epoch except the last: E − 1 updates (docs/algorithm.md#when-masks-change)', () => {
    const trigger = new EpochEndTrigger();
    const fired = [1, 2, 3, 4, 5].filter((epoch) => trigger.afterEpoch(at(epoch * 10, epoch, 5)));
    expect(fired).toEqual([1, 2, 3, 4]);
    for (let step = 1; step <= 50; step++) expect(trigger.afterStep(at(step, Math.floor(step / 10)))).toBe(false);
  });
  it('never fires for a one-epoch run', () => {
    expect(new EpochEndTrigger().afterEpoch(at(10, 1, 1))).toBe(false);
  });
});

describe('EveryKStepsTrigger', () => {
  const fires = (trigger: EveryKStepsTrigger, upTo: number) =>
    Array.from({ length: upTo + 1 }, (_, s) => s).filter((s) => trigger.afterStep(at(s)));

  it('fires every k steps like the official steps % k == 0', () => {
    expect(fires(new EveryKStepsTrigger({ every: 20 }), 100)).toEqual([20, 40, 60, 80, 100]);
  });
  it('respects begin and an inclusive end (RigL)', () => {
    expect(fires(new EveryKStepsTrigger({ every: 10, begin: 15, end: 45 }), 100)).toEqual([15, 25, 35, 45]);
  });
  it('never fires at epoch ends', () => {
    expect(new EveryKStepsTrigger({ every: 1 }).afterEpoch()).toBe(false);
  });
  it('rejects bad bounds with E_OUT_OF_RANGE', () => {
    for (const bad of [{ every: 0 }, { every: 1.5 }, { every: 5, begin: -1 }, { every: 5, begin: 10, end: 5 }]) {
      let error: unknown;
      try {
        new EveryKStepsTrigger(bad);
      } catch (e) {
        error = e;
      }
      expect(isSparseLearningError(error, 'E_OUT_OF_RANGE')).toBe(true);
    }
  });
});
