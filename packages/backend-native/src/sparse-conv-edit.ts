/**
 * A mask update applied to a compact conv layer in place of a rebuild (issue 9): pruning removes entries,
 * growth inserts entries at their sorted place (output channel, then input channel, then tap), and the
 * per-entry optimizer slot follows its weight — O(nnz + changes), never a pass over the dense filter.
 * The flat indices are those of the dense HWIO filter, as the mask updater reports them
 * (`MaskUpdateLayerResult.prunedIndices` / `grownIndices`; docs/algorithm.md#the-mask-update).
 */
import { SparseLearningError } from '@sparse-learning/core';
import { type SparseConvLayer, withInputIndex } from './sparse-conv-layout.js';

/** Slot of the entry `(o, c, t)` in `layer`, or −1 (entries of an output are sorted by channel, then tap). */
function slotOf(layer: SparseConvLayer, o: number, c: number, t: number): number {
  const taps = layer.kh * layer.kw;
  const key = c * taps + t;
  let lo = layer.optr[o];
  let hi = layer.optr[o + 1] - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const k = layer.chan[mid] * taps + layer.tap[mid];
    if (k === key) return mid;
    if (k < key) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/**
 * The layer after removing the entries at `pruned` and inserting `grown` (flat HWIO indices
 * `((ky·kw + kx)·cin + c)·cout + o`). Kept entries keep their value and momentum; a grown entry takes its value
 * from `weight` (the updater's new dense weights) and its momentum from `denseMomentum` when given (the
 * dense-gradient window's buffer, where inactive positions accumulate as on the masked path), else from the
 * entry it replaces when it was pruned and regrown in this update, else 0. Throws `E_ENGINE_STATE` when a
 * pruned index is not active or a grown one is already active (the updater's books disagree with the layer).
 */
export function editConvLayer(
  layer: SparseConvLayer,
  pruned: readonly number[],
  grown: readonly number[],
  weight: Float32Array,
  denseMomentum: Float32Array | null,
): SparseConvLayer {
  const { cin, cout } = layer;
  const taps = layer.kh * layer.kw;
  const nnz = layer.optr[cout];
  const decode = (flat: number) => {
    const o = flat % cout;
    const rest = (flat - o) / cout;
    const c = rest % cin;
    return { o, c, t: (rest - c) / cin };
  };
  const removed = new Uint8Array(nnz);
  const count = new Int32Array(cout);
  for (let o = 0; o < cout; o++) count[o] = layer.optr[o + 1] - layer.optr[o];
  for (const flat of pruned) {
    const { o, c, t } = decode(flat);
    const slot = slotOf(layer, o, c, t);
    if (slot < 0 || removed[slot]) throw new SparseLearningError('E_ENGINE_STATE', `sparse conv edit: pruned index ${flat} is not an active entry`);
    removed[slot] = 1;
    count[o]--;
  }
  // Grown entries sorted by (output, channel, tap): the order of the compact layout.
  const adds = grown.map((flat) => {
    const { o, c, t } = decode(flat);
    const slot = slotOf(layer, o, c, t);
    if (slot >= 0 && !removed[slot]) throw new SparseLearningError('E_ENGINE_STATE', `sparse conv edit: grown index ${flat} is already active`);
    const momentum = denseMomentum ? denseMomentum[flat] : slot >= 0 ? layer.mom[slot] : 0;
    count[o]++;
    return { o, c, t, key: (o * cin + c) * taps + t, value: weight[flat], momentum };
  });
  adds.sort((a, b) => a.key - b.key);
  const optr = new Int32Array(cout + 1);
  for (let o = 0; o < cout; o++) optr[o + 1] = optr[o] + count[o];
  const total = optr[cout];
  const chan = new Int32Array(total);
  const tap = new Int32Array(total);
  const vals = new Float32Array(total);
  const mom = new Float32Array(total);
  let n = 0;
  let g = 0;
  for (let o = 0; o < cout; o++) {
    // Merge the kept entries of o (already sorted) with its grown ones.
    for (let k = layer.optr[o]; k <= layer.optr[o + 1]; k++) {
      const oldKey = k < layer.optr[o + 1] ? layer.chan[k] * taps + layer.tap[k] : Number.POSITIVE_INFINITY;
      while (g < adds.length && adds[g].o === o && adds[g].key - o * cin * taps < oldKey) {
        const a = adds[g++];
        (chan[n] = a.c), (tap[n] = a.t), (vals[n] = a.value), (mom[n] = a.momentum);
        n++;
      }
      if (k < layer.optr[o + 1] && !removed[k]) {
        (chan[n] = layer.chan[k]), (tap[n] = layer.tap[k]), (vals[n] = layer.vals[k]), (mom[n] = layer.mom[k]);
        n++;
      }
    }
  }
  if (n !== total || g !== adds.length) throw new SparseLearningError('E_ENGINE_STATE', `sparse conv edit: wrote ${n} of ${total} entries`);
  return withInputIndex({ ...layer, optr, chan, tap, vals, mom, iptr: new Int32Array(cin + 1), ochan: new Int32Array(0), perm: new Int32Array(0) });
}
