import type { GrowthStrategy } from '../contracts/growth-strategy.js';
import type { PruneStrategy } from '../contracts/prune-strategy.js';
import type { RedistributionStrategy } from '../contracts/redistribution-strategy.js';
import { pluginContractError } from '../errors.js';

/** The count policies a prune strategy may declare (`PruneStrategy.countPolicy`). */
export const PRUNE_COUNT_POLICIES = Object.freeze(['exact', 'free'] as const);
/** The count policies a growth strategy may declare (`GrowthStrategy.countPolicy`). */
export const GROWTH_COUNT_POLICIES = Object.freeze(['exact', 'at-most', 'stochastic'] as const);

/**
 * How far a `'stochastic'` growth may land from the count it was asked for, in units of `sqrt(expected)`: the
 * official random growth (docs/algorithm.md#strategy-variants) enables each of `n` candidates with probability `expected / n`, a
 * binomial count whose standard deviation is at most `sqrt(expected)`; eight of them are never reached by a
 * correct strategy in practice (a Poisson tail below 1e-6 even at `expected = 1`), while a plugin that
 * ignores the request is caught at once.
 */
export const STOCHASTIC_TOLERANCE_SIGMAS = 8;

/**
 * The largest allowed `|grown − expected|` of a `'stochastic'` growth asked for `expected` positions
 * (`ceil(8·sqrt(expected))`, so a request of 0 must grow exactly 0). The count is also bounded by the
 * layer's free positions, which growth cannot exceed by construction.
 */
export function stochasticTolerance(expected: number): number {
  return Math.ceil(STOCHASTIC_TOLERANCE_SIGMAS * Math.sqrt(Math.max(0, expected)));
}

/**
 * Checks what the engine relies on before the first update (load time, not the first mask update hours later):
 * ids are non-empty strings and the declared count policies are among the known ones, so that every count
 * the strategies return is actually checked (an unknown or missing policy would otherwise skip the check).
 *
 * @throws `E_PLUGIN_CONTRACT` naming the plugin, the property, the value found and the valid choices.
 */
export function checkStrategyContracts(prune: PruneStrategy, redistribution: RedistributionStrategy, growth: GrowthStrategy): void {
  const parts: [string, { id?: unknown }, string][] = [
    ['prune', prune, 'prune'],
    ['redistribution', redistribution, 'statistic'],
    ['growth', growth, 'grow'],
  ];
  for (const [kind, strategy, hook] of parts) {
    const id = strategy?.id;
    if (typeof id !== 'string' || id === '') {
      throw pluginContractError({ plugin: String(id), hook: 'id' }, `a ${kind} strategy must have a non-empty string id`);
    }
    const fn = (strategy as unknown as Record<string, unknown>)[hook];
    if (typeof fn !== 'function') {
      throw pluginContractError({ plugin: id, hook }, `the ${kind} strategy has no '${hook}' method`);
    }
  }
  const policy = (site: string, value: unknown, valid: readonly string[]) => {
    if (typeof value !== 'string' || !valid.includes(value)) {
      throw pluginContractError(
        { plugin: site, hook: 'countPolicy' },
        `countPolicy ${value === undefined ? 'is missing' : `'${String(value)}' is not a count policy`}; valid count policies: ${valid.join(', ')}`,
      );
    }
  };
  policy(prune.id, prune.countPolicy, PRUNE_COUNT_POLICIES);
  policy(growth.id, growth.countPolicy, GROWTH_COUNT_POLICIES);
}
