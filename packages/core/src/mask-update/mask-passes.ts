/**
 * The engine's passes over a layer's masks in one update: the checks of what a prune or growth hook returned
 * and the final apply (new weights, index lists). Each is one pass over the layer, four bytes at a time
 * where the masks agree (issue 14: DeepR runs the update after every step and changes a few dozen positions
 * of 266 200, so nearly every word is zero or unchanged). Results and errors are those of the plain per-byte
 * loop: the bytes of any word that differs (or holds a value above 1) are visited in index order by that
 * very loop, and a skipped word contributes nothing to it.
 */
import { pluginContractError, type PluginSite } from '../errors.js';
import { NON_BINARY_BITS, maskWords } from '../util/mask-words.js';

/**
 * The error for a mask value other than 0 or 1 (the first one, by index, takes precedence over other faults).
 */
function nonBinaryMaskValue(site: PluginSite, value: number, index: number): never {
  throw pluginContractError(site, `mask value ${value} at index ${index} is not 0 or 1`);
}

/**
 * One pass shared by the prune and growth checks: every value of `mask` is 0 or 1 (the first bad one throws
 * at once), and positions are compared with `reference`. With `removing`, positions may only go 1 → 0 and
 * those are counted; otherwise they may only go 0 → 1. Words equal in both arrays (and binary) are skipped.
 *
 * @returns the positions changed the allowed way, and the first changed the other way (−1: none).
 */
function countOneWay(site: PluginSite, mask: Uint8Array, reference: Uint8Array, removing: boolean): { changed: number; wrongWay: number } {
  let changed = 0;
  let wrongWay = -1;
  const scan = (from: number, to: number) => {
    for (let j = from; j < to; j++) {
      const m = mask[j];
      if (m > 1) nonBinaryMaskValue(site, m, j);
      const d = removing ? reference[j] - m : m - reference[j];
      if (d < 0) {
        if (wrongWay < 0) wrongWay = j;
        continue;
      }
      changed += d;
    }
  };
  const mw = maskWords(mask);
  const rw = maskWords(reference);
  const words = mw && rw ? mw.length : 0;
  for (let k = 0; k < words; k++) {
    const x = mw![k];
    // Equal words of 0/1 bytes: nothing changed either way.
    if (x === rw![k] && (x & NON_BINARY_BITS) === 0) continue;
    scan(k << 2, (k << 2) + 4);
  }
  scan(words << 2, mask.length);
  return { changed, wrongWay };
}

/**
 * Checks a prune hook's mask against the mask before pruning and counts the weights it removed: every value
 * is 0 or 1 and no inactive position was switched on (docs/algorithm.md#the-mask-update: pruning only removes).
 *
 * @returns the number of positions removed (`Σ before − mask` over the positions that did not switch on).
 * @throws `E_PLUGIN_CONTRACT` naming the first bad value, or the first position switched on.
 */
export function countPruned(site: PluginSite, mask: Uint8Array, before: Uint8Array): number {
  const { changed, wrongWay } = countOneWay(site, mask, before, true);
  if (wrongWay >= 0) {
    throw pluginContractError(site, `switched on position ${wrongWay}, which was inactive; pruning may only remove weights`);
  }
  return changed;
}

/**
 * Checks a growth hook's mask against the pruned mask and counts the positions it enabled: every value is 0
 * or 1 and no active position was switched off (growth only adds).
 *
 * @returns the number of positions enabled.
 * @throws `E_PLUGIN_CONTRACT` naming the first bad value, or the first position switched off.
 */
export function countGrown(site: PluginSite, mask: Uint8Array, pruned: Uint8Array): number {
  const { changed, wrongWay } = countOneWay(site, mask, pruned, false);
  if (wrongWay >= 0) throw pluginContractError(site, `switched off position ${wrongWay}; growth may only add weights`);
  return changed;
}

/** What {@link applyMaskUpdate} returns for one layer. */
export interface AppliedMask {
  /** `source` where the new mask is 1, +0 elsewhere. */
  readonly weight: Float32Array;
  /** Positions active in the new mask. */
  readonly active: number;
  /** Positions active before the update and off after pruning (ascending). */
  readonly prunedIndices: number[];
  /** Positions on in the new mask and off after pruning (ascending). */
  readonly grownIndices: number[];
}

/**
 * Step (f, g) of the update for one layer: the new weights (`source` kept where the new mask is 1 — a weight
 * pruned and regrown keeps its value —, +0 elsewhere) and the pruned and grown index lists. Words where the
 * mask before, the pruned mask and the new mask agree only copy the active weights.
 */
export function applyMaskUpdate(before: Uint8Array, pruned: Uint8Array, mask: Uint8Array, source: Float32Array): AppliedMask {
  const size = mask.length;
  const weight = new Float32Array(size);
  const prunedIndices: number[] = [];
  const grownIndices: number[] = [];
  let active = 0;
  // The per-byte step, for words where the three masks differ and for the tail after the last whole word.
  const scan = (from: number, to: number) => {
    for (let j = from; j < to; j++) {
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
  };
  const mw = maskWords(mask);
  const bw = maskWords(before);
  const pw = maskWords(pruned);
  const words = mw && bw && pw ? mw.length : 0;
  for (let k = 0; k < words; k++) {
    const m4 = mw![k];
    const b4 = bw![k];
    // Most words of a sparse layer are off before, after pruning and after growth.
    if ((m4 | b4) === 0) continue;
    const j0 = k << 2;
    if (m4 === b4 && m4 === pw![k]) {
      for (let j = j0; j < j0 + 4; j++) {
        if (mask[j]) {
          weight[j] = source[j];
          active++;
        }
      }
      continue;
    }
    scan(j0, j0 + 4);
  }
  scan(words << 2, size);
  return { weight, active, prunedIndices, grownIndices };
}
