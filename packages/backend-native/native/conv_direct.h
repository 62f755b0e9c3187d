#pragma once
#include "conv.h"

namespace sl {
// Direct (im2col-free) forward convolution, NHWC input, HWIO filter, on AVX-512 (issue 10, wrn-parity; see
// conv_direct_avx512.cc). Returns false, having written nothing, when it does not apply: the active ISA is not
// AVX-512, dilation > 1, stride > 2, or — in auto mode — a shape where im2col + GEMM measured as fast or faster
// (fewer than 16 input or 32 output channels, a 1x1 window, or output rows narrower than 16 pixels).
bool DirectConv2D(const ConvParams& p, const float* x, const float* f, float* y);
// The input gradient of a stride-1 convolution as the direct forward convolution of dy with the spatially
// flipped, in/out-swapped filter (packed straight from f). Same applicability rules, judged on that transposed
// problem (its input channels are p.co, its output rows p.w wide); false for strides > 1.
bool DirectConv2DBackpropInput(const ConvParams& p, const float* dy, const float* f, float* dx);

// kAuto: the shapes above (the default; SL_CONV_DIRECT=off|force at load overrides it); kOff: never;
// kForce: every shape it can run (tests compare it with the im2col path on odd shapes).
enum class DirectConvMode { kAuto = 0, kOff = 1, kForce = 2 };
void SetDirectConvMode(DirectConvMode mode);
DirectConvMode GetDirectConvMode();
}  // namespace sl
