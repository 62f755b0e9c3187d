import { MaskUpdater, createRng, unknownIdError } from '@sparse-learning/core';
import type { GrowthStrategy, PruneStrategy, RedistributionStrategy } from '@sparse-learning/core';
import { MomentumGrowth } from '@sparse-learning/growth';
import { MagnitudePrune } from '@sparse-learning/prune';
import {
  MagnitudeRedistribution,
  MomentumRedistribution,
  NonzeroRedistribution,
  UniformRedistribution,
} from '@sparse-learning/redistribution';
import { MismatchLog, type GoldenResult } from './compare.js';
import { MASK_UPDATE_GOLDEN_SCHEMA, loadMaskUpdateCase } from './schemas.js';

/** Tolerances of the mask-update comparison (golden README §1 "How to compare"). */
export const MASK_UPDATE_TOLERANCES = Object.freeze({
  /** `stat`, `share`: the official mean is a float32 reduction. */
  statRelative: 1e-6,
  /** `regrowTarget`, `pruneRate`, controller values: plain float64 in the official code. */
  float64: 1e-9,
});

/** The redistribution strategy for an official `--redistribution` name (`none` = our `uniform`). */
export function goldenRedistribution(id: string): RedistributionStrategy {
  switch (id) {
    case 'momentum':
      return new MomentumRedistribution();
    case 'magnitude':
      return new MagnitudeRedistribution();
    case 'nonzero':
      return new NonzeroRedistribution();
    case 'none':
    case 'uniform':
      return new UniformRedistribution();
    default:
      throw unknownIdError('redistribution', id, ['momentum', 'magnitude', 'nonzero', 'none', 'uniform']);
  }
}

/** Strategies to use instead of the defaults (to prove another implementation against the same cases). */
export interface MaskUpdateGoldenOverrides {
  readonly prune?: PruneStrategy;
  readonly growth?: GrowthStrategy;
  readonly redistribution?: RedistributionStrategy;
}

/**
 * Runs one `mask-update-golden@1` case through the core {@link MaskUpdater} with `magnitude` prune, `momentum`
 * growth and the case's redistribution, and compares as the golden README says: masks, counts and index lists
 * exactly; weights exactly after float32 rounding; `stat`/`share` to 1e-6 relative; `regrowTarget`, `pruneRate`
 * and the controller to 1e-9. The arrays are fed in PyTorch layout: the update is a pure function of flat
 * arrays, so the layout does not change any result.
 */
export function runMaskUpdateGolden(caseJson: unknown, overrides: MaskUpdateGoldenOverrides = {}): GoldenResult {
  const c = loadMaskUpdateCase(caseJson);
  const log = new MismatchLog();
  if (c.config.prune !== 'magnitude' && !overrides.prune) log.items.push(`unsupported prune mode '${c.config.prune}'`);
  if (c.config.growth !== 'momentum' && !overrides.growth) log.items.push(`unsupported growth mode '${c.config.growth}'`);
  if (log.items.length > 0) return { schema: MASK_UPDATE_GOLDEN_SCHEMA, name: c.name, passed: false, mismatches: log.items };

  const updater = new MaskUpdater(
    overrides.prune ?? new MagnitudePrune(),
    overrides.redistribution ?? goldenRedistribution(c.config.redistribution),
    overrides.growth ?? new MomentumGrowth(),
  );
  const result = updater.update({
    layers: c.layers.map((l) => ({
      name: l.name,
      shape: l.shape,
      weight: Float32Array.from(l.weight),
      mask: Uint8Array.from(l.mask),
      momentum: Float32Array.from(l.momentum),
      gradient: null,
    })),
    pruneRate: c.config.pruneRate,
    baselineNonzero: c.config.baselineNonzero,
    controller: { adjustedGrowth: c.config.adjustedGrowth, adjustments: c.config.adjustments },
    step: 0,
    epoch: 0,
    rng: createRng(`golden/${c.name}`),
  });

  const t = MASK_UPDATE_TOLERANCES;
  c.expected.layers.forEach((e, i) => {
    const a = result.layers[i];
    const at = `layers[${i}] ${e.name}`;
    log.exact(`${at}.name`, a.name, e.name);
    log.exactArray(`${at}.mask`, a.mask, e.mask);
    log.float32Array(`${at}.weight`, a.weight, e.weight);
    log.close(`${at}.pruneRate`, a.pruneRate, e.pruneRate, t.float64);
    log.exact(`${at}.removed`, a.removed, e.removed);
    log.exact(`${at}.regrow`, a.regrow, e.regrow);
    log.exact(`${at}.grown`, a.grown, e.regrow);
    log.close(`${at}.regrowTarget`, a.regrowTarget, e.regrowTarget, t.float64);
    log.close(`${at}.stat`, a.stat, e.stat, t.statRelative, 0);
    log.close(`${at}.share`, a.share, e.share, t.statRelative, 0);
    log.exactArray(`${at}.prunedIndices`, a.prunedIndices, e.prunedIndices);
    log.exactArray(`${at}.grownIndices`, a.grownIndices, e.grownIndices);
  });
  log.exact('totalRemoved', result.totalRemoved, c.expected.totalRemoved);
  log.exact('totalNonzero', result.totalNonzero, c.expected.totalNonzero);
  log.close('adjustedGrowth', result.controller.adjustedGrowth, c.expected.adjustedGrowth, t.float64);
  log.exact('adjustments.length', result.controller.adjustments.length, c.expected.adjustments.length);
  c.expected.adjustments.forEach((e, i) => log.close(`adjustments[${i}]`, result.controller.adjustments[i] ?? Number.NaN, e, t.float64));
  return { schema: MASK_UPDATE_GOLDEN_SCHEMA, name: c.name, passed: log.items.length === 0, mismatches: log.items };
}
