import { describe, expect, it } from 'vitest';
import { datasetIds, isDatasetId, loadDataset } from './load-dataset.js';
import { catchCoded } from './test-fixtures.js';

describe('loadDataset', () => {
  it('knows mnist, idx and cifar10', () => {
    expect([...datasetIds]).toEqual(['mnist', 'idx', 'cifar10']);
    expect(isDatasetId('cifar10')).toBe(true);
    expect(isDatasetId('imagenet')).toBe(false);
  });

  it('rejects an unknown id with E_UNKNOWN_ID listing the valid ids', async () => {
    const err = await catchCoded(() => loadDataset('cifar100'), 'E_UNKNOWN_ID');
    expect(err.message).toContain("unknown dataset 'cifar100'");
    expect(err.message).toContain('cifar10, idx, mnist');
    expect(err.details).toMatchObject({ kind: 'dataset', id: 'cifar100' });
  });

  it('rejects validSplit outside [0, 1)', async () => {
    const err = await catchCoded(() => loadDataset('mnist', { validSplit: 1.5 }), 'E_OUT_OF_RANGE');
    expect(err.message).toContain('validSplit');
  });
});
