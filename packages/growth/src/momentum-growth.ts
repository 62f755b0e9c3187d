import { SparseLearningError, absolute, addHighestInactive } from '@sparse-learning/core';
import type { GrowthRequest, GrowthStrategy, LayerRequirement, LayerView, StrategyContext } from '@sparse-learning/core';

/** Registry id of {@link MomentumGrowth}. */
export const MOMENTUM_GROWTH_ID = 'momentum';

/** Options of {@link MomentumGrowth}. */
export interface MomentumGrowthOptions {
  /**
   * `true`: the official HEAD behaviour of issue #22 — top-k of `|B| ⊙ (M == 0)` over *all* positions, which
   * can pick already-active positions (score 0) when fewer than `count` zero positions have non-zero momentum,
   * and then grows fewer than asked (`countPolicy: 'at-most'`). Default `false`: top-k among zero positions
   * only, as the spec recommends (`'exact'`). Both give identical masks whenever at least `count` zero
   * positions have non-zero momentum (the case in the golden cases and in LeNet-300-100 training). They differ
   * when a layer's free positions have exactly zero momentum, e.g. LeNet-5-Caffe's conv1 at 1–5 % (filters whose
   * ReLU outputs are all zero get zero gradients): the default then grows conv1 to 495 of 500 where the
   * official code grows 490–492 (results/README.md, "LeNet-5-Caffe at 1 % and 2 % starts at chance — under the official code too").
   */
  readonly legacyTopK?: boolean;
}

/**
 * Momentum growth, the Sparse Momentum default (docs/algorithm.md#the-mask-update, docs/algorithm.md#strategy-variants, official `momentum_growth`): enables the
 * `count` positions with the largest `|momentum|` among the positions that are 0 after pruning (just-pruned
 * ones included; a weight pruned and regrown keeps its old value because the engine applies the mask once).
 * Ties are broken by lower index. Throws `E_ENGINE_STATE` if the optimizer has no momentum yet.
 */
export class MomentumGrowth implements GrowthStrategy {
  readonly id = MOMENTUM_GROWTH_ID;
  readonly requires: readonly LayerRequirement[] = ['momentum'];
  private readonly legacyTopK: boolean;

  constructor(readonly options?: MomentumGrowthOptions) {
    this.legacyTopK = options?.legacyTopK ?? false;
  }

  /** `'exact'`, or `'at-most'` with {@link MomentumGrowthOptions.legacyTopK}. */
  get countPolicy(): 'exact' | 'at-most' {
    return this.legacyTopK ? 'at-most' : 'exact';
  }

  grow(layer: LayerView, request: GrowthRequest, _ctx: StrategyContext): Uint8Array {
    if (layer.momentum === null) {
      throw new SparseLearningError(
        'E_ENGINE_STATE',
        `momentum growth needs the optimizer's momentum of layer '${layer.name}', but it is null (no optimizer step yet?)`,
        { layer: layer.name },
      );
    }
    const scores = absolute(layer.momentum);
    if (!this.legacyTopK) return addHighestInactive(layer.mask, scores, request.count);
    return legacyTopK(layer.mask, scores, request.count);
  }
}

/** Official issue-#22 top-k: rank `score ⊙ (mask == 0)` over every position and switch the first `k` on. */
export function legacyTopK(mask: Uint8Array, scores: Float32Array, k: number): Uint8Array {
  const masked = new Float32Array(scores.length);
  for (let i = 0; i < scores.length; i++) masked[i] = mask[i] === 0 ? scores[i] : 0;
  // Ranking over all positions = "add highest inactive" on an all-zero mask.
  const chosen = addHighestInactive(new Uint8Array(mask.length), masked, k);
  const out = mask.slice();
  for (let i = 0; i < out.length; i++) out[i] |= chosen[i];
  return out;
}
