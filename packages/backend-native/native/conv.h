#pragma once
namespace sl {
// NHWC input [N,H,W,Ci], HWIO filter [KH,KW,Ci,Co], output [N,OH,OW,Co]; explicit padding (top, left).
struct ConvParams {
  long n, h, w, ci, kh, kw, co, oh, ow, sh, sw, dh, dw, pt, pl;
};
// Column-buffer chunking of the im2col convolutions: at least minRows GEMM rows per chunk, at most maxColFloats
// column floats unless that needs fewer rows; an image over the cap is split by output rows. 0 = the default
// (512 rows, 256 Ki floats, or SL_CONV_MIN_ROWS / SL_CONV_MAX_COLS). Not thread-safe against running convolutions.
void SetConvChunking(long minRows, long maxColFloats);
void Conv2D(const ConvParams& p, const float* x, const float* f, float* y);
void Conv2DBackpropInput(const ConvParams& p, const float* dy, const float* f, float* dx);
void Conv2DBackpropFilter(const ConvParams& p, const float* x, const float* dy, float* df);

// Max pooling, NHWC, window [kh,kw] (no dilation), explicit padding (top, left).
struct PoolParams {
  long n, h, w, c, kh, kw, oh, ow, sh, sw, pt, pl;
};
void MaxPool(const PoolParams& p, const float* x, float* y);
// Gradient: routes dy to the first maximum of each window in row-major window order (as tfjs-backend-cpu).
void MaxPoolGrad(const PoolParams& p, const float* x, const float* dy, float* dx);
// In place: out[r, c] += bias[c] (bias of length channels, or 1: broadcast; null: none), then the activation
// (0 linear, 1 relu, 2 relu6; relu keeps NaN as tfjs does). Rows are split over the pool's threads.
void BiasActivation(float* out, long rows, long channels, const float* bias, long biasLen, int activation);
// out[c] = sum over r of x[r, c] for a row-major [rows, cols] x (a reduction over leading axes, e.g. the bias
// gradient of a conv/dense layer), accumulated in double. Single-threaded (memory-bound).
void SumLeading(const float* x, long rows, long cols, float* out);
}  // namespace sl
