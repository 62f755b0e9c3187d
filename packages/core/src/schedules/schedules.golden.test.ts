import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { LearningRateSchedule, PruneRateSchedule } from '../contracts/schedules.js';
import { CosineDecaySchedule } from './cosine-decay-schedule.js';
import { LinearDecaySchedule } from './linear-decay-schedule.js';
import { StepLrSchedule } from './step-lr-schedule.js';

const GOLDEN_DIR = path.resolve(__dirname, '../../../golden/cases/schedule');

interface SchedulePoint {
  readonly step?: number;
  readonly batch?: number;
  readonly value: number;
}
interface ScheduleCase {
  readonly name: string;
  readonly config: Record<string, unknown> & { kind: string };
  readonly points: SchedulePoint[];
}

function build(c: ScheduleCase): PruneRateSchedule | LearningRateSchedule {
  const cfg = c.config as Record<string, number> & { kind: string };
  switch (c.config.kind) {
    case 'cosine':
      return new CosineDecaySchedule({ initial: cfg.initial, totalSteps: cfg.tMax, etaMin: cfg.etaMin });
    case 'linear':
      return new LinearDecaySchedule({ initial: cfg.initial, totalSteps: cfg.tMax });
    case 'step-lr':
      return new StepLrSchedule({
        initial: cfg.initial,
        stepSize: cfg.stepSize,
        gamma: cfg.gamma,
        steppedBeforeEachBatch: Boolean(c.config.steppedBeforeEachBatch),
      });
    default:
      throw new Error(`unknown schedule kind ${c.config.kind}`);
  }
}

const present = existsSync(GOLDEN_DIR);
const files = present ? readdirSync(GOLDEN_DIR).filter((f) => f.endsWith('.json')).sort() : [];

describe.skipIf(!present)(`schedule golden cases (${GOLDEN_DIR})`, () => {
  it('finds the 5 public cases', () => {
    expect(files.length).toBe(5);
  });

  for (const file of files) {
    it(file, () => {
      const c = JSON.parse(readFileSync(path.join(GOLDEN_DIR, file), 'utf8')) as ScheduleCase;
      const schedule = build(c);
      for (const point of c.points) {
        const t = point.step ?? point.batch;
        if (t === undefined) throw new Error(`point without step/batch in ${file}`);
        const value = schedule.rateAt(t);
        // Closed form vs torch's recursion: 1e-9 (measured differences are below 2.5e-13).
        expect(Math.abs(value - point.value), `${file} at ${t}: ${value} vs ${point.value}`).toBeLessThan(1e-9);
        // StepLR is bit-exact thanks to repeated multiplication.
        if (c.config.kind === 'step-lr') expect(value).toBe(point.value);
      }
    });
  }
});

if (!present) {
  describe('schedule golden cases', () => {
    it.skip(`golden directory ${GOLDEN_DIR} is absent: golden schedule checks skipped`, () => {});
  });
}
