import { describe, expect, it } from 'vitest';
import { assembleDataset, validationStart } from './dataset.js';
import { MNIST_NORMALIZATION } from './normalization.js';

describe('validationStart (DatasetSplitter split point)', () => {
  it('is floor((1 - validSplit) · N) as in the official code', () => {
    expect(validationStart(60000, 0.1)).toBe(54000);
    expect(validationStart(50000, 0.1)).toBe(45000);
    expect(validationStart(60000, 0.25)).toBe(45000);
    expect(validationStart(10, 0.15)).toBe(8); // floor(8.5)
    expect(validationStart(60000, 0)).toBe(60000);
  });

  it('rejects fractions outside [0, 1) and splits that would leave a side empty', () => {
    expect(() => validationStart(100, 1)).toThrow(/E_OUT_OF_RANGE.*validSplit/);
    expect(() => validationStart(100, -0.1)).toThrow(/E_OUT_OF_RANGE/);
    expect(() => validationStart(100, Number.NaN)).toThrow(/E_OUT_OF_RANGE/);
    expect(validationStart(5, 0.1)).toBe(4); // floor(4.5): 4 train / 1 validation
    expect(() => validationStart(5, 0.9)).toThrow(/E_OUT_OF_RANGE/); // floor(0.5) = 0 training examples
  });
});

describe('assembleDataset', () => {
  const parts = {
    id: 'tiny',
    numClasses: 2,
    classNames: null,
    inputShape: [1, 1, 1] as [number, number, number],
    normalization: MNIST_NORMALIZATION,
    source: 'mem',
    trainImages: Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
    trainLabels: Uint8Array.from([0, 1, 0, 1, 0, 1, 0, 1, 0, 1]),
    testImages: Uint8Array.from([10, 11, 12]),
    testLabels: Uint8Array.from([1, 1, 0]),
    augmentation: null,
  };

  it('splits contiguously: first part train, last part validation', () => {
    const ds = assembleDataset(parts, { validSplit: 0.2 });
    expect(ds.train.size).toBe(8);
    expect(ds.validation?.size).toBe(2);
    expect(Array.from(ds.validation!.labels)).toEqual([0, 1]);
    expect(ds.test.size).toBe(3);
  });

  it('validSplit 0 gives no validation split; limits cut before splitting', () => {
    expect(assembleDataset(parts, { validSplit: 0 }).validation).toBeNull();
    const limited = assembleDataset(parts, { trainLimit: 5, testLimit: 2, validSplit: 0.2 });
    expect([limited.train.size, limited.validation?.size, limited.test.size]).toEqual([4, 1, 2]);
    expect(() => assembleDataset(parts, { trainLimit: 0 })).toThrow(/E_OUT_OF_RANGE.*trainLimit/);
  });
});
