import { ADAM_OPTIMIZER_ID, AdamOptimizer } from '../../optim/adam-optimizer.js';
import { SGD_OPTIMIZER_ID, SgdOptimizer } from '../../optim/sgd-optimizer.js';
import { option } from '../options.js';
import { definePlugin } from '../plugin.js';

/** SGD with (Nesterov) momentum and L2 added to the gradient, the paper's optimizer (docs/algorithm.md#recipes). */
export const sgdOptimizerPlugin = definePlugin({
  kind: 'optimizer',
  id: SGD_OPTIMIZER_ID,
  summary: "SGD with the run's momentum, Nesterov and L2 (official)",
  options: {},
  create: (_options, { run }) =>
    new SgdOptimizer({
      learningRate: run.lr,
      momentum: run.momentum,
      nesterov: run.nesterov && run.momentum > 0,
      weightDecay: run.l2,
    }),
});

/** Adam with coupled L2 (PyTorch `Adam`, official `--optimizer adam`). */
export const adamOptimizerPlugin = definePlugin({
  kind: 'optimizer',
  id: ADAM_OPTIMIZER_ID,
  summary: "Adam with the run's L2 coupled into the gradient (official --optimizer adam)",
  options: {
    beta1: option.number(0.9, 'first-moment decay', { min: 0, lessThan: 1 }),
    beta2: option.number(0.999, 'second-moment decay', { min: 0, lessThan: 1 }),
    epsilon: option.number(1e-8, 'denominator guard', { greaterThan: 0 }),
  },
  create: ({ beta1, beta2, epsilon }, { run }) => new AdamOptimizer({ learningRate: run.lr, weightDecay: run.l2, beta1, beta2, epsilon }),
});
