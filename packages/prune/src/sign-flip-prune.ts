import { SparseLearningError, maskWords, unknownIdError } from '@sparse-learning/core';
import type { InitLayer, LayerView, PruneRequest, PruneStrategy, Rng, StatefulStrategy, StrategyContext } from '@sparse-learning/core';

/** Registry id of {@link SignFlipPrune}. */
export const SIGN_FLIP_PRUNE_ID = 'sign-flip';

/**
 * Where a connection's sign comes from: `'fixed'` (Bellec et al. 2018, §2: drawn once for every position; a
 * regrown connection keeps it) or `'first-move'` (the DSR codebase's `prune_sign_change`, with which the
 * paper's DeepR values were run: the sign a weight had at the previous mask update; a regrown connection
 * starts at 0 without a sign and takes the sign of its first move).
 */
export type SignSource = 'fixed' | 'first-move';

/** The values of {@link SignSource}, for option checks. */
export const SIGN_SOURCES: readonly SignSource[] = ['fixed', 'first-move'];

/** Options of {@link SignFlipPrune}. */
export interface SignFlipPruneOptions {
  /** Where signs come from (default `'fixed'`). */
  readonly signs?: SignSource;
}

/**
 * Serialisable state: the sign of every position, per layer name: −1 or +1; with `signs: 'first-move'` also
 * 0 (dormant, or regrown and not yet moved).
 */
export interface SignFlipPruneState {
  readonly version: 1;
  readonly signs: Readonly<Record<string, Int8Array | readonly number[]>>;
}

/**
 * DeepR's pruning rule (Bellec et al. 2018, §2; docs/algorithm.md#baselines): every connection has a *fixed* sign; an active weight
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
export class SignFlipPrune implements PruneStrategy, StatefulStrategy {
  readonly id = SIGN_FLIP_PRUNE_ID;
  readonly countPolicy = 'free' as const;
  private signs = new Map<string, Int8Array>();
  /** Where signs come from. */
  readonly source: SignSource;

  constructor(readonly options?: SignFlipPruneOptions) {
    const source = options?.signs ?? 'fixed';
    if (!SIGN_SOURCES.includes(source)) throw unknownIdError('sign-flip sign source', String(source), SIGN_SOURCES);
    this.source = source;
  }

  prune(layer: LayerView, _request: PruneRequest, ctx: StrategyContext): Uint8Array {
    const signs = this.signsOf(layer, ctx);
    if (this.source === 'first-move') return this.pruneFirstMove(layer, signs);
    const weight = layer.weight;
    const out = layer.mask.slice();
    // Only active positions can flip: zero words of the mask (most of a sparse layer) are skipped four bytes at
    // a time (issue 14: this runs after every step).
    const words = maskWords(out);
    const whole = words ? Math.min(words.length, layer.size >>> 2) : 0;
    for (let k = 0; k < whole; k++) {
      if (words![k] === 0) continue;
      for (let i = k << 2; i < (k << 2) + 4; i++) {
        if (out[i] !== 1) continue;
        const w = weight[i];
        if ((w > 0 && signs[i] < 0) || (w < 0 && signs[i] > 0)) out[i] = 0;
      }
    }
    for (let i = whole << 2; i < layer.size; i++) {
      if (out[i] !== 1) continue;
      const w = weight[i];
      if ((w > 0 && signs[i] < 0) || (w < 0 && signs[i] > 0)) out[i] = 0;
    }
    return out;
  }

  /**
   * `signs: 'first-move'`: an active weight whose sign differs from its recorded sign is pruned (its record
   * becomes 0: dormant); an active weight without a recorded sign (0: just regrown) takes the sign it has now,
   * as the DSR codebase's `tensor_sign`, which records every weight's sign at each update, does.
   */
  private pruneFirstMove(layer: LayerView, signs: Int8Array): Uint8Array {
    const weight = layer.weight;
    const out = layer.mask.slice();
    const words = maskWords(out);
    const whole = words ? Math.min(words.length, layer.size >>> 2) : 0;
    const visit = (i: number): void => {
      if (out[i] !== 1) return;
      const w = weight[i];
      const now = w > 0 ? 1 : w < 0 ? -1 : 0;
      if (now === 0) return;
      if (signs[i] === 0) signs[i] = now;
      else if (signs[i] !== now) {
        out[i] = 0;
        signs[i] = 0;
      }
    };
    for (let k = 0; k < whole; k++) {
      if (words![k] === 0) continue;
      for (let i = k << 2; i < (k << 2) + 4; i++) visit(i);
    }
    for (let i = whole << 2; i < layer.size; i++) visit(i);
    return out;
  }

  /** The sign of position `i` at first sight: the weight's for an active non-zero weight, else drawn (`fixed`) or none (`first-move`). */
  private initialSign(mask: Uint8Array, weight: Float32Array, i: number, draw: () => number): number {
    if (mask[i] === 1 && weight[i] !== 0) return weight[i] > 0 ? 1 : -1;
    if (this.source === 'first-move') return 0;
    return draw() < 0.5 ? -1 : 1;
  }

  /** The fixed signs of a layer, drawing them at first sight (or when the layer's size changed). */
  private signsOf(layer: LayerView, ctx: StrategyContext): Int8Array {
    const known = this.signs.get(layer.name);
    if (known && known.length === layer.size) return known;
    const rng = ctx.rng.fork(`sign-flip:${layer.name}`);
    const signs = new Int8Array(layer.size);
    const draw = (): number => rng.next();
    for (let i = 0; i < layer.size; i++) signs[i] = this.initialSign(layer.mask, layer.weight, i, draw);
    this.signs.set(layer.name, signs);
    return signs;
  }

  /**
   * Fixes every connection's sign now, as DeepR does at initialisation (Bellec et al. 2018, §2): the sign of
   * the initial weight for active non-zero weights, a random ±1 (stream `sign:<layer>` of `rng`) otherwise.
   * Without it the signs are drawn at the first mask update, after the first step, and a sign change during
   * that step would go unnoticed. Called by the `deep-r-signs` init hook.
   */
  fixSigns(layers: readonly InitLayer[], rng: Rng): void {
    for (const layer of layers) {
      const stream = rng.fork(`sign:${layer.name}`);
      const draw = (): number => stream.next();
      const signs = new Int8Array(layer.size);
      for (let i = 0; i < layer.size; i++) signs[i] = this.initialSign(layer.mask, layer.weight, i, draw);
      this.signs.set(layer.name, signs);
    }
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
      const allowed = this.source === 'first-move' ? [-1, 0, 1] : [-1, 1];
      if (array.some((v) => !allowed.includes(v))) {
        throw new SparseLearningError('E_CHECKPOINT_INVALID', `sign-flip prune state for layer '${name}' holds a sign other than ${allowed.join('/')}`, { layer: name });
      }
      next.set(name, array);
    }
    this.signs = next;
  }
}
