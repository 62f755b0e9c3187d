import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAlexNet } from './alexnet.js';
import type { AlexNetConfig } from './alexnet.js';
import { useWasmWithCompositeKernels } from './test-support/fast-backend.js';
import { checkForward, checkTrainingStep, checkZooModel } from './test-support/zoo-checks.js';

describe('AlexNet-s / AlexNet-b (docs/algorithm.md#models)', () => {
  // The training step runs on wasm with backend-native's kernels: tfjs-cpu's filter gradient is a naive loop.
  beforeAll(useWasmWithCompositeKernels);

  for (const config of ['s', 'b'] as AlexNetConfig[]) {
    it(`alexnet-${config}: spec counts, names, spatial sizes 13,7,4,2,1, forward and one SGD step`, async () => {
      const model = createAlexNet(config, { seed: 3 });
      checkZooModel(model, `alexnet-${config}`);
      const width = config === 's' ? 1024 : 2048;
      expect(model.variables.filter((v) => v.trainable).map((v) => v.name)).toEqual([
        ...[0, 3, 6, 9, 12].flatMap((i) => [
          `features.${i}.weight`,
          `features.${i}.bias`,
          `features.${i + 1}.weight`,
          `features.${i + 1}.bias`,
        ]),
        ...['classifier.0.weight', 'classifier.0.bias', 'classifier.1.weight', 'classifier.1.bias'],
        ...['classifier.3.weight', 'classifier.3.bias', 'classifier.4.weight', 'classifier.4.bias'],
        ...['classifier.6.weight', 'classifier.6.bias'],
      ]);
      const sizes = [0, 3, 6, 9, 12].map((i) => model.layersModel.getLayer(`features.${i}`).outputShape[1]);
      expect(sizes).toEqual([13, 7, 4, 2, 1]);
      const byName = new Map(model.variables.map((v) => [v.name, v.variable]));
      expect(byName.get('features.0.weight')?.shape).toEqual([11, 11, 3, 96]);
      expect(byName.get('classifier.0.weight')?.shape).toEqual([256, width]);
      expect(byName.get('classifier.6.weight')?.shape).toEqual([width, 10]);
      // BN: γ = 1, β = 0, running mean 0, running var 1.
      expect(Array.from(byName.get('features.1.weight')?.dataSync() ?? []).every((g) => g === 1)).toBe(true);
      expect(Array.from(byName.get('classifier.4.running_var')?.dataSync() ?? []).every((g) => g === 1)).toBe(true);

      await checkForward(model, 1); // inference mode: BN on running statistics, batch 1 is fine
      const before = tf.memory().numTensors;
      await checkTrainingStep(model, 2);
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
    });
  }
});
