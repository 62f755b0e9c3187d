import { inject, injectable, optional } from 'inversify';
import type { GrowthStrategy } from '../contracts/growth-strategy.js';
import type { LayerRequirement, LayerView, StrategyContext } from '../contracts/layer-view.js';
import type { PruneStrategy } from '../contracts/prune-strategy.js';
import type { RedistributionStrategy } from '../contracts/redistribution-strategy.js';
import { SparseLearningError, callPlugin, pluginContractError, type PluginSite } from '../errors.js';
import type { LayerUpdateReport } from '../events.js';
import { silentLogger } from '../logger.js';
import { TOKENS } from '../tokens.js';
import { countActive } from '../util/selection.js';
import { checkStrategyContracts, stochasticTolerance } from './contract-checks.js';
import { updateController } from './controller.js';
import { layerView } from './lazy-fields.js';
import { applyMaskUpdate, countGrown, countPruned } from './mask-passes.js';
import { planProportionalRegrowth } from './proportional-regrowth.js';
import { adjustPruneRates, planRegrowth } from './redistribute.js';
import {
  DEFAULT_MASK_UPDATER_OPTIONS,
  type MaskUpdateInput,
  type MaskUpdateLayerInput,
  type MaskUpdateLayerResult,
  type MaskUpdateResult,
  type MaskUpdaterOptions,
} from './types.js';

/**
 * Checks that a hook returned a Uint8Array of the right length. Its values (0 or 1) are checked by the caller's
 * own pass over the mask ({@link countPruned}, {@link countGrown}): one pass over the layer instead of two (issue 9).
 */
function checkMask(site: PluginSite, result: unknown, size: number): Uint8Array {
  if (!(result instanceof Uint8Array)) {
    throw pluginContractError(site, `must return a Uint8Array mask, got ${Object.prototype.toString.call(result)}`);
  }
  if (result.length !== size) {
    throw pluginContractError(site, `returned a mask of length ${result.length}, expected ${size} (the layer's size)`);
  }
  return result;
}

/**
 * The prune → redistribute → regrow cycle of Sparse Momentum (paper §3, Algorithm 1; docs/algorithm.md#the-mask-update), with
 * pluggable prune, redistribution and growth strategies. It works on flat typed arrays and is a pure function
 * of its input (plus the seeded RNG): the trainer reads weights, masks and momentum out of TensorFlow.js,
 * calls {@link MaskUpdater.update}, and writes the new masks and weights back.
 *
 * Order, to the letter of the official `truncate_weights()`:
 * (a) statistics `s_i` and counts before pruning, shares `v_i = s_i / Σ s` (NaN skipped);
 * (b) `p_i` = `min(z_i/n_i, p)` for layers > 80 % dense whose share exceeds `1/L`;
 * (c) prune `r_i = ceil(p_i · nz_i)` per layer (only the mask changes);
 * (d) budget `G = removed + adjustedGrowth`, targets `ceil(v_i · G)`, 0.99 cap with even overflow, `floor`;
 * (e) grow among the zero positions of the pruned mask;
 * (f–g) the new mask is applied once, after growth: a weight pruned and regrown keeps its value,
 *       a newly enabled position starts at 0; momentum buffers are untouched;
 * (h) the growth-deficit controller.
 *
 * Variants: `regrowth: 'in-place'` (SET, DeepR), `'proportional'` (DSR), and a redistribution strategy with
 * `afterPrune` whose shares come from the pruned masks (DSR's surviving counts).
 *
 * Guarded quirks (see the golden README): a negative budget `G` is clamped to zero targets (option
 * `negativeBudget`), where the official slice `idx[:-k]` would switch on almost a whole layer; a layer with no
 * active weight (NaN statistic) gets share 0 instead of crashing; statistics that are zero for every layer
 * (where the official code divides 0 by 0 and stops) are `E_ZERO_REDISTRIBUTION`, or with option
 * `zeroStatistics: 'in-place'` every layer regrows what it lost (a warning) — never a silent loss of weights.
 *
 * Strategy contracts are checked when the updater is built (`checkStrategyContracts`): a missing or unknown
 * `countPolicy` is `E_PLUGIN_CONTRACT` before the first step.
 */
@injectable()
export class MaskUpdater {
  readonly options: MaskUpdaterOptions;
  /** The per-layer inputs the strategies asked for (the trainer supplies momentum/gradients accordingly). */
  readonly requires: ReadonlySet<LayerRequirement>;

