import type { ConformanceScenario } from './fixtures.js';

/** Options shared by the conformance suites. */
export interface ConformanceOptions {
  /** Layers to exercise (default {@link DEFAULT_SCENARIOS}). */
  readonly scenarios?: readonly ConformanceScenario[];
  /** Seed of the synthetic data and of `ctx.rng` (default `'conformance'`). */
  readonly seed?: string;
  /** Seeds averaged by the stochastic-count check of growth strategies (default 64). */
  readonly stochasticSeeds?: number;
  /**
   * Allowed distance of the mean grown count from the request, in standard errors of a binomial count
   * (default 4; the seeds are fixed, so the check is deterministic).
   */
  readonly stochasticSigmas?: number;
  /** Skip the full engine update (for strategies that need a special engine configuration). */
  readonly skipEngine?: boolean;
}
