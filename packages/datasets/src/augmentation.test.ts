import { describe, expect, it } from 'vitest';
import type { Rng } from '@sparse-learning/core';
import { createRng } from '@sparse-learning/core';
import type { CropFlipParams } from './augmentation.js';
import { checkAugmentation, drawCropFlip, reflectIndex, writeCropFlip } from './augmentation.js';

/** Table mapping byte k to k in every channel: the output shows which source pixel was taken. */
function identityTable(channels: number): Float32Array {
  const t = new Float32Array(channels * 256);
  for (let c = 0; c < channels; c++) for (let k = 0; k < 256; k++) t[c * 256 + k] = k + 1000 * c;
  return t;
}

/** 4x4 one-channel image with pixel (y, x) = 10·y + x. */
const image = Uint8Array.from({ length: 16 }, (_, i) => 10 * Math.floor(i / 4) + (i % 4));

function crop(params: CropFlipParams, padding = 2): number[][] {
  const out = new Float32Array(16);
  writeCropFlip(image, 0, 4, 4, 1, padding, params, identityTable(1), out, 0);
  return [0, 1, 2, 3].map((y) => Array.from(out.subarray(4 * y, 4 * y + 4)));
}

describe('reflectIndex', () => {
  it('mirrors without repeating the edge (row a b c d padded by 2 is c b a b c d c b)', () => {
    expect([-2, -1, 0, 1, 2, 3, 4, 5].map((p) => reflectIndex(p, 4))).toEqual([2, 1, 0, 1, 2, 3, 2, 1]);
  });
});

describe('writeCropFlip (hand-worked, 4x4 image, padding 2)', () => {
  it('crop at the top-left corner of the padded image', () => {
    // padded rows/cols 0..3 come from source rows/cols 2, 1, 0, 1
    expect(crop({ top: 0, left: 0, flip: false })).toEqual([
      [22, 21, 20, 21],
      [12, 11, 10, 11],
      [2, 1, 0, 1],
      [12, 11, 10, 11],
    ]);
  });

  it('centre crop (offset = padding) is the image itself', () => {
    expect(crop({ top: 2, left: 2, flip: false }).flat()).toEqual(Array.from(image));
  });

  it('crop at (top 4, left 3) then horizontal flip', () => {
    // rows: padded 4..7 -> source 2, 3, 2, 1; cols: padded 3..6 -> source 1, 2, 3, 2
    expect(crop({ top: 4, left: 3, flip: false })).toEqual([
      [21, 22, 23, 22],
      [31, 32, 33, 32],
      [21, 22, 23, 22],
      [11, 12, 13, 12],
    ]);
    // the flip mirrors the crop (not the padded image)
    expect(crop({ top: 4, left: 3, flip: true })).toEqual([
      [22, 23, 22, 21],
      [32, 33, 32, 31],
      [22, 23, 22, 21],
      [12, 13, 12, 11],
    ]);
  });

  it('moves all channels of a pixel together and normalises each with its own table', () => {
    // 2x2, 3 channels: pixel (y, x) channel c = 100·c + 10·y + x
    const rgb = Uint8Array.from({ length: 12 }, (_, i) => {
      const p = Math.floor(i / 3);
      return 100 * (i % 3) + 10 * Math.floor(p / 2) + (p % 2);
    });
    const out = new Float32Array(12);
    writeCropFlip(rgb, 0, 2, 2, 3, 1, { top: 1, left: 1, flip: true }, identityTable(3), out, 0);
    // no shift, flipped: (0,0) <- (0,1)
    expect(Array.from(out)).toEqual([1, 1101, 2201, 0, 1100, 2200, 11, 1111, 2211, 10, 1110, 2210]);
  });
});

describe('drawCropFlip', () => {
  it('draws top, left, then flip, in that order', () => {
    const calls: string[] = [];
    const scripted = {
      int: (n: number) => (calls.push(`int(${n})`), calls.length === 1 ? 7 : 2),
      next: () => (calls.push('next'), 0.4),
    } as unknown as Rng;
    expect(drawCropFlip({ padding: 4, flip: true }, scripted)).toEqual({ top: 7, left: 2, flip: true });
    expect(calls).toEqual(['int(9)', 'int(9)', 'next']);
  });

  it('covers every offset and flips about half the time', () => {
    const rng = createRng('aug');
    const tops = new Set<number>();
    let flips = 0;
    for (let i = 0; i < 2000; i++) {
      const p = drawCropFlip({ padding: 4, flip: true }, rng);
      tops.add(p.top);
      if (p.flip) flips++;
    }
    expect([...tops].sort()).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(flips).toBeGreaterThan(900);
    expect(flips).toBeLessThan(1100);
  });

  it('rejects padding that reflect padding cannot do', () => {
    expect(() => checkAugmentation({ padding: 4, flip: true }, 4, 4)).toThrow(/E_CONFIG_INVALID/);
    expect(() => checkAugmentation({ padding: 3, flip: true }, 4, 4)).not.toThrow();
  });
});