  constructor(
    @inject(TOKENS.PruneStrategy) readonly prune: PruneStrategy,
    @inject(TOKENS.RedistributionStrategy) readonly redistribution: RedistributionStrategy,
    @inject(TOKENS.GrowthStrategy) readonly growth: GrowthStrategy,
    @inject(TOKENS.MaskUpdaterOptions) @optional() options?: Partial<MaskUpdaterOptions>,
  ) {
    // Load time: a strategy with an unknown or missing count policy would have its counts go unchecked.
    checkStrategyContracts(prune, redistribution, growth);
    this.options = { ...DEFAULT_MASK_UPDATER_OPTIONS, ...options };
    this.requires = new Set([...(prune.requires ?? []), ...(redistribution.requires ?? []), ...(growth.requires ?? [])]);
  }

  /**
   * The statistics of a redistribution strategy with `afterPrune` (DSR: surviving weights), measured on the
   * pruned masks, and their shares. Same contract checks as before pruning.
   */
  private measureSurvivors(
    layers: readonly MaskUpdateLayerInput[],
    views: readonly LayerView[],
    prunedMasks: readonly Uint8Array[],
    removed: readonly number[],
    ctx: StrategyContext,
    step: number,
  ): { stats: number[]; shares: number[] } {
    const stats = views.map((view, i) => {
      const pruned = layerView(layers[i], i, prunedMasks[i], view.activeCount - removed[i]);
      const site = { plugin: this.redistribution.id, hook: 'statistic', layer: view.name, step };
      const s = callPlugin(site, () => this.redistribution.statistic(pruned, ctx));
      if (typeof s !== 'number' || s < 0 || s === Number.POSITIVE_INFINITY || (Number.isNaN(s) && pruned.activeCount > 0)) {
        throw pluginContractError(site, `returned ${String(s)} after pruning; expected a finite number >= 0 (NaN only for a layer without active weights)`);
      }
      return s;
    });
    const total = stats.reduce((acc, s) => (Number.isNaN(s) ? acc : acc + s), 0);
    return { stats, shares: stats.map((s) => (Number.isNaN(s) || total === 0 ? 0 : s / total)) };
  }

