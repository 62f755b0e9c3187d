// Truly sparse 2-D convolution kernels (issue 9, "sparse convolution where it pays"). Only the active filter
// entries are stored and touched: per layer a list of (input channel, tap) entries grouped by output channel
// (forward, weight gradient at the nonzeros) and an index by input channel with a permutation into the same
// value slots (input gradient), so one value array serves both directions.
//
// Activations are channel-major with the batch innermost: [C][H][W][bp], bp = the batch padded to a multiple of
// 16 floats (as the sparse Dense kernels). A nonzero w(o, c, ky, kx) applied to a run of P output pixels of one
// row is then P contiguous FMAs of bp floats (stride 1: one contiguous span of P*bp floats), accumulated in
// registers, so these kernels stream activation rows instead of doing index arithmetic per multiply-add.
// Stride (sh, sw) >= 1 and explicit top/left padding (which covers TF's 'valid' and 'same'); no dilation.
#pragma once
#include <cstdint>

#include "sparse_kernels.h"

namespace sl {
namespace sparse {

// One sparse conv layer: filter of dense shape [kh][kw][cin][cout] (tfjs HWIO), nnz active entries.
struct ConvLayer {
  int cin = 0, cout = 0, kh = 0, kw = 0;
  long nnz = 0;
  // By output channel: the entries of output o are optr[o]..optr[o+1]; chan = input channel, tap = ky*kw + kx;
  // sorted by (chan, tap) within an output.
  const int32_t* optr = nullptr;
  const int32_t* chan = nullptr;
  const int32_t* tap = nullptr;
  float* vals = nullptr;  // [nnz] weights
  float* mom = nullptr;   // [nnz] momentum per nonzero (may be null)
  // By input channel: the entries of input c are iptr[c]..iptr[c+1]; ochan = output channel, perm = slot in
  // the by-output order (the tap and value are read through it).
  const int32_t* iptr = nullptr;
  const int32_t* ochan = nullptr;
  const int32_t* perm = nullptr;
  float* bias = nullptr;  // [cout] or null
  bool relu = false;
};

// Spatial geometry of one call: input h x w, output oh x ow, strides, top/left padding.
struct ConvGeom {
  int h = 0, w = 0, oh = 0, ow = 0, sh = 1, sw = 1, pt = 0, pl = 0;
};

// Y[o][oy][ox][:] = act(bias[o] + sum over entries (c, ky, kx) of o of w * X[c][oy*sh+ky-pt][ox*sw+kx-pl][:])
// (zero outside the input). X: [cin][h][w][bp], Y: [cout][oh][ow][bp].
void ConvForward(const ConvLayer& L, const ConvGeom& g, const float* X, float* Y, int bp);
// dX = the transposed convolution of dY with the sparse filter, times (reluOf > 0) when reluOf is not null.
// dY: [cout][oh][ow][bp], dX (and reluOf): [cin][h][w][bp]; every element of dX is written.
void ConvBackwardInput(const ConvLayer& L, const ConvGeom& g, const float* dY, const float* reluOf, float* dX, int bp);
// Weight gradient at the nonzeros only: grad[k] = sum over pixels and batch of dY[o] * shifted X[chan[k]].
void ConvWeightGrad(const ConvLayer& L, const ConvGeom& g, const float* dY, const float* X, float* grad, int bp);
// Weight gradient at the nonzeros followed by the SGD update of the nonzeros (vals, and mom when mu > 0) with the
// Dense kernels' arithmetic (sparse_kernels.h Sgd: PyTorch semantics, tfjs operation order, no FMA contraction).
void ConvWeightGradSgd(const ConvLayer& L, const ConvGeom& g, const float* dY, const float* X, int bp, const Sgd& s);
// Dense filter gradient dW[kh][kw][cin][cout] (HWIO) of the first `batch` columns, for the dense-gradient window
// of momentum/gradient growth: transposes to NHWC and runs the addon's dense im2col + GEMM filter gradient.
void ConvDenseFilterGrad(const ConvLayer& L, const ConvGeom& g, const float* dY, const float* X, float* dW, int bp,
                         int batch);

// 2x2 max pooling with stride 2 ('valid': oh = h/2, ow = w/2 rounded down) on channel-major activations
// X [c][h][w][bp] -> Y [c][oh][ow][bp], for the pooling between sparse conv layers (LeNet-5).
void CmMaxPool2(const float* X, float* Y, int c, int h, int w, int bp);
// Its gradient: dY routed to the first maximum of each window in row-major order (tfjs's rule), every element
// of dX [c][h][w][bp] written (rows/columns outside the windows get 0). relu: X is a ReLU output and the
// ReLU's derivative is fused (nothing is routed where the window's maximum is 0).
void CmMaxPool2Grad(const float* X, const float* dY, float* dX, int c, int h, int w, int bp, bool relu);

// out[r] = sum of x[r][0 .. cols) for a row-major [rows][cols] x, accumulated in double (the bias gradient of a
// conv layer from its [cout][oh*ow*bp] output gradient). Rows are split over the pool's threads.
void RowSums(const float* x, long rows, long cols, float* out);

}  // namespace sparse
}  // namespace sl
