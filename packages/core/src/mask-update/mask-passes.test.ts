import { describe, expect, it } from 'vitest';
import { SparseLearningError, pluginContractError, type PluginSite } from '../errors.js';
import { createRng, type Rng } from '../rng.js';
import { applyMaskUpdate, countGrown, countPruned } from './mask-passes.js';

/*
 * The oracle: the engine's per-byte loops as they were before issue 14 (mask-updater.ts at 029bae9), verbatim
 * but for their packaging as functions. The word-at-a-time passes must return the same numbers, arrays and
 * errors on every input.
 */
function checkMaskValue(site: PluginSite, value: number, index: number): never {
  throw pluginContractError(site, `mask value ${value} at index ${index} is not 0 or 1`);
}

function referencePruned(site: PluginSite, mask: Uint8Array, before: Uint8Array): number {
  let gone = 0;
  let switchedOn = -1;
  for (let j = 0; j < mask.length; j++) {
    const m = mask[j];
    const b = before[j];
    if (m > 1) checkMaskValue(site, m, j);
    if (m > b) {
      if (switchedOn < 0) switchedOn = j;
      continue;
    }
    gone += b - m;
  }
  if (switchedOn >= 0) {
    throw pluginContractError(site, `switched on position ${switchedOn}, which was inactive; pruning may only remove weights`);
  }
  return gone;
}

function referenceGrown(site: PluginSite, mask: Uint8Array, pruned: Uint8Array): number {
  let grown = 0;
  let switchedOff = -1;
  for (let j = 0; j < mask.length; j++) {
    const m = mask[j];
    const p = pruned[j];
    if (m > 1) checkMaskValue(site, m, j);
    if (m < p) {
      if (switchedOff < 0) switchedOff = j;
      continue;
    }
    grown += m - p;
  }
  if (switchedOff >= 0) throw pluginContractError(site, `switched off position ${switchedOff}; growth may only add weights`);
  return grown;
}

function referenceApply(before: Uint8Array, pruned: Uint8Array, mask: Uint8Array, source: Float32Array) {
  const size = mask.length;
  const weight = new Float32Array(size);
  const prunedIndices: number[] = [];
  const grownIndices: number[] = [];
  let active = 0;
  for (let j = 0; j < size; j++) {
    const m = mask[j];
    const b = before[j];
    if ((m | b) === 0) continue;
    const p = pruned[j];
    if (m) {
      weight[j] = source[j];
      active++;
    }
    if (b && !p) prunedIndices.push(j);
    if (m && !p) grownIndices.push(j);
  }
  return { weight, active, prunedIndices, grownIndices };
}

/** The outcome of a pass: its value, or the code and message of what it threw. */
function outcome<T>(fn: () => T): T | { error: string } {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof SparseLearningError)) throw error;
    return { error: `${error.code}: ${error.message}` };
  }
}

/** Bytes of a float32 array, so that +0 and -0 (and NaN payloads) compare as different. */
const bits = (values: Float32Array) => Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));

interface Case {
  readonly before: Uint8Array;
  readonly pruned: Uint8Array;
  readonly grown: Uint8Array;
  readonly weight: Float32Array;
}

/** A mask at a byte offset of a fresh buffer (offsets 1–3 take the per-byte path). */
function at(offset: number, values: Uint8Array): Uint8Array {
  const out = new Uint8Array(new ArrayBuffer(values.length + offset), offset, values.length);
  out.set(values);
  return out;
}

/**
 * One update's masks: `before` at `density`; pruning removes ~`rate` of the active weights; growth enables as
 * many zero positions (just-pruned ones included). `faults` sprinkles contract violations into either result:
 * values above 1, positions switched on by pruning or off by growth.
 */
function randomCase(rng: Rng, size: number, density: number, rate: number, faults: number, offset: number): Case {
  const before = new Uint8Array(size);
  const weight = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    if (rng.next() < density) {
      before[i] = 1;
      weight[i] = rng.next() < 0.02 ? 0 : rng.normal();
    } else {
      // Masked weights hold ±0, as W ⊙ M leaves them; a few hold garbage the apply must not copy.
      weight[i] = rng.next() < 0.5 ? -0 : rng.next() < 0.01 ? Number.NaN : 0;
    }
  }
  const pruned = before.slice();
  for (let i = 0; i < size; i++) if (pruned[i] === 1 && rng.next() < rate) pruned[i] = 0;
  const grown = pruned.slice();
  for (let i = 0; i < size; i++) if (grown[i] === 0 && rng.next() < rate * density) grown[i] = 1;
  for (let f = 0; f < faults; f++) {
    const target = rng.next() < 0.5 ? pruned : grown;
    const i = rng.int(size);
    target[i] = rng.next() < 0.5 ? 2 + rng.int(200) : 1 - Math.min(target[i], 1);
  }
  return { before: at(offset, before), pruned: at(offset, pruned), grown: at(offset, grown), weight };
}

