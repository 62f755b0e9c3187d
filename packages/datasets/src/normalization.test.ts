import { describe, expect, it } from 'vitest';
import { CIFAR10_NORMALIZATION, MNIST_NORMALIZATION, normalizationTable } from './normalization.js';

describe('normalizationTable', () => {
  it('MNIST: (x/255 - 0.1307) / 0.3081 in float32', () => {
    const t = normalizationTable(MNIST_NORMALIZATION, 1);
    expect(t[0]).toBeCloseTo(-0.42421296, 7); // -0.1307 / 0.3081
    expect(t[255]).toBeCloseTo(2.82148653, 6); // 0.8693 / 0.3081
    expect(t[240]).toBeCloseTo((240 / 255 - 0.1307) / 0.3081, 6);
    // bit-exact float32 pipeline: fround(fround(fround(k/255) - fround(m)) / fround(s))
    const f = Math.fround;
    expect(t[128]).toBe(f(f(f(128 / 255) - f(0.1307)) / f(0.3081)));
  });

  it('CIFAR-10: one table per channel with the official means and stds', () => {
    const t = normalizationTable(CIFAR10_NORMALIZATION, 3);
    expect(t.length).toBe(768);
    expect(t[0 * 256 + 255]).toBeCloseTo((1 - 0.4914) / 0.2023, 5);
    expect(t[1 * 256 + 0]).toBeCloseTo(-0.4822 / 0.1994, 5);
    expect(t[2 * 256 + 128]).toBeCloseTo((128 / 255 - 0.4465) / 0.201, 5);
  });

  it('rejects a channel count mismatch and a non-positive std', () => {
    expect(() => normalizationTable(MNIST_NORMALIZATION, 3)).toThrow(/E_CONFIG_INVALID/);
    expect(() => normalizationTable({ mean: [0], std: [0] }, 1)).toThrow(/E_CONFIG_INVALID/);
  });
});
