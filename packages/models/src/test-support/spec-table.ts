/** TEST SUPPORT ONLY: the docs/algorithm.md#models table, typed in by hand (independent of `registry.ts`). */
export const SPEC_COUNTS: Readonly<Record<string, { masked: number; total: number }>> = {
  'lenet300-100': { masked: 266_200, total: 266_610 },
  lenet5: { masked: 430_500, total: 431_080 },
  'alexnet-s': { masked: 5_066_784, total: 5_077_066 },
  'alexnet-b': { masked: 8_484_896, total: 8_501_322 },
  'vgg-c': { masked: 11_307_712, total: 11_323_466 },
  'vgg-d': { masked: 15_239_872, total: 15_255_626 },
  'vgg-like': { masked: 14_977_728, total: 14_991_946 },
  'wrn-16-8': { masked: 10_954_160, total: 10_961_370 },
  'wrn-16-10': { masked: 17_107_632, total: 17_116_634 },
  'wrn-22-8': { masked: 17_147_312, total: 17_158_106 },
  'wrn-28-2': { masked: 1_463_984, total: 1_467_610 },
  resnet50: { masked: 25_502_912, total: 25_557_032 },
  // Not in docs/algorithm.md#models: SET's MLP (issue 9), 784·4000 + 4000·1000 + 1000·4000 + 4000·10 weights + 9,010 biases.
  'set-mlp': { masked: 11_176_000, total: 11_185_010 },
  'dsr-mnist-mlp': { masked: 266_200, total: 267_020 },
};
