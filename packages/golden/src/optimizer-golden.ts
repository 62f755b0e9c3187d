import * as tf from '@tensorflow/tfjs-core';
import { SgdOptimizer } from '@sparse-learning/core';
import { MismatchLog, type GoldenResult } from './compare.js';
import { SGD_GOLDEN_SCHEMA, loadSgdCase } from './schemas.js';

/** Absolute tolerance of the SGD comparison (golden README §2: float32 vs float64 recursion ≤ 6.3e-8). */
export const SGD_TOLERANCE = 1e-6;

/**
 * Runs one `sgd-golden@1` case through the core {@link SgdOptimizer}: per step the given gradient is applied
 * (and, for masked cases, `W ← W ⊙ mask` afterwards, as `Masking.step` does); weights and the momentum buffer
 * are compared to the torch values within {@link SGD_TOLERANCE}. Needs a TensorFlow.js backend (call
 * `ensureTfBackend()` first); every tensor it creates is disposed.
 */
export function runSgdGolden(caseJson: unknown): GoldenResult {
  const c = loadSgdCase(caseJson);
  const log = new MismatchLog();
  if (c.config.dampening !== 0) {
    return { schema: SGD_GOLDEN_SCHEMA, name: c.name, passed: false, mismatches: [`unsupported dampening ${c.config.dampening}`] };
  }
  const optimizer = new SgdOptimizer({
    learningRate: c.config.lr,
    momentum: c.config.momentum,
    nesterov: c.config.nesterov,
    weightDecay: c.config.weightDecay,
  });
  const shape = [...c.shape];
  const initial = tf.tensor(c.initialWeight as number[], shape, 'float32');
  const variable = tf.variable(initial, true, `golden/${c.name}`);
  initial.dispose();
  const mask = c.mask ? tf.tensor(c.mask as number[], shape, 'float32') : null;
  try {
    c.steps.forEach((step, k) => {
      const grad = tf.tensor(step.grad as number[], shape, 'float32');
      try {
        optimizer.applyGradients({ w: grad }, { w: variable });
      } finally {
        grad.dispose();
      }
      if (mask) tf.tidy(() => variable.assign(tf.mul(variable, mask)));
      log.closeArray(`steps[${k}].weight`, variable.dataSync(), step.weight, SGD_TOLERANCE);
      const buffer = optimizer.momentumOf('w');
      if (!buffer) {
        log.items.push(`steps[${k}].momentumBuffer: the optimizer has no momentum buffer`);
      } else {
        log.closeArray(`steps[${k}].momentumBuffer`, buffer.dataSync(), step.momentumBuffer, SGD_TOLERANCE);
        buffer.dispose();
      }
    });
  } finally {
    optimizer.dispose();
    variable.dispose();
    mask?.dispose();
  }
  return { schema: SGD_GOLDEN_SCHEMA, name: c.name, passed: log.items.length === 0, mismatches: log.items };
}
