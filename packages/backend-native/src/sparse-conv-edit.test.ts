import { describe, expect, it } from 'vitest';
import { editConvLayer } from './sparse-conv-edit.js';
import { scatterConvDense, sparseConvFromDense } from './sparse-conv-layout.js';

// A mask update on a compact conv layer, worked by hand (issue 9). Filter 1×2 taps, 2 input and 2 output
// channels, HWIO flat index k = (tap·cin + c)·cout + o:
//   k: 0 t0c0o0, 1 t0c0o1, 2 t0c1o0, 3 t0c1o1, 4 t1c0o0, 5 t1c0o1, 6 t1c1o0, 7 t1c1o1.
// Active before: k = 0, 3, 4, 6 with weights 1, 2, 3, 4 and momentum 0.1, 0.2, 0.3, 0.4.
// The update prunes k = 4 and grows k = 2, 4 (pruned and regrown) and 7.
function before() {
  const w = Float32Array.from([1, 0, 0, 2, 3, 0, 4, 0]);
  const m = Float32Array.from([0.1, 0, 0, 0.2, 0.3, 0, 0.4, 0]);
  return sparseConvFromDense(w, null, 1, 2, 2, 2, { momentum: m, bias: new Float32Array(2), relu: true });
}
// The updater's new weights: kept and regrown weights keep their value, new ones start at 0.
const after = Float32Array.from([1, 0, 0, 2, 3, 0, 4, 0]);

describe('editConvLayer', () => {
  it('removes pruned entries and inserts grown ones at their sorted place; momentum follows its weight', () => {
    const layer = before();
    expect(Array.from(layer.optr)).toEqual([0, 3, 4]);
    const edited = editConvLayer(layer, [4], [2, 4, 7], after, null);
    // Output 0: (c0,t0) kept, (c0,t1) regrown, (c1,t0) grown, (c1,t1) kept; output 1: (c1,t0) kept, (c1,t1) grown.
    expect(Array.from(edited.optr)).toEqual([0, 4, 6]);
    expect(Array.from(edited.chan)).toEqual([0, 0, 1, 1, 1, 1]);
    expect(Array.from(edited.tap)).toEqual([0, 1, 0, 1, 0, 1]);
    expect(Array.from(edited.vals)).toEqual([1, 3, 0, 4, 2, 0]);
    // Without a dense momentum, a pruned-and-regrown entry keeps its own momentum (the masked path never
    // resets the buffer) and a new one starts at 0.
    expect(Array.from(edited.mom)).toEqual([0.1, 0.3, 0, 0.4, 0.2, 0].map(Math.fround));
    // The by-input index is rebuilt for the new entries.
    expect(Array.from(edited.iptr)).toEqual([0, 2, 6]);
    expect(Array.from(scatterConvDense(edited, edited.vals))).toEqual([1, 0, 0, 2, 3, 0, 4, 0]);
    // The old layer is untouched (the edit builds new arrays).
    expect(Array.from(layer.vals)).toEqual([1, 3, 4, 2]);
  });

  it('takes the grown entries momentum from the dense-gradient window when there is one', () => {
    const dense = Float32Array.from([9, 9, 0.5, 9, 0.6, 9, 9, 0.7]);
    const edited = editConvLayer(before(), [4], [2, 4, 7], after, dense);
    expect(Array.from(edited.mom)).toEqual([0.1, 0.6, 0.5, 0.4, 0.2, 0.7].map(Math.fround));
  });

  it('refuses growth onto an active entry and pruning of an inactive one (E_ENGINE_STATE)', () => {
    expect(() => editConvLayer(before(), [], [0], after, null)).toThrow(expect.objectContaining({ code: 'E_ENGINE_STATE', message: expect.stringMatching(/grown index 0 is already active/) }));
    expect(() => editConvLayer(before(), [1], [], after, null)).toThrow(expect.objectContaining({ code: 'E_ENGINE_STATE', message: expect.stringMatching(/pruned index 1 is not an active entry/) }));
    expect(() => editConvLayer(before(), [0, 0], [], after, null)).toThrow(expect.objectContaining({ code: 'E_ENGINE_STATE' }));
  });
});