describe('the engine passes over the masks (issue 14)', () => {
  const site: PluginSite = { plugin: 'p', hook: 'h', layer: 'fc1', step: 3 };

  it('count, check and apply exactly as the per-byte loops did, on 400 random updates', () => {
    const rng = createRng('mask-passes');
    let errors = 0;
    let applied = 0;
    for (let c = 0; c < 400; c++) {
      const size = [1, 7, 64, 333, 4096][c % 5];
      const density = [0.01, 0.05, 0.2, 0.9][c % 4];
      const faults = c % 3 === 0 ? 1 + rng.int(3) : 0;
      const offset = c % 7 === 0 ? 1 + rng.int(3) : 0;
      const { before, pruned, grown, weight } = randomCase(rng, size, density, [0, 0.001, 0.3][c % 3], faults, offset);
      const label = `case ${c} (size ${size}, density ${density}, faults ${faults}, offset ${offset})`;
      const gone = outcome(() => countPruned(site, pruned, before));
      expect(gone, label).toEqual(outcome(() => referencePruned(site, pruned, before)));
      const enabled = outcome(() => countGrown(site, grown, pruned));
      expect(enabled, label).toEqual(outcome(() => referenceGrown(site, grown, pruned)));
      if (typeof gone !== 'number' || typeof enabled !== 'number') {
        errors++;
        continue;
      }
      const got = applyMaskUpdate(before, pruned, grown, weight);
      const want = referenceApply(before, pruned, grown, weight);
      expect(bits(got.weight), label).toEqual(bits(want.weight));
      expect({ ...got, weight: null }, label).toEqual({ ...want, weight: null });
      applied++;
    }
    // Both kinds of case occurred in numbers.
    expect(errors).toBeGreaterThan(60);
    expect(applied).toBeGreaterThan(200);
  });

  it('hand-worked: counts, index lists, +0 for masked weights, a regrown weight keeps its value', () => {
    const before = Uint8Array.from([1, 1, 0, 0, 1, 0, 0, 0, 1]);
    const pruned = Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0]);
    const grown = Uint8Array.from([1, 0, 0, 1, 1, 0, 0, 0, 0]);
    const weight = Float32Array.from([0.5, -0.25, -0, 0, 2, -0, 0, -0, 3]);
    expect(countPruned(site, pruned, before)).toBe(3);
    expect(countGrown(site, grown, pruned)).toBe(2);
    const applied = applyMaskUpdate(before, pruned, grown, weight);
    expect(Array.from(applied.weight)).toEqual([0.5, 0, 0, 0, 2, 0, 0, 0, 0]);
    // Every masked weight is +0, whatever it held (-0 at 2, 5, 7; the pruned 3 at 8).
    expect(Array.from(applied.weight).filter((v) => Object.is(v, -0))).toEqual([]);
    expect(applied.active).toBe(3);
    expect(applied.prunedIndices).toEqual([1, 4, 8]);
    expect(applied.grownIndices).toEqual([3, 4]);
  });

  it('names the first bad value before a position switched the wrong way, wherever the words split', () => {
    const before = Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 1]);
    // Position 1 switched on (word 0), a 7 at position 6 (word 1): the value error wins, as before.
    const pruned = Uint8Array.from([1, 1, 0, 0, 0, 0, 7, 0, 1]);
    expect(() => countPruned(site, pruned, before)).toThrow(/mask value 7 at index 6 is not 0 or 1/);
    pruned[6] = 0;
    expect(() => countPruned(site, pruned, before)).toThrow(/switched on position 1, which was inactive/);
    const grown = Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(() => countGrown(site, grown, before)).toThrow(/switched off position 8; growth may only add weights/);
    // A bad value is reported even where the hook's word equals the input's (an input mask holding a 3).
    const odd = Uint8Array.from([1, 3, 0, 0, 0, 0, 0, 0]);
    expect(() => countPruned(site, odd.slice(), odd)).toThrow(/mask value 3 at index 1 is not 0 or 1/);
    expect(() => countGrown(site, odd.slice(), odd)).toThrow(/mask value 3 at index 1 is not 0 or 1/);
  });
});
