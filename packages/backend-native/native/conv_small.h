#pragma once
#include "conv.h"

namespace sl {
// Direct convolutions for one input channel (LeNet-5-Caffe's conv1: 1 -> 20 channels, 5x5, 28x28 -> 24x24),
// where im2col + GEMM is a tall, thin product (K = 25) that spends its time writing and re-reading the column
// buffer. Vectorised over output channels, taps in registers (lenet5-step, issue 10).
//
// Applies to ci == 1, stride 1, no dilation, no padding ('valid'), a square or rectangular window of width 3,
// 5 or 7 and height <= 7 — and only when SL_CONV_SMALL is not "0" (read at every call: the A/B switch of the
// benchmarks and the tests). Every other shape returns false and runs the im2col path.
bool ConvSmallApplies(const ConvParams& p);
// y = conv(x, f) (+ bias[c] when bias is not null), the same layout as Conv2D. Each output element is the sum
// over the taps in (ky, kx) order, then + bias (the rounding of conv then a separate bias pass), computed by
// one thread: the result does not depend on the thread count.
void ConvSmallForward(const ConvParams& p, const float* x, const float* f, float* y, const float* bias = nullptr);
// df = the filter gradient, the same layout as Conv2DBackpropFilter. Images are summed in fixed chunks of
// kSmallFilterChunk images (float, in order inside a chunk), the chunk sums added in chunk order in double:
// the result depends neither on the thread count nor on timing.
void ConvSmallFilterGrad(const ConvParams& p, const float* x, const float* dy, float* df);
constexpr long kSmallFilterChunk = 4;
}  // namespace sl
