import { beforeAll, describe, expect, it } from 'vitest';
import { heNormalFanInStd, heNormalFanOutStd } from './init.js';
import { createResNet50 } from './resnet50.js';
import { SPEC_COUNTS } from './test-support/spec-table.js';
import { useWasmWithCompositeKernels } from './test-support/fast-backend.js';
import { checkForward, checkTrainingStep, checkZooModel } from './test-support/zoo-checks.js';

function sampleStd(values: ArrayLike<number>): number {
  let s = 0;
  let q = 0;
  for (let i = 0; i < values.length; i++) {
    s += values[i];
    q += values[i] * values[i];
  }
  const m = s / values.length;
  return Math.sqrt(q / values.length - m * m);
}

describe('ResNet-50 (docs/algorithm.md#models)', () => {
  // The training step runs on wasm with backend-native's kernels: tfjs-cpu's filter gradient is a naive loop.
  beforeAll(useWasmWithCompositeKernels);

  it('the real 224×224 model: spec counts, per-group breakdown, torchvision names, fan-out init', () => {
    const model = createResNet50({ seed: 50 });
    checkZooModel(model, 'resnet50');
    expect(model.layersModel.outputs[0].shape).toEqual([null, 1000]);
    expect(model.layersModel.getLayer('conv1').outputShape).toEqual([null, 112, 112, 64]);
    expect(model.layersModel.getLayer('layer4.2.conv3').outputShape).toEqual([null, 7, 7, 2048]);
    const masked = model.variables.filter((v) => v.prunable);
    expect(masked.length).toBe(54); // 53 convs + fc
    const sum = (pred: (name: string, shape: number[]) => boolean) =>
      masked.filter((v) => pred(v.name, v.variable.shape)).reduce((a, v) => a + v.variable.size, 0);
    expect(sum((n) => n === 'conv1.weight')).toBe(9_408);
    expect(sum((n) => n.includes('downsample'))).toBe(2_768_896);
    expect(sum((n, s) => n.startsWith('layer') && !n.includes('downsample') && s[0] === 1)).toBe(9_359_360);
    expect(sum((_, s) => s[0] === 3)).toBe(11_317_248);
    expect(sum((n) => n === 'fc.weight')).toBe(2_048_000);
    const names = model.variables.map((v) => v.name);
    expect(names.slice(0, 3)).toEqual(['conv1.weight', 'bn1.weight', 'bn1.bias']);
    const l1 = names.filter((n) => n.startsWith('layer1.0.'));
    expect(l1.slice(0, 13)).toEqual([
      'layer1.0.conv1.weight',
      'layer1.0.bn1.weight',
      'layer1.0.bn1.bias',
      'layer1.0.conv2.weight',
      'layer1.0.bn2.weight',
      'layer1.0.bn2.bias',
      'layer1.0.conv3.weight',
      'layer1.0.bn3.weight',
      'layer1.0.bn3.bias',
      'layer1.0.downsample.0.weight',
      'layer1.0.downsample.1.weight',
      'layer1.0.downsample.1.bias',
      'layer1.0.bn1.running_mean',
    ]);
    for (const stage of [1, 2, 3, 4]) expect(names).toContain(`layer${stage}.0.downsample.0.weight`);
    expect(names.filter((n) => n.includes('downsample.0.weight')).length).toBe(4);
    expect(names.filter((n) => n.endsWith('.bias') && !n.includes('bn') && !n.includes('downsample'))).toEqual(['fc.bias']);
    const w = model.variables.find((v) => v.name === 'layer4.0.conv2.weight')?.variable.dataSync() ?? [];
    expect(sampleStd(w) / heNormalFanOutStd(3, 512)).toBeCloseTo(1, 1);
    model.dispose();
  });

  it('fan-in init variant (tuned NVIDIA model): std √(2/fan_in)', () => {
    const model = createResNet50({ seed: 51, init: 'fan-in', inputShape: [32, 32, 3] });
    const w = model.variables.find((v) => v.name === 'layer3.1.conv1.weight')?.variable.dataSync() ?? [];
    expect(sampleStd(w) / heNormalFanInStd(1, 1024)).toBeCloseTo(1, 1);
    model.dispose();
  });

  it('forward at 64×64 (batch 1) and one SGD step at 32×32 (batch 2) on wasm', async () => {
    const forward = createResNet50({ seed: 52, inputShape: [64, 64, 3] });
    expect(forward.counts).toEqual(SPEC_COUNTS.resnet50);
    await checkForward(forward, 1);
    forward.dispose();
    const small = createResNet50({ seed: 52, inputShape: [32, 32, 3] });
    await checkTrainingStep(small, 2);
    small.dispose();
  });
});
