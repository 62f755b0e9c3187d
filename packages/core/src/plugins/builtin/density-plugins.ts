import { ERDOS_RENYI_DISTRIBUTION_ID, ErdosRenyiDistribution } from '../../density/erdos-renyi-distribution.js';
import { ERK_DISTRIBUTION_ID, ErkDistribution } from '../../density/erk-distribution.js';
import { UNIFORM_BERNOULLI_DISTRIBUTION_ID, UniformBernoulliDistribution } from '../../density/uniform-bernoulli-distribution.js';
import { UNIFORM_EXACT_DISTRIBUTION_ID, UniformExactDistribution } from '../../density/uniform-exact-distribution.js';
import { option } from '../options.js';
import { definePlugin } from '../plugin.js';

/** Uniform Bernoulli masks, the official initialisation (paper §3; docs/algorithm.md#initialisation). */
export const uniformBernoulliPlugin = definePlugin({
  kind: 'density-distribution',
  id: UNIFORM_BERNOULLI_DISTRIBUTION_ID,
  summary: 'every weight active with probability d, the same d in every layer (official)',
  options: {},
  create: () => new UniformBernoulliDistribution(),
});

/** Uniform density with exact per-layer counts. */
export const uniformExactPlugin = definePlugin({
  kind: 'density-distribution',
  id: UNIFORM_EXACT_DISTRIBUTION_ID,
  summary: 'exactly round(d·n) active weights per layer, chosen uniformly',
  options: {},
  create: () => new UniformExactDistribution(),
});

/** Erdős–Rényi per-layer densities (SET, Mocanu et al. 2018). */
export const erdosRenyiPlugin = definePlugin({
  kind: 'density-distribution',
  id: ERDOS_RENYI_DISTRIBUTION_ID,
  summary: 'per-layer density ∝ (n_in + n_out)/(n_in·n_out) at the same total (SET)',
  options: {},
  create: () => new ErdosRenyiDistribution(),
});

/** Erdős–Rényi-Kernel per-layer densities (RigL, Evci et al. 2020). */
export const erkPlugin = definePlugin({
  kind: 'density-distribution',
  id: ERK_DISTRIBUTION_ID,
  summary: 'per-layer density ∝ (Σ shape / Π shape)^powerScale, kernel dimensions included (RigL)',
  options: { powerScale: option.number(1, "RigL's erk_power_scale", { greaterThan: 0 }) },
  create: ({ powerScale }) => new ErkDistribution({ powerScale }),
});
