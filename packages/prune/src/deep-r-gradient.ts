import * as tf from '@tensorflow/tfjs-core';
import { outOfRangeError, type GradientContext, type GradientTransform } from '@sparse-learning/core';
import { deepRMaskedTerm } from './deep-r-terms.js';

/** Registry id of {@link DeepRGradientTransform}. */
export const DEEP_R_GRADIENT_ID = 'deep-r-noise-l1';

/** One step of the temperature schedule: `value` from epoch `epoch` on. */
export interface TemperatureStep {
  readonly epoch: number;
  readonly value: number;
}

/** Options of {@link DeepRGradientTransform}. */
export interface DeepRGradientOptions {
  /** `η` of the noise standard deviation `sqrt(2ηT)`. */
  readonly eta: number;
  /** L1 strength α (`α·sign(w)` is added to the gradient of active weights). */
  readonly l1: number;
  /** Piecewise-constant temperature by completed epochs. */
  readonly temperature: readonly TemperatureStep[];
  /**
   * Zero the gradient of dormant weights (default false). The DSR codebase computes its layers as `mask ⊙ W`,
   * so a dormant weight's gradient is 0 and its momentum decays; the engine's dense gradients (the Sparse
   * Momentum framework) keep feeding it, and a regrown weight starts with that momentum.
   */
  readonly maskGradient?: boolean;
}

/** The temperature in force after `epoch` completed epochs (the last step whose `epoch` ≤ the argument). */
export function temperatureAt(schedule: readonly TemperatureStep[], epoch: number): number {
  const sorted = [...schedule].sort((a, b) => a.epoch - b.epoch);
  let value = sorted[0]?.value ?? 0;
  for (const step of sorted) if (step.epoch <= epoch) value = step.value;
  return value;
}

/**
 * DeepR's stochastic part (Bellec et al. 2018, §2; docs/algorithm.md#baselines, as the DSR codebase used for the paper's baselines
 * implements it): to the gradient of every *active* weight of every masked tensor add Gaussian noise of
 * standard deviation `sqrt(2·η·T)` and the L1 term `α·sign(w)`. Dormant (masked) positions keep their plain
 * dense gradient, which only moves momentum buffers (the weight is re-masked after the step).
 *
 * Deviations: DeepR's original update puts the noise on the parameter update, `θ ← θ − η∇E − ηα + sqrt(2ηT)ν`;
 * the DSR codebase (and we) add it to the gradient before the momentum-SGD step, so the update noise is
 * `lr·sqrt(2ηT)` shaped by momentum. Noise draws come from the run's seeded `noise` stream (`ctx.rng`), one
 * normal per active weight in tensor order, so runs are reproducible and resumable. The terms are computed in
 * one JavaScript pass that reproduces the element-wise kernels bit for bit ({@link deepRMaskedTerm}; issue 14).
 */
export class DeepRGradientTransform implements GradientTransform {
  readonly id = DEEP_R_GRADIENT_ID;
  readonly options: DeepRGradientOptions;

  constructor(options: DeepRGradientOptions) {
    if (!(options.eta > 0)) throw outOfRangeError('deepR.eta', options.eta, 'eta > 0');
    if (!(options.l1 >= 0)) throw outOfRangeError('deepR.l1', options.l1, 'l1 >= 0');
    if (options.temperature.length === 0) throw outOfRangeError('deepR.temperature', '[]', 'at least one { epoch, value }');
    this.options = options;
  }

  /** The noise standard deviation after `epoch` completed epochs. */
  noiseStd(epoch: number): number {
    return Math.sqrt(2 * this.options.eta * temperatureAt(this.options.temperature, epoch));
  }

  transform(gradients: Readonly<Record<string, tf.Tensor>>, ctx: GradientContext): Record<string, tf.Tensor> {
    const std = this.noiseStd(ctx.epoch);
    const out: Record<string, tf.Tensor> = { ...gradients };
    for (const [name, mask] of Object.entries(ctx.masks)) {
      const gradient = gradients[name];
      const variable = ctx.variables[name];
      if (!gradient || !variable) continue;
      const term = deepRMaskedTerm({ variable, mask, maskValues: ctx.maskValues?.[name], l1: this.options.l1, std, rng: ctx.rng });
      // Masked as the DSR codebase's `mask ⊙ W` layers differentiate (option maskGradient).
      const base = this.options.maskGradient ? tf.mul(gradient, mask) : gradient;
      if (term) out[name] = tf.add(base, term);
      else if (base !== gradient) out[name] = base;
    }
    return out;
  }
}
