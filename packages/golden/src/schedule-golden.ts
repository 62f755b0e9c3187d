import { CosineDecaySchedule, LinearDecaySchedule, StepLrSchedule } from '@sparse-learning/core';
import { MismatchLog, type GoldenResult } from './compare.js';
import { SCHEDULE_GOLDEN_SCHEMA, loadScheduleCase } from './schemas.js';

/**
 * Absolute tolerance for the prune-rate schedules: the closed forms agree with torch's recursions within
 * 8e-15 (cosine) and 2.5e-13 (linear) on the public cases (golden README §3).
 */
export const SCHEDULE_TOLERANCE = 1e-9;

/**
 * Runs one `schedule-golden@1` case against the core schedules: `cosine` → {@link CosineDecaySchedule},
 * `linear` → {@link LinearDecaySchedule} (within {@link SCHEDULE_TOLERANCE}), `step-lr` →
 * {@link StepLrSchedule} (bit-exact: torch multiplies repeatedly, and so does the port).
 */
export function runScheduleGolden(caseJson: unknown): GoldenResult {
  const c = loadScheduleCase(caseJson);
  const log = new MismatchLog();
  const config = c.config;
  let rateAt: (t: number) => number;
  let exact = false;
  if (config.kind === 'cosine') {
    const s = new CosineDecaySchedule({ initial: config.initial, totalSteps: config.tMax, etaMin: config.etaMin });
    rateAt = (t) => s.rateAt(t);
  } else if (config.kind === 'linear') {
    const s = new LinearDecaySchedule({ initial: config.initial, totalSteps: config.tMax });
    rateAt = (t) => s.rateAt(t);
  } else {
    const s = new StepLrSchedule({
      initial: config.initial,
      stepSize: config.stepSize,
      gamma: config.gamma,
      steppedBeforeEachBatch: config.steppedBeforeEachBatch,
    });
    rateAt = (t) => s.rateAt(t);
    exact = true;
  }
  c.points.forEach((point, i) => {
    const t = (point.step ?? point.batch) as number;
    const value = rateAt(t);
    const field = `points[${i}] (${point.step !== undefined ? 'step' : 'batch'} ${t})`;
    if (exact) log.exact(field, value, point.value);
    else log.close(field, value, point.value, SCHEDULE_TOLERANCE, 1);
  });
  return { schema: SCHEDULE_GOLDEN_SCHEMA, name: c.name, passed: log.items.length === 0, mismatches: log.items };
}
