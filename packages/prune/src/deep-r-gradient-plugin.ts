import { definePlugin, option } from '@sparse-learning/core';
import { DEEP_R_GRADIENT_ID, DeepRGradientTransform, type TemperatureStep } from './deep-r-gradient.js';

/** The DSR codebase's CIFAR temperature schedule, which the paper's DeepR baselines used. */
export const DEEP_R_DEFAULT_TEMPERATURE: readonly TemperatureStep[] = [
  { epoch: 0, value: 1e-5 },
  { epoch: 25, value: 1e-8 },
  { epoch: 80, value: 1e-12 },
  { epoch: 140, value: 1e-15 },
];

function temperatureSchedule(value: unknown): TemperatureStep[] {
  if (!Array.isArray(value) || value.length === 0) throw new Error('needs at least one step');
  return value.map((step, i) => {
    const s = step as Partial<TemperatureStep> | null;
    if (!s || typeof s !== 'object' || Object.keys(s).some((k) => k !== 'epoch' && k !== 'value')) {
      throw new Error(`step ${i} must be an object { epoch, value }`);
    }
    if (typeof s.epoch !== 'number' || !Number.isInteger(s.epoch) || s.epoch < 0) throw new Error(`step ${i}: epoch must be an integer >= 0`);
    if (typeof s.value !== 'number' || !(s.value >= 0)) throw new Error(`step ${i}: value must be a temperature >= 0`);
    return { epoch: s.epoch, value: s.value };
  });
}

/**
 * DeepR's gradient noise and L1 term as a plugin (Bellec et al. 2018, §2; docs/algorithm.md#baselines). The
 * defaults are the DSR codebase's settings, with which the paper ran its DeepR baselines.
 */
export const deepRGradientPlugin = definePlugin({
  kind: 'gradient-transform',
  id: DEEP_R_GRADIENT_ID,
  summary: 'DeepR: Gaussian noise sqrt(2ηT) and L1 α·sign(w) on the gradients of active weights',
  options: {
    eta: option.number(0.01, 'η of the noise standard deviation sqrt(2ηT) (DSR --DeepR_eta)', { greaterThan: 0 }),
    l1: option.number(1e-5, 'L1 strength α (DSR --L1-loss-coeff)', { min: 0 }),
    temperature: option.json<readonly TemperatureStep[]>(
      DEEP_R_DEFAULT_TEMPERATURE,
      'temperature T by completed epochs, piecewise constant',
      '[{ "epoch": integer >= 0, "value": number >= 0 }, …]',
      temperatureSchedule,
    ),
    maskGradient: option.boolean(
      false,
      'zero the gradient of dormant weights, as the DSR codebase (mask ⊙ W layers) does; default: the dense gradient feeds their momentum',
    ),
  },
  create: (options) => new DeepRGradientTransform(options),
});
