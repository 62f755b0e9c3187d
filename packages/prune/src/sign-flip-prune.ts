import { inject, injectable, optional } from 'inversify';
import { SparseLearningError, TOKENS } from '@sparse-learning/core';
import type { LayerView, PruneRequest, PruneStrategy, StatefulStrategy, StrategyContext } from '@sparse-learning/core';

/** Registry id of {@link SignFlipPrune}. */
export const SIGN_FLIP_PRUNE_ID = 'sign-flip';

/** Options of {@link SignFlipPrune}. None today. */
export type SignFlipPruneOptions = Record<string, never>;

/** Serialisable state: the fixed sign (−1 or +1) of every position, per layer name. */
export interface SignFlipPruneState {
  readonly version: 1;
  readonly signs: Readonly<Record<string, Int8Array | readonly number[]>>;
}

/**
 * DeepR's pruning rule (Bellec et al. 2018; spec §6.2): every connection has a *fixed* sign; an active weight
 * whose current sign differs from it has crossed zero and becomes dormant.
 *
 * Fixed signs are drawn the first time a layer is seen: the sign of the weight for active non-zero weights,
 * a random ±1 otherwise (from a stream forked off `ctx.rng` per layer name, so the draw does not depend on the
 * layer order or on other consumers). A weight that is exactly 0 (e.g. just grown) has no sign and is never
 * pruned. `countPolicy: 'free'`: the number removed is whatever flipped; combine with the engine's
 * `regrowth: 'in-place'` to keep the count constant as DeepR does.
 *
 * The signs are state: {@link SignFlipPrune.getState} / {@link SignFlipPrune.setState} carry them through
 * checkpoints.
 */
@injectable()
export class SignFlipPrune implements PruneStrategy, StatefulStrategy {
  readonly id = SIGN_FLIP_PRUNE_ID;
  readonly countPolicy = 'free' as const;
  private signs = new Map<string, Int8Array>();

  constructor(@inject(TOKENS.PruneOptions) @optional() readonly options?: SignFlipPruneOptions) {}

  prune(layer: LayerView, _request: PruneRequest, ctx: StrategyContext): Uint8Array {
    const signs = this.signsOf(layer, ctx);
    const out = layer.mask.slice();
    for (let i = 0; i < layer.size; i++) {
      if (out[i] !== 1) continue;
      const w = layer.weight[i];
      if ((w > 0 && signs[i] < 0) || (w < 0 && signs[i] > 0)) out[i] = 0;
    }
    return out;
  }

  /** The fixed signs of a layer, drawing them at first sight (or when the layer's size changed). */
  private signsOf(layer: LayerView, ctx: StrategyContext): Int8Array {
    const known = this.signs.get(layer.name);
    if (known && known.length === layer.size) return known;
    const rng = ctx.rng.fork(`sign-flip:${layer.name}`);
    const signs = new Int8Array(layer.size);
    for (let i = 0; i < layer.size; i++) {
      const w = layer.weight[i];
      if (layer.mask[i] === 1 && w !== 0) signs[i] = w > 0 ? 1 : -1;
      else signs[i] = rng.next() < 0.5 ? -1 : 1;
    }
    this.signs.set(layer.name, signs);
    return signs;
  }

  getState(): SignFlipPruneState {
    const signs: Record<string, Int8Array> = {};
    for (const [name, values] of this.signs) signs[name] = values.slice();
    return { version: 1, signs };
  }

  setState(state: unknown): void {
    const s = state as Partial<SignFlipPruneState> | null;
    if (!s || s.version !== 1 || typeof s.signs !== 'object' || s.signs === null) {
      throw new SparseLearningError('E_CHECKPOINT_INVALID', 'sign-flip prune state must be { version: 1, signs: { [layer]: Int8Array | number[] } }');
    }
    const next = new Map<string, Int8Array>();
    for (const [name, values] of Object.entries(s.signs)) {
      const array = Int8Array.from(values as ArrayLike<number>);
      if (array.some((v) => v !== 1 && v !== -1)) {
        throw new SparseLearningError('E_CHECKPOINT_INVALID', `sign-flip prune state for layer '${name}' holds a sign other than -1/+1`, { layer: name });
      }
      next.set(name, array);
    }
    this.signs = next;
  }
}
