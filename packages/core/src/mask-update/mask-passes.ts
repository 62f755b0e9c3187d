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
 * Checks a prune hook's mask against the mask before pruning and counts the weights it removed: every value
 * is 0 or 1 and no inactive position was switched on (docs/algorithm.md#the-mask-update: pruning only removes).
 *
 * @returns the number of positions removed (`Σ before − mask` over the positions that did not switch on).
 * @throws `E_PLUGIN_CONTRACT` naming the first bad value, or the first position switched on.
 */
export function countPruned(site: PluginSite, mask: Uint8Array, before: Uint8Array): number {
  let gone = 0;
  let switchedOn = -1;
  const mw = maskWords(mask);
  const bw = maskWords(before);
  const words = mw && bw ? mw.length : 0;
  for (let k = 0; k < words; k++) {
    const x = mw![k];
    // Equal words of 0/1 bytes: nothing removed, nothing switched on.
    if (x === bw![k] && (x & NON_BINARY_BITS) === 0) continue;
    for (let j = k << 2, end = j + 4; j < end; j++) {
      const m = mask[j];
      const b = before[j];
      if (m > 1) nonBinaryMaskValue(site, m, j);
      if (m > b) {
        if (switchedOn < 0) switchedOn = j;
        continue;
      }
      gone += b - m;
    }
  }
  for (let j = words << 2; j < mask.length; j++) {
    const m = mask[j];
    const b = before[j];
    if (m > 1) nonBinaryMaskValue(site, m, j);
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

/**
 * Checks a growth hook's mask against the pruned mask and counts the positions it enabled: every value is 0
 * or 1 and no active position was switched off (growth only adds).
 *
 * @returns the number of positions enabled.
 * @throws `E_PLUGIN_CONTRACT` naming the first bad value, or the first position switched off.
 */
export function countGrown(site: PluginSite, mask: Uint8Array, pruned: Uint8Array): number {
  let grown = 0;
  let switchedOff = -1;
  const mw = maskWords(mask);
  const pw = maskWords(pruned);
  const words = mw && pw ? mw.length : 0;
  for (let k = 0; k < words; k++) {
    const x = mw![k];
    if (x === pw![k] && (x & NON_BINARY_BITS) === 0) continue;
    for (let j = k << 2, end = j + 4; j < end; j++) {
      const m = mask[j];
      const p = pruned[j];
      if (m > 1) nonBinaryMaskValue(site, m, j);
      if (m < p) {
        if (switchedOff < 0) switchedOff = j;
        continue;
      }
      grown += m - p;
    }
  }
  for (let j = words << 2; j < mask.length; j++) {
    const m = mask[j];
    const p = pruned[j];
    if (m > 1) nonBinaryMaskValue(site, m, j);
    if (m < p) {
      if (switchedOff < 0) switchedOff = j;
      continue;
    }
    grown += m - p;
  }
  if (switchedOff >= 0) throw pluginContractError(site, `switched off position ${switchedOff}; growth may only add weights`);
  return grown;
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
    for (let j = j0; j < j0 + 4; j++) {
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
  }
  for (let j = words << 2; j < size; j++) {
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