  /** Runs one cycle. Inputs are not mutated. */
  update(input: MaskUpdateInput): MaskUpdateResult {
    const { layers, pruneRate, baselineNonzero, step, epoch } = input;
    const logger = input.logger ?? silentLogger;
    const warnings: string[] = [];
    const L = layers.length;
    if (L === 0) throw new SparseLearningError('E_NO_PRUNABLE_TENSORS', 'mask update called with no prunable tensors');
    for (const layer of layers) {
      const size = layer.shape.reduce((a, b) => a * b, 1);
      if (layer.weight.length !== size || layer.mask.length !== size) {
        throw new SparseLearningError(
          'E_SHAPE_MISMATCH',
          `layer '${layer.name}': weight (${layer.weight.length}) and mask (${layer.mask.length}) must both have ${size} elements (shape [${layer.shape.join(', ')}])`,
          { layer: layer.name },
        );
      }
    }
    const ctx: StrategyContext = {
      step,
      epoch,
      pruneRate,
      baselineNonzero,
      layerCount: L,
      rng: input.rng,
      logger,
    };
    const views: LayerView[] = layers.map((layer, index) => layerView(layer, index, layer.mask, countActive(layer.mask)));

    // (a) statistics before pruning (a strategy with `afterPrune` is measured again after pruning, below).
    let stats = views.map((view) =>
      callPlugin({ plugin: this.redistribution.id, hook: 'statistic', layer: view.name, step }, () =>
        this.redistribution.statistic(view, ctx),
      ),
    );
    stats.forEach((s, i) => {
      if (typeof s !== 'number' || s < 0 || s === Number.POSITIVE_INFINITY) {
        throw pluginContractError(
          { plugin: this.redistribution.id, hook: 'statistic', layer: views[i].name, step },
          `returned ${String(s)}; expected a finite number >= 0 (or NaN for a layer without active weights)`,
        );
      }
      if (Number.isNaN(s) && views[i].activeCount > 0) {
        throw pluginContractError(
          { plugin: this.redistribution.id, hook: 'statistic', layer: views[i].name, step },
          `returned NaN for a layer with ${views[i].activeCount} active weights`,
        );
      }
    });
    const total = stats.reduce((acc, s) => (Number.isNaN(s) ? acc : acc + s), 0);
    let shares = stats.map((s) => (Number.isNaN(s) || total === 0 ? 0 : s / total));

    // (b) prune-rate adjustment for nearly dense, growing layers.
    const zeros = views.map((v) => v.size - v.activeCount);
    const layerRates = adjustPruneRates(
      views.map((v, i) => ({ size: v.size, zeros: zeros[i], share: shares[i] })),
      pruneRate,
      this.options.denseSparsityThreshold,
    );

    // (c) prune: only masks change.
    const requested = views.map((v, i) => Math.ceil(layerRates[i] * v.activeCount));
    if (this.prune.prepare) {
      const prepare = this.prune.prepare.bind(this.prune);
      callPlugin({ plugin: this.prune.id, hook: 'prepare', step }, () => prepare(views, ctx));
    }
    // Weights removed per layer, counted while checking the pruned masks (one pass over the layer, issue 9).
    const removed: number[] = [];
    const prunedMasks = views.map((view, i) => {
      const site = { plugin: this.prune.id, hook: 'prune', layer: view.name, step };
      const mask = checkMask(
        site,
        callPlugin(site, () => this.prune.prune(view, { count: requested[i], pruneRate: layerRates[i] }, ctx)),
        view.size,
      );
      const gone = countPruned(site, mask, view.mask);
      if (this.prune.countPolicy === 'exact' && requested[i] > 0 && gone !== Math.min(requested[i], view.activeCount)) {
        throw pluginContractError(site, `removed ${gone} weights; countPolicy 'exact' requires ${requested[i]}`);
      }
      removed.push(gone);
      return mask;
    });
    const totalRemoved = removed.reduce((a, b) => a + b, 0);
    if (this.redistribution.afterPrune) {
      ({ stats, shares } = this.measureSurvivors(layers, views, prunedMasks, removed, ctx, step));
    }

    // (d) regrowth targets.
    let targets: number[];
    let passes = 0;
    if (this.options.regrowth === 'in-place') {
      targets = removed.slice();
    } else if (this.options.regrowth === 'proportional') {
      // Just-pruned positions are not candidates (DSR's grow_random), so a layer can take its zeros before pruning.
      const plan = planProportionalRegrowth(shares, totalRemoved, zeros, input.rng, this.options.maxRedistributionPasses);
      targets = plan.counts;
      passes = plan.passes;
      if (!plan.complete) {
        warnings.push(`layers too full: regrew ${targets.reduce((a, b) => a + b, 0)} of ${totalRemoved} pruned weights`);
        logger.warn('proportional regrowth could not place every pruned weight', { step, passes });
      }
    } else {
      let budget = totalRemoved + input.controller.adjustedGrowth;
      if (budget < 0) {
        if (this.options.negativeBudget === 'error') {
          throw new SparseLearningError(
            'E_NEGATIVE_GROWTH_BUDGET',
            `regrowth budget G = ${budget} is negative (removed ${totalRemoved}, controller ${input.controller.adjustedGrowth}); the official code would switch on almost a whole layer here`,
            { budget, totalRemoved, adjustedGrowth: input.controller.adjustedGrowth },
          );
        }
        warnings.push(`negative regrowth budget ${budget} clamped to 0`);
        logger.warn('negative regrowth budget clamped to 0', { budget, step });
        budget = 0;
      }
      const noShares = shares.every((share) => share === 0);
      if (noShares && budget > 0) {
        // Every share is 0 (the official code divides 0 by 0 here and stops with a ValueError): sharing the
        // budget by the statistic would regrow nothing and silently lose `budget` weights.
        const problem = `redistribution '${this.redistribution.id}' gave every layer a zero statistic at step ${step}, so the regrowth budget of ${budget} weights cannot be shared`;
        if (this.options.zeroStatistics === 'error') {
          throw new SparseLearningError(
            'E_ZERO_REDISTRIBUTION',
            `${problem}; use another --redistribution (e.g. uniform), or the engine option zeroStatistics: 'in-place' to let every layer regrow what it lost`,
            { redistribution: this.redistribution.id, step, budget, stats },
          );
        }
        warnings.push(`${problem}: every layer regrows what it lost (zeroStatistics 'in-place')`);
        logger.warn(`${problem}; every layer regrows what it lost`, { step, budget });
      }
      const plan = planRegrowth(
        views.map((v, i) => ({ share: shares[i], freeSlots: zeros[i] + requested[i] })),
        budget,
        this.options.capFraction,
        this.options.maxRedistributionPasses,
      );
      targets = noShares && budget > 0 ? removed.slice() : plan.targets;
      passes = plan.passes;
      if (!plan.converged) {
        warnings.push('Error resolving the residual! Layers are too full!');
        logger.warn('redistribution did not converge: layers are too full', { step, passes });
      }
    }
    const regrow = targets.map((target, i) => {
      let value = target;
      if (this.prune.global) {
        const expectedRemoved = baselineNonzero * layerRates[i];
        value = expectedRemoved === 0 ? 0 : (totalRemoved / expectedRemoved) * target;
      }
      return Math.max(0, Math.floor(value));
    });

    // (e) growth on the pruned masks.
    const newMasks = views.map((view, i) => {
      const site = { plugin: this.growth.id, hook: 'grow', layer: view.name, step };
      const pruned = prunedMasks[i];
      const growthView = layerView(layers[i], i, pruned, view.activeCount - removed[i], view.mask);
      const mask = checkMask(site, callPlugin(site, () => this.growth.grow(growthView, { count: regrow[i] }, ctx)), view.size);
      const grown = countGrown(site, mask, pruned);
      const available = view.size - growthView.activeCount;
      const expected = Math.min(regrow[i], available);
      if (this.growth.countPolicy === 'exact' && grown !== expected) {
        throw pluginContractError(site, `enabled ${grown} positions; countPolicy 'exact' requires ${expected}`);
      }
      if (this.growth.countPolicy === 'at-most' && grown > expected) {
        throw pluginContractError(site, `enabled ${grown} positions; countPolicy 'at-most' allows ${expected}`);
      }
      if (this.growth.countPolicy === 'stochastic' && Math.abs(grown - expected) > stochasticTolerance(expected)) {
        throw pluginContractError(
          site,
          `enabled ${grown} positions; countPolicy 'stochastic' allows ${expected} ± ${stochasticTolerance(expected)} (ceil(8·sqrt(${expected})), ${available} free positions)`,
        );
      }
      return mask;
    });

    // (f, g) apply the new mask once, after growth.
    const layerResults: MaskUpdateLayerResult[] = views.map((view, i) => {
      const mask = newMasks[i];
      const { weight, active, prunedIndices, grownIndices } = applyMaskUpdate(view.mask, prunedMasks[i], mask, view.weight);
      return {
        name: view.name,
        mask,
        weight,
        activeBefore: view.activeCount,
        activeAfter: active,
        pruneRate: layerRates[i],
        removed: removed[i],
        regrowTarget: targets[i],
        regrow: regrow[i],
        grown: grownIndices.length,
        stat: stats[i],
        share: shares[i],
        prunedIndices,
        grownIndices,
      };
    });

    // (h) controller.
    const totalNonzero = layerResults.reduce((acc, r) => acc + r.activeAfter, 0);
    const controller = this.options.controller && this.options.regrowth === 'redistribute'
      ? updateController(input.controller, baselineNonzero, totalNonzero)
      : input.controller;

    const reports: LayerUpdateReport[] = layerResults.map((r, i) => ({
      name: r.name,
      size: views[i].size,
      activeBefore: r.activeBefore,
      activeAfter: r.activeAfter,
      density: r.activeAfter / views[i].size,
      stat: r.stat,
      share: r.share,
      pruneRate: r.pruneRate,
      removed: r.removed,
      regrowTarget: r.regrowTarget,
      regrown: r.grown,
    }));
    return {
      layers: layerResults,
      totalRemoved,
      totalNonzero,
      controller,
      passes,
      warnings,
      event: {
        type: 'mask-update',
        step,
        epoch,
        pruneRate,
        baselineNonzero,
        totalRemoved,
        totalRegrown: layerResults.reduce((acc, r) => acc + r.grown, 0),
        totalNonzero,
        adjustedGrowth: controller.adjustedGrowth,
        redistributionPasses: passes,
        layers: reports,
        warnings,
      },
    };
  }
}
