// Layout conversions between tfjs's NHWC activations and the sparse kernels' channel-major layout (issue 9,
// sparse execution of BN/residual CNNs): NHWC [n][P][C] (P = h*w pixels) <-> [C][P][bp], bp = n padded to a
// multiple of 16 with zero columns. One 16 x 16 tile (16 batch rows x 16 channels of one pixel) is transposed in
// registers on AVX-512 (avx512_regs.h); AVX2 and the portable build run the same tiles as plain loops compiled
// per target (isa_dispatch.h). The variant follows ActiveIsa() like the GEMM; pixels are split over the pool.
#pragma once
#include <napi.h>

namespace sl {
namespace sparse {

// NHWC x [n][P][C] -> channel-major y [C][P][bp]; the columns n..bp of y are written as 0.
void NhwcToCm(const float* x, float* y, int n, long P, int C, int bp);
// Channel-major y [C][P][bp] -> NHWC x [n][P][C] (the padding columns are not read).
void CmToNhwc(const float* y, float* x, int n, long P, int C, int bp);

// sparseNhwcToCm(x, y, n, P, C, bp) / sparseCmToNhwc(y, x, n, P, C, bp); called from addon.cc's Init.
void RegisterTranspose(Napi::Env env, Napi::Object exports);

}  // namespace sparse
}  // namespace sl
