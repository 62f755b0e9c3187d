import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { isSparseLearningError } from '@sparse-learning/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createModel, isModelId, modelIds, modelInfo } from './registry.js';
import { SPEC_COUNTS } from './test-support/spec-table.js';
import { useCpu } from './test-support/zoo-checks.js';

describe('model registry', () => {
  beforeAll(useCpu);

  it('lists the official CLI ids', () => {
    expect([...modelIds]).toEqual([
      'lenet300-100',
      'lenet5',
      'alexnet-s',
      'alexnet-b',
      'vgg-c',
      'vgg-d',
      'vgg-like',
      'wrn-16-8',
      'wrn-16-10',
      'wrn-22-8',
      'wrn-28-2',
      'resnet50',
      'set-mlp',
      'dsr-mnist-mlp',
    ]);
    expect(isModelId('vgg-d')).toBe(true);
    expect(isModelId('vgg16')).toBe(false);
  });

  it('modelInfo answers from the static docs/algorithm.md#models table (the family tests check it against built models)', () => {
    for (const id of modelIds) {
      const info = modelInfo(id);
      expect(info.id).toBe(id);
      expect({ masked: info.maskedWeights, total: info.totalParameters }).toEqual(SPEC_COUNTS[id]);
    }
    expect(modelInfo('lenet300-100')).toMatchObject({ dataset: 'mnist', inputShape: [28, 28, 1] });
    expect(modelInfo('lenet5')).toMatchObject({ dataset: 'mnist', inputShape: [28, 28, 1] });
    expect(modelInfo('wrn-22-8')).toMatchObject({ dataset: 'cifar10', inputShape: [32, 32, 3] });
    expect(modelInfo('resnet50')).toMatchObject({ dataset: 'imagenet', inputShape: [224, 224, 3] });
  });

  it('unknown ids throw E_UNKNOWN_ID listing the valid ids', () => {
    for (const call of [() => modelInfo('vgg16'), () => createModel('resnet18')]) {
      let error: unknown;
      try {
        call();
      } catch (e) {
        error = e;
      }
      expect(isSparseLearningError(error, 'E_UNKNOWN_ID')).toBe(true);
      expect(String((error as Error).message)).toContain('wrn-28-2');
    }
    expect(() => modelInfo('toString')).toThrow(/E_UNKNOWN_ID/);
  });

  it('the same model can be created twice: same stable names, distinct tfjs variables', () => {
    const a = createModel('lenet5');
    const b = createModel('lenet5');
    expect(b.variables.map((v) => v.name)).toEqual(a.variables.map((v) => v.name));
    const tfNames = new Set([...a.variables, ...b.variables].map((v) => v.variable.name));
    expect(tfNames.size).toBe(a.variables.length * 2);
    a.dispose();
    b.dispose();
  });

  it('a seed makes the init deterministic; a different seed gives different weights', () => {
    const values = (seed: number) => {
      const m = createModel('lenet300-100', { seed });
      const out = m.variables.map((v) => Array.from(v.variable.dataSync()));
      m.dispose();
      return out;
    };
    const a = values(7);
    expect(values(7)).toEqual(a);
    const c = values(8);
    expect(c[0]).not.toEqual(a[0]);
    expect(c[1]).not.toEqual(a[1]);
    // Different tensors of one model get different seeds.
    expect(a[2].slice(0, 10)).not.toEqual(a[0].slice(0, 10));
  });

  it('inputShape / numClasses overrides are honoured and validated', () => {
    const m = createModel('alexnet-s', { numClasses: 100 });
    expect(m.numClasses).toBe(100);
    expect(m.variables.find((v) => v.name === 'classifier.6.weight')?.variable.shape).toEqual([1024, 100]);
    m.dispose();
    expect(() => createModel('lenet5', { numClasses: 0 })).toThrow(/E_OUT_OF_RANGE/);
    expect(() => createModel('lenet5', { inputShape: [28, 28] as unknown as [number, number, number] })).toThrow(
      /E_OUT_OF_RANGE/,
    );
    expect(tf.memory().numTensors).toBe(0);
  });
});
