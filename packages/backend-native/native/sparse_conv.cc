// Dispatch and threading of the sparse convolution kernels (see sparse_conv.h). The loops live in
// sparse_conv_body.h, compiled here three times (AVX-512, AVX2+FMA, baseline) under target pragmas; the variant
// follows the sparse Dense kernels' choice (cpuid at load, SPARSE_LEARNING_SPARSE_ISA, sparseSetIsa), so one
// switch selects the instruction set of every sparse kernel.
#include "sparse_conv.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "conv.h"
#include "sparse_kernels.h"
#include "thread_pool.h"

namespace sl {
namespace sparse {

#if defined(__x86_64__) || defined(__i386__)
#define SL_SPARSE_CONV_X86 1
#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")
namespace conv_avx512 {
#define SL_SPARSE_W 16
#include "sparse_conv_body.h"
#undef SL_SPARSE_W
}  // namespace conv_avx512
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace conv_avx2 {
#define SL_SPARSE_W 8
#include "sparse_conv_body.h"
#undef SL_SPARSE_W
}  // namespace conv_avx2
#pragma GCC pop_options
#endif
namespace conv_generic {
#define SL_SPARSE_W 4
#include "sparse_conv_body.h"
#undef SL_SPARSE_W
}  // namespace conv_generic

namespace {
struct ConvTable {
  void (*forward)(const ConvLayer&, const ConvGeom&, const float*, float*, int, long, long);
  void (*backward)(const ConvLayer&, const ConvGeom&, const float*, const float*, float*, int, long, long);
  void (*wgrad)(const ConvLayer&, const ConvGeom&, const float*, const float*, float*, int, long, long);
  void (*pool)(const float*, float*, int, int, int, long, long);
  void (*poolGrad)(const float*, const float*, float*, int, int, int, bool, long, long);
};
#define SL_CONV_TABLE(ns) \
  ConvTable{ns::ForwardRange, ns::BackwardRange, ns::WeightGradRange, ns::MaxPoolRange, ns::MaxPoolGradRange}
const ConvTable kGeneric = SL_CONV_TABLE(conv_generic);
#ifdef SL_SPARSE_CONV_X86
const ConvTable kAvx2 = SL_CONV_TABLE(conv_avx2);
const ConvTable kAvx512 = SL_CONV_TABLE(conv_avx512);
#endif
#undef SL_CONV_TABLE

// The variant of the sparse Dense kernels' current choice (Isa() returns one of three literals).
const ConvTable& Current() {
#ifdef SL_SPARSE_CONV_X86
  const char* isa = Isa();
  if (std::strcmp(isa, "avx512") == 0) return kAvx512;
  if (std::strcmp(isa, "avx2") == 0) return kAvx2;
#endif
  return kGeneric;
}

// Below this many multiply-adds a kernel runs on the calling thread: waking the pool costs ~10-30 us.
constexpr double kParallelWork = 3.0e5;

// Runs fn(begin, end) over units [0, n) in `threads` ranges of about equal weight (weight(u) = nonzeros the unit
// gathers + 1 for its stores), on the pool when `work` multiply-adds are worth it.
template <typename Weight, typename Fn>
void ParallelWeighted(long n, double work, Weight weight, Fn fn) {
  const int threads = Pool().threads();
  if (threads <= 1 || work < kParallelWork || n < 2) {
    if (n > 0) fn(0, n);
    return;
  }
  std::vector<double> prefix(n + 1, 0.0);
  for (long u = 0; u < n; ++u) prefix[u + 1] = prefix[u] + weight(u) + 1.0;
  const int parts = static_cast<int>(std::min<long>(threads, n));
  std::vector<long> bounds(parts + 1, n);
  bounds[0] = 0;
  for (int t = 1; t < parts; ++t) {
    const double target = prefix[n] * t / parts;
    bounds[t] = std::max(bounds[t - 1], static_cast<long>(std::lower_bound(prefix.begin(), prefix.end(), target) - prefix.begin()));
    bounds[t] = std::min(bounds[t], n);
  }
  Pool().Run(parts, [&](long b, long e) {
    for (long t = b; t < e; ++t)
      if (bounds[t] < bounds[t + 1]) fn(bounds[t], bounds[t + 1]);
  });
}
}  // namespace

void ConvForward(const ConvLayer& L, const ConvGeom& g, const float* X, float* Y, int bp) {
  const ConvTable& t = Current();
  const double work = static_cast<double>(L.nnz) * g.oh * g.ow * bp;
  ParallelWeighted(static_cast<long>(L.cout) * g.oh, work, [&](long u) { return double(L.optr[u % L.cout + 1] - L.optr[u % L.cout]); },
                   [&](long u0, long u1) { t.forward(L, g, X, Y, bp, u0, u1); });
}

void ConvBackwardInput(const ConvLayer& L, const ConvGeom& g, const float* dY, const float* reluOf, float* dX, int bp) {
  const ConvTable& t = Current();
  const double work = static_cast<double>(L.nnz) * g.oh * g.ow * bp + static_cast<double>(L.cin) * g.h * g.w * bp;
  ParallelWeighted(static_cast<long>(L.cin) * g.h, work,
                   [&](long u) { return double(L.iptr[u % L.cin + 1] - L.iptr[u % L.cin]) / (g.sh * g.sw); },
                   [&](long u0, long u1) { t.backward(L, g, dY, reluOf, dX, bp, u0, u1); });
}

void ConvWeightGrad(const ConvLayer& L, const ConvGeom& g, const float* dY, const float* X, float* grad, int bp) {
  const ConvTable& t = Current();
  const double work = static_cast<double>(L.nnz) * g.oh * g.ow * bp;
  // Every nonzero costs about the same (one pass over the output plane): split the nonzeros evenly.
  ParallelWeighted(L.nnz, work, [](long) { return 0.0; }, [&](long k0, long k1) { t.wgrad(L, g, dY, X, grad, bp, k0, k1); });
}

void ConvWeightGradSgd(const ConvLayer& L, const ConvGeom& g, const float* dY, const float* X, int bp, const Sgd& s) {
  std::vector<float> grad(static_cast<size_t>(L.nnz));
  ConvWeightGrad(L, g, dY, X, grad.data(), bp);
  // The update is O(nnz), against O(nnz * pixels * batch) for the gradient: one thread.
  SgdApply(L.vals, L.mom, grad.data(), L.nnz, s, false);
}

void CmMaxPool2(const float* X, float* Y, int c, int h, int w, int bp) {
  const ConvTable& t = Current();
  const long rows = static_cast<long>(c) * (h / 2);
  const double work = static_cast<double>(c) * h * w * bp;
  ParallelWeighted(rows, work, [](long) { return 0.0; }, [&](long r0, long r1) { t.pool(X, Y, h, w, bp, r0, r1); });
}

void CmMaxPool2Grad(const float* X, const float* dY, float* dX, int c, int h, int w, int bp, bool relu) {
  const ConvTable& t = Current();
  const double work = static_cast<double>(c) * h * w * bp;
  // Ranges must not split a window's row pair (the even row writes both): split by channel, h rows each.
  ParallelWeighted(c, work, [](long) { return 0.0; },
                   [&](long c0, long c1) { t.poolGrad(X, dY, dX, h, w, bp, relu, c0 * h, c1 * h); });
}

void RowSums(const float* x, long rows, long cols, float* out) {
  ParallelWeighted(rows, static_cast<double>(rows) * cols, [](long) { return 0.0; }, [&](long r0, long r1) {
    for (long r = r0; r < r1; ++r) {
      const float* row = x + r * cols;
      double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      long i = 0;
      for (; i + 4 <= cols; i += 4) a0 += row[i], a1 += row[i + 1], a2 += row[i + 2], a3 += row[i + 3];
      for (; i < cols; ++i) a0 += row[i];
      out[r] = static_cast<float>((a0 + a1) + (a2 + a3));
    }
  });
}

void ConvDenseFilterGrad(const ConvLayer& L, const ConvGeom& g, const float* dY, const float* X, float* dW, int bp,
                         int batch) {
  // [C][H][W][bp] -> NHWC of the real batch, then the dense im2col + GEMM filter gradient (HWIO).
  auto toNhwc = [&](const float* src, long c, long h, long w, std::vector<float>& dst) {
    dst.resize(static_cast<size_t>(batch) * h * w * c);
    Pool().Run(batch, [&](long b0, long b1) {
      for (long n = b0; n < b1; ++n)
        for (long p = 0; p < h * w; ++p) {
          float* d = dst.data() + (n * h * w + p) * c;
          for (long ch = 0; ch < c; ++ch) d[ch] = src[(ch * h * w + p) * bp + n];
        }
    });
  };
  std::vector<float> x, dy;
  toNhwc(X, L.cin, g.h, g.w, x);
  toNhwc(dY, L.cout, g.oh, g.ow, dy);
  const ConvParams p{batch, g.h, g.w, L.cin, L.kh, L.kw, L.cout, g.oh, g.ow, g.sh, g.sw, 1, 1, g.pt, g.pl};
  Conv2DBackpropFilter(p, x.data(), dy.data(), dW);
}

}  // namespace sparse
}  // namespace sl
