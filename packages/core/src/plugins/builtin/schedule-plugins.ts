import { CONSTANT_LR_SCHEDULE_ID, ConstantLrSchedule } from '../../schedules/constant-lr-schedule.js';
import { CONSTANT_SCHEDULE_ID, ConstantSchedule } from '../../schedules/constant-schedule.js';
import { COSINE_DECAY_SCHEDULE_ID, CosineDecaySchedule } from '../../schedules/cosine-decay-schedule.js';
import { LINEAR_DECAY_SCHEDULE_ID, LinearDecaySchedule } from '../../schedules/linear-decay-schedule.js';
import { STEP_LR_SCHEDULE_ID, StepLrSchedule } from '../../schedules/step-lr-schedule.js';
import { option } from '../options.js';
import { definePlugin } from '../plugin.js';

/**
 * Cosine decay of the prune rate from `p0` (the run's `pruneRate`) to `etaMin`, stepped per mini-batch over
 * `endFraction · T_max` steps (paper §3; docs/algorithm.md#the-prune-rate-schedule). RigL ends its decay at 75 %
 * of training with `etaMin = 0`.
 */
export const cosineDecayPlugin = definePlugin({
  kind: 'prune-rate-schedule',
  id: COSINE_DECAY_SCHEDULE_ID,
  summary: 'cosine decay of the prune rate to etaMin (official, paper §3)',
  options: {
    etaMin: option.number(undefined, 'floor reached at the end (default min(0.005, pruneRate), as the official code)', { min: 0, max: 1 }),
    endFraction: option.number(1, 'fraction of the run over which the rate decays (RigL: 0.75)', { greaterThan: 0, max: 1 }),
  },
  create: ({ etaMin, endFraction }, { run }) =>
    new CosineDecaySchedule({
      initial: run.pruneRate,
      totalSteps: Math.max(1, Math.floor(endFraction * run.totalSteps)),
      etaMin: etaMin ?? Math.min(0.005, run.pruneRate),
    }),
});

/** Linear decay of the prune rate from `p0` to 0 over the run. */
export const linearDecayPlugin = definePlugin({
  kind: 'prune-rate-schedule',
  id: LINEAR_DECAY_SCHEDULE_ID,
  summary: 'linear decay of the prune rate to 0 over the run',
  options: {},
  create: (_options, { run }) => new LinearDecaySchedule({ initial: run.pruneRate, totalSteps: Math.max(1, run.totalSteps) }),
});

/** A fixed prune rate (SET's ζ; 0 for dense and static runs). */
export const constantPruneRatePlugin = definePlugin({
  kind: 'prune-rate-schedule',
  id: CONSTANT_SCHEDULE_ID,
  summary: 'a fixed prune rate (SET ζ)',
  options: { rate: option.number(undefined, "the rate (default: the run's pruneRate)", { min: 0, max: 1 }) },
  create: ({ rate }, { run }) => new ConstantSchedule({ rate: rate ?? run.pruneRate }),
});

/** Step decay of the learning rate, the paper's recipe (docs/algorithm.md#recipes). */
export const stepLrPlugin = definePlugin({
  kind: 'learning-rate-schedule',
  id: STEP_LR_SCHEDULE_ID,
  summary: 'LR × gamma every stepSize mini-batches, stepped before each batch (official StepLR)',
  options: {
    gamma: option.number(0.1, 'decay factor per period', { greaterThan: 0, max: 1 }),
    stepSize: option.integer(undefined, "decay period in mini-batches (default: the run's decayFrequency)", { min: 1 }),
  },
  create: ({ gamma, stepSize }, { run }) =>
    new StepLrSchedule({ initial: run.lr, stepSize: stepSize ?? run.decayFrequency, gamma, steppedBeforeEachBatch: true }),
});

/** A fixed learning rate. */
export const constantLrPlugin = definePlugin({
  kind: 'learning-rate-schedule',
  id: CONSTANT_LR_SCHEDULE_ID,
  summary: 'a fixed learning rate (the run’s lr)',
  options: {},
  create: (_options, { run }) => new ConstantLrSchedule({ rate: run.lr }),
});
