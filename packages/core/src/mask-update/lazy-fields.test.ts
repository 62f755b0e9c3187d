import { describe, expect, it } from 'vitest';
import { layerView, lazyMomentumInput } from './lazy-fields.js';

describe('fields read only when a strategy reads them (issue 14)', () => {
  const fields = {
    name: 'fc1.weight',
    shape: [2, 2],
    weight: Float32Array.from([0.5, 0, -1, 0]),
    mask: Uint8Array.from([1, 0, 1, 0]),
    gradient: null,
  };

  it('reads momentum once, on first access, and never if nobody looks', () => {
    let reads = 0;
    const momentum = Float32Array.from([0.1, 0.2, 0.3, 0.4]);
    const input = lazyMomentumInput(fields, () => {
      reads++;
      return momentum;
    });
    const view = layerView(input, 0, input.mask, 2);
    expect([view.name, view.size, view.activeCount, view.gradient]).toEqual(['fc1.weight', 4, 2, null]);
    expect(reads).toBe(0);
    expect(view.momentum).toBe(momentum);
    expect(layerView(input, 0, input.mask, 2).momentum).toBe(momentum);
    expect(reads).toBe(1);
  });

  it('behaves as a plain view when spread, listed or serialised', () => {
    const input = lazyMomentumInput(fields, () => Float32Array.from([1, 2, 3, 4]));
    const maskBeforePrune = Uint8Array.from([1, 1, 1, 0]);
    const view = layerView(input, 3, fields.mask, 2, maskBeforePrune);
    expect(Object.keys(view)).toEqual(['name', 'index', 'shape', 'size', 'weight', 'mask', 'momentum', 'gradient', 'activeCount', 'maskBeforePrune']);
    const copy = { ...view, mask: Uint8Array.from([0, 0, 0, 0]) };
    expect(Array.from(copy.momentum!)).toEqual([1, 2, 3, 4]);
    expect(copy.maskBeforePrune).toBe(maskBeforePrune);
    expect(Object.keys(input)).toEqual(['name', 'shape', 'weight', 'mask', 'momentum', 'gradient']);
    expect(JSON.parse(JSON.stringify({ ...input, weight: null, mask: null })).momentum).toEqual({ 0: 1, 1: 2, 2: 3, 3: 4 });
  });

  it('keeps a null momentum (an optimizer without buffers) as null', () => {
    let reads = 0;
    const input = lazyMomentumInput(fields, () => {
      reads++;
      return null;
    });
    expect(input.momentum).toBeNull();
    expect(input.momentum).toBeNull();
    expect(reads).toBe(1);
  });
});
