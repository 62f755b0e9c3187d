#pragma once
#include "conv.h"

namespace sl {
// 2x2 max pooling with stride 2 that tiles its input exactly (LeNet-5-Caffe's two pools: 24x24 -> 12x12 over
// 20 channels, 8x8 -> 4x4 over 50), AVX-512 over channel blocks of 16 with masked tails (lenet5-step, issue 10);
// on other ISAs PoolSmallApplies is false and conv.cc's kernels run.
// Results are bit-identical to conv.cc's generic kernels: the same strict-> comparisons in row-major window
// order (the first maximum wins; NaN never wins; a window with no element above -inf routes no gradient).
// Off with SL_POOL_DIRECT=0 (read at every call: the A/B switch of benchmarks and tests).
bool PoolSmallApplies(const PoolParams& p);
void PoolSmallForward(const PoolParams& p, const float* x, float* y);
void PoolSmallGrad(const PoolParams& p, const float* x, const float* dy, float* dx);
}  // namespace sl
