import { beforeAll, describe, expect, it } from 'vitest';
import { createVgg16 } from './vgg16.js';
import type { VggConfig } from './vgg16.js';
import { useWasmWithCompositeKernels } from './test-support/fast-backend.js';
import { SPEC_COUNTS } from './test-support/spec-table.js';
import { checkForward, checkTrainingStep, checkZooModel } from './test-support/zoo-checks.js';

const CONV_INDICES = [0, 3, 7, 10, 14, 17, 20, 24, 27, 30, 34, 37, 40];

describe('VGG16-C / -D / -like (docs/algorithm.md#models)', () => {
  // The training step runs on wasm with backend-native's kernels: tfjs-cpu's filter gradient is a naive loop.
  beforeAll(useWasmWithCompositeKernels);

  const cases: { config: VggConfig; id: string; flatten: number; classifier: number[] }[] = [
    { config: 'C', id: 'vgg-c', flatten: 2048, classifier: [0, 2, 3, 5, 6] },
    { config: 'D', id: 'vgg-d', flatten: 512, classifier: [0, 2, 3, 5, 6] },
    { config: 'like', id: 'vgg-like', flatten: 512, classifier: [0, 2, 3] },
  ];

  for (const { config, id, flatten, classifier } of cases) {
    it(`${id}: spec counts, conv indices, flatten ${flatten}, forward and one SGD step`, async () => {
      const model = createVgg16(config, { seed: 9 });
      checkZooModel(model, id);
      const convs = model.variables.filter((v) => v.name.startsWith('features.') && v.prunable).map((v) => v.name);
      expect(convs).toEqual(CONV_INDICES.map((i) => `features.${i}.weight`));
      const fcs = model.variables.filter((v) => v.name.startsWith('classifier.') && v.name.endsWith('.weight'));
      expect(fcs.map((v) => v.name)).toEqual(classifier.map((i) => `classifier.${i}.weight`));
      expect(model.layersModel.getLayer('classifier.0').getWeights()[0].shape).toEqual([flatten, 512]);
      if (config === 'C') {
        // 1×1 convs with padding 1 grow the map: 8→10, 5→7, 3→5 (docs/algorithm.md#models).
        expect(model.layersModel.getLayer('features.20').outputShape).toEqual([null, 10, 10, 256]);
        expect(model.layersModel.getLayer('features.30').outputShape).toEqual([null, 7, 7, 512]);
        expect(model.layersModel.getLayer('features.40').outputShape).toEqual([null, 5, 5, 512]);
        expect(model.variables.find((v) => v.name === 'features.20.weight')?.variable.shape).toEqual([1, 1, 256, 256]);
      } else {
        expect(model.layersModel.getLayer('features.40').outputShape).toEqual([null, 2, 2, 512]);
      }
      await checkForward(model, 1); // inference mode: BN on running statistics, batch 1 is fine
      if (config === 'C') {
        // VGG-C also works on 16×16 (16→8→4→6→3→5→2→4→2: flatten still 2048, same parameter count); its step
        // runs there to keep the test time down. D/like need 32×32 (five 2×2 pools).
        model.dispose();
        const small = createVgg16('C', { seed: 9, inputShape: [16, 16, 3] });
        expect(small.counts).toEqual(SPEC_COUNTS['vgg-c']);
        await checkTrainingStep(small, 2);
        small.dispose();
      } else {
        await checkTrainingStep(model, 2); // batch 2: BatchNorm1d needs more than one sample in training mode
        model.dispose();
      }
    });
  }
});
