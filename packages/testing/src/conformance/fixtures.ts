import { countActive, createRng, silentLogger } from '@sparse-learning/core';
import type { LayerView, Rng, StrategyContext } from '@sparse-learning/core';

/** One synthetic prunable tensor the conformance suites exercise. */
export interface ConformanceScenario {
  /** Used as layer name and in test titles. */
  readonly name: string;
  /** TensorFlow.js layout (Dense `[in, out]`, Conv2D `[kh, kw, in, out]`). */
  readonly shape: readonly number[];
  /** Fraction of active weights before pruning (at least one weight is active). */
  readonly density: number;
}

/**
 * The default scenarios: a dense layer, a conv kernel, a tiny layer, a nearly full and a nearly empty layer
 * (the two edges where caps and clamps matter, docs/algorithm.md#the-mask-update).
 */
export const DEFAULT_SCENARIOS: readonly ConformanceScenario[] = Object.freeze([
  { name: 'dense', shape: [30, 20], density: 0.3 },
  { name: 'conv', shape: [3, 3, 4, 8], density: 0.2 },
  { name: 'tiny', shape: [2, 2], density: 0.5 },
  { name: 'nearly-full', shape: [10, 12], density: 0.95 },
  { name: 'nearly-empty', shape: [25, 16], density: 0.01 },
]);

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** A standard normal scaled by `scale` that is never exactly 0 (so every active weight has a sign). */
function nonzeroNormal(rng: Rng, scale: number): number {
  let value = 0;
  while (value === 0) value = Math.fround(rng.normal() * scale);
  return value;
}

/**
 * Builds the view a prune or redistribution hook sees (mask before pruning): exactly
 * `max(1, round(density · size))` active positions drawn with `rng`, weights ~ N(0, 0.1²) on them and exactly 0
 * elsewhere, dense non-zero momentum and gradient.
 */
export function syntheticLayer(scenario: ConformanceScenario, rng: Rng, index = 0): LayerView {
  const size = sizeOf(scenario.shape);
  const active = Math.min(size, Math.max(1, Math.round(scenario.density * size)));
  const order = rng.shuffle(Array.from({ length: size }, (_, i) => i));
  const mask = new Uint8Array(size);
  for (let j = 0; j < active; j++) mask[order[j]] = 1;
  const weight = new Float32Array(size);
  const momentum = new Float32Array(size);
  const gradient = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    if (mask[i]) weight[i] = nonzeroNormal(rng, 0.1);
    momentum[i] = nonzeroNormal(rng, 0.01);
    gradient[i] = nonzeroNormal(rng, 0.01);
  }
  return { name: scenario.name, index, shape: scenario.shape, size, weight, mask, momentum, gradient, activeCount: active };
}

/** A layer with no active weight at all (weights 0), for the NaN/empty edge of redistribution statistics. */
export function emptyLayer(shape: readonly number[] = [6, 5], rng: Rng = createRng('empty')): LayerView {
  const size = sizeOf(shape);
  const momentum = new Float32Array(size);
  const gradient = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    momentum[i] = nonzeroNormal(rng, 0.01);
    gradient[i] = nonzeroNormal(rng, 0.01);
  }
  return {
    name: 'empty',
    index: 0,
    shape,
    size,
    weight: new Float32Array(size),
    mask: new Uint8Array(size),
    momentum,
    gradient,
    activeCount: 0,
  };
}

/**
 * Turns a prune-hook view into the view a growth hook sees: `ceil(fraction · active)` random active positions are
 * switched off in `mask` (their weights keep their values, as in the engine), `maskBeforePrune` holds the old
 * mask.
 */
export function prunedView(view: LayerView, rng: Rng, fraction = 0.3): LayerView {
  const activeIdx: number[] = [];
  for (let i = 0; i < view.size; i++) if (view.mask[i]) activeIdx.push(i);
  rng.shuffle(activeIdx);
  const remove = Math.min(activeIdx.length, Math.ceil(fraction * activeIdx.length));
  const mask = view.mask.slice();
  for (let j = 0; j < remove; j++) mask[activeIdx[j]] = 0;
  return { ...view, mask, activeCount: countActive(mask), maskBeforePrune: view.mask };
}

/** The read-only context of one synthetic mask update. */
export function syntheticContext(rng: Rng, layers: readonly LayerView[], pruneRate = 0.3): StrategyContext {
  const baselineNonzero = layers.reduce((acc, l) => acc + (l.maskBeforePrune ? countActive(l.maskBeforePrune) : l.activeCount), 0);
  return { step: 100, epoch: 1, pruneRate, baselineNonzero: Math.max(1, baselineNonzero), layerCount: layers.length, rng, logger: silentLogger };
}

/** A deep copy of the arrays of a view, to prove a hook did not mutate its inputs. */
export interface ViewSnapshot {
  readonly weight: Float32Array;
  readonly mask: Uint8Array;
  readonly momentum: Float32Array | null;
  readonly gradient: Float32Array | null;
  readonly maskBeforePrune: Uint8Array | null;
}

export function snapshotView(view: LayerView): ViewSnapshot {
  return {
    weight: view.weight.slice(),
    mask: view.mask.slice(),
    momentum: view.momentum ? view.momentum.slice() : null,
    gradient: view.gradient ? view.gradient.slice() : null,
    maskBeforePrune: view.maskBeforePrune ? view.maskBeforePrune.slice() : null,
  };
}

function sameArray(a: ArrayLike<number> | null, b: ArrayLike<number> | null | undefined): boolean {
  if (a === null || b === null || b === undefined) return a === null && (b === null || b === undefined);
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** Names of the arrays of `view` that differ from `snapshot` (empty when nothing was mutated). */
export function mutatedArrays(view: LayerView, snapshot: ViewSnapshot): string[] {
  const out: string[] = [];
  if (!sameArray(snapshot.weight, view.weight)) out.push('weight');
  if (!sameArray(snapshot.mask, view.mask)) out.push('mask');
  if (!sameArray(snapshot.momentum, view.momentum)) out.push('momentum');
  if (!sameArray(snapshot.gradient, view.gradient)) out.push('gradient');
  if (!sameArray(snapshot.maskBeforePrune, view.maskBeforePrune)) out.push('maskBeforePrune');
  return out;
}

/** Problems with a returned mask (not a Uint8Array, wrong length, values other than 0/1); empty when fine. */
export function maskProblems(result: unknown, size: number): string[] {
  if (!(result instanceof Uint8Array)) return [`expected a Uint8Array, got ${Object.prototype.toString.call(result)}`];
  const problems: string[] = [];
  if (result.length !== size) problems.push(`length ${result.length}, expected ${size}`);
  for (let i = 0; i < result.length; i++) {
    if (result[i] > 1) {
      problems.push(`value ${result[i]} at index ${i}`);
      break;
    }
  }
  return problems;
}
