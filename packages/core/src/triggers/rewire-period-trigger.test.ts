import { describe, expect, it } from 'vitest';
import { silentLogger } from '../logger.js';
import { corePlugins } from '../plugins/builtin/core-module.js';
import { PluginRegistry } from '../plugins/registry.js';
import { DSR_REWIRE_PERIODS, RewirePeriodTrigger } from './rewire-period-trigger.js';

const at = (step: number, epoch: number) => ({ step, epoch, epochs: 200, stepsPerEpoch: 600 });

describe('RewirePeriodTrigger (DSR codebase schedule)', () => {
  it('fires after iteration j ≠ 0 with j mod P(epoch) = 0: steps 101, 201, … then every 200 from epoch 25', () => {
    const t = new RewirePeriodTrigger(DSR_REWIRE_PERIODS);
    expect([1, 100, 101, 102, 201].map((s) => t.afterStep(at(s, 0)))).toEqual([false, false, true, false, true]);
    expect(t.periodAt(24)).toBe(100);
    expect(t.periodAt(25)).toBe(200);
    expect(t.periodAt(80)).toBe(400);
    expect(t.periodAt(150)).toBe(800);
    // epoch 25 starts at step 15 000: j = 15 100 is a multiple of 100 but not of 200.
    expect(t.afterStep(at(15_101, 25))).toBe(false);
    expect(t.afterStep(at(15_201, 25))).toBe(true);
    expect(t.afterEpoch()).toBe(false);
    const stopped = new RewirePeriodTrigger(DSR_REWIRE_PERIODS, 10);
    expect(stopped.afterStep(at(6_001, 10))).toBe(false);
    expect(() => new RewirePeriodTrigger([{ epoch: 3, every: 10 }])).toThrow(expect.objectContaining({ code: 'E_OUT_OF_RANGE' }));
    expect(() => new RewirePeriodTrigger([{ epoch: 0, every: 0 }])).toThrow(expect.objectContaining({ code: 'E_OUT_OF_RANGE' }));
  });

  it('as a plugin: `every` scales every period, `endFraction` stops rewiring at whole epochs', () => {
    const registry = new PluginRegistry([corePlugins]);
    const run = { epochs: 200, stepsPerEpoch: 600, totalSteps: 120_000, density: 0.05, pruneRate: 0, lr: 0.1, momentum: 0.9, nesterov: true, l2: 5e-4, decayFrequency: 25_000 };
    const t = registry.create(registry.choose('mask-update-trigger', { id: 'rewire-period', options: { every: 50, endFraction: 0.5 } }), { run, logger: silentLogger }) as RewirePeriodTrigger;
    expect(t.schedule.map((s) => s.every)).toEqual([50, 100, 200, 400]);
    expect(t.stopEpoch).toBe(100);
  });
});
