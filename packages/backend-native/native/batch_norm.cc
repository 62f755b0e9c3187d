// Native batch norm for training (issue 10): WRN-16-8 ran its 13 batch norms as ~45 tfjs kernels each
// (moments, the normalisation, tfjs's FusedBatchNorm gradient with tiles and broadcasts, single-threaded wasm),
// about a third of the non-convolution time of a step (BENCHMARKS.md). Here: two passes forward (sums, output)
// and two backward (sums, dx), each split by rows over the pool.
#include "batch_norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "isa_dispatch.h"
#include "thread_pool.h"

namespace sl {
namespace {
// Below this many elements a second thread costs more than it saves (a hand-off is ~10-50 us).
constexpr long kMinParallel = 1L << 16;

long ThreadsFor(long rows, long channels) {
  if (rows * channels < kMinParallel) return 1;
  return std::max(1L, std::min<long>(Pool().threads(), rows));
}

// Shifted sums over rows [b, e): s1 += x - k, s2 += (x - k)^2 with k = x[0, c] (the shift keeps the one-pass
// variance exact enough in double even when |mean| >> std).
SL_ALWAYS_INLINE void SumsRows(const float* x, long channels, const float* shift, long b, long e, double* s1,
                               double* s2) {
  for (long c = 0; c < channels; ++c) s1[c] = s2[c] = 0.0;
  for (long r = b; r < e; ++r) {
    const float* xr = x + r * channels;
    for (long c = 0; c < channels; ++c) {
      const double d = static_cast<double>(xr[c]) - static_cast<double>(shift[c]);
      s1[c] += d;
      s2[c] += d * d;
    }
  }
}
SL_ISA_VARIANTS(SumsRows, (const float* x, long channels, const float* shift, long b, long e, double* s1, double* s2),
                (x, channels, shift, b, e, s1, s2))

SL_ALWAYS_INLINE void NormaliseRows(const float* x, long channels, const float* mean, const float* scale,
                                    const float* beta, long b, long e, float* y) {
  for (long r = b; r < e; ++r) {
    const float* __restrict xr = x + r * channels;
    float* __restrict yr = y + r * channels;
    for (long c = 0; c < channels; ++c) yr[c] = (xr[c] - mean[c]) * scale[c] + beta[c];
  }
}
SL_ISA_VARIANTS(NormaliseRows, (const float* x, long channels, const float* mean, const float* scale,
                                const float* beta, long b, long e, float* y),
                (x, channels, mean, scale, beta, b, e, y))

// s1 += dy, s2 += dy * (x - mean) over rows [b, e).
SL_ALWAYS_INLINE void GradSumsRows(const float* dy, const float* x, long channels, const float* mean, long b, long e,
                                   double* s1, double* s2) {
  for (long c = 0; c < channels; ++c) s1[c] = s2[c] = 0.0;
  for (long r = b; r < e; ++r) {
    const float* dr = dy + r * channels;
    const float* xr = x + r * channels;
    for (long c = 0; c < channels; ++c) {
      const double g = dr[c];
      s1[c] += g;
      s2[c] += g * (static_cast<double>(xr[c]) - static_cast<double>(mean[c]));
    }
  }
}
SL_ISA_VARIANTS(GradSumsRows, (const float* dy, const float* x, long channels, const float* mean, long b, long e,
                               double* s1, double* s2),
                (dy, x, channels, mean, b, e, s1, s2))

// dx = a * (dy - b - (x - mean) * k), per-channel a, b, k.
SL_ALWAYS_INLINE void GradRows(const float* dy, const float* x, long channels, const float* mean, const float* a,
                               const float* bb, const float* k, long b, long e, float* dx) {
  for (long r = b; r < e; ++r) {
    const float* __restrict dr = dy + r * channels;
    const float* __restrict xr = x + r * channels;
    float* __restrict o = dx + r * channels;
    for (long c = 0; c < channels; ++c) o[c] = a[c] * (dr[c] - bb[c] - (xr[c] - mean[c]) * k[c]);
  }
}
SL_ISA_VARIANTS(GradRows, (const float* dy, const float* x, long channels, const float* mean, const float* a,
                           const float* bb, const float* k, long b, long e, float* dx),
                (dy, x, channels, mean, a, bb, k, b, e, dx))

// Runs body(t, rowBegin, rowEnd) for t in [0, threads) in one parallel region.
template <typename F>
void ForRowRanges(long rows, long threads, F&& body) {
  if (threads <= 1) {
    body(0L, 0L, rows);
    return;
  }
  Pool().Run(threads, [&](long tb, long te) {
    for (long t = tb; t < te; ++t) body(t, rows * t / threads, rows * (t + 1) / threads);
  });
}
}  // namespace

void BatchNormTrainForward(const float* x, long rows, long channels, const float* gamma, const float* beta, float eps,
                           float* y, float* mean, float* var, float* invStd) {
  const long threads = ThreadsFor(rows, channels);
  const Isa isa = ActiveIsa();
  std::vector<float> shift(channels, 0.f);
  if (rows > 0) std::copy(x, x + channels, shift.begin());
  std::vector<double> partial(2 * threads * channels);
  const auto sums = SumsRows_for(isa);
  ForRowRanges(rows, threads, [&](long t, long b, long e) {
    sums(x, channels, shift.data(), b, e, partial.data() + 2 * t * channels, partial.data() + (2 * t + 1) * channels);
  });
  std::vector<float> scale(channels), offset(channels);
  for (long c = 0; c < channels; ++c) {
    double s1 = 0.0, s2 = 0.0;
    for (long t = 0; t < threads; ++t) {
      s1 += partial[2 * t * channels + c];
      s2 += partial[(2 * t + 1) * channels + c];
    }
    const double n = static_cast<double>(std::max(1L, rows));
    const double m = s1 / n;
    const double v = std::max(0.0, s2 / n - m * m);  // E[(x-k)^2] - (E[x-k])^2: the biased variance
    const double inv = 1.0 / std::sqrt(v + static_cast<double>(eps));
    mean[c] = static_cast<float>(static_cast<double>(shift[c]) + m);
    var[c] = static_cast<float>(v);
    invStd[c] = static_cast<float>(inv);
    scale[c] = static_cast<float>((gamma ? static_cast<double>(gamma[c]) : 1.0) * inv);
    offset[c] = beta ? beta[c] : 0.f;
  }
  const auto norm = NormaliseRows_for(isa);
  ForRowRanges(rows, threads, [&](long, long b, long e) { norm(x, channels, mean, scale.data(), offset.data(), b, e, y); });
}

void BatchNormTrainBackward(const float* dy, const float* x, long rows, long channels, const float* mean,
                            const float* invStd, const float* gamma, float* dx, float* dgamma, float* dbeta) {
  const long threads = ThreadsFor(rows, channels);
  const Isa isa = ActiveIsa();
  std::vector<double> partial(2 * threads * channels);
  const auto sums = GradSumsRows_for(isa);
  ForRowRanges(rows, threads, [&](long t, long b, long e) {
    sums(dy, x, channels, mean, b, e, partial.data() + 2 * t * channels, partial.data() + (2 * t + 1) * channels);
  });
  std::vector<float> a(channels), bb(channels), k(channels);
  const double n = static_cast<double>(std::max(1L, rows));
  for (long c = 0; c < channels; ++c) {
    double sdy = 0.0, sdyx = 0.0;
    for (long t = 0; t < threads; ++t) {
      sdy += partial[2 * t * channels + c];
      sdyx += partial[(2 * t + 1) * channels + c];
    }
    const double inv = invStd[c];
    const double g = gamma ? static_cast<double>(gamma[c]) : 1.0;
    if (dbeta) dbeta[c] = static_cast<float>(sdy);
    if (dgamma) dgamma[c] = static_cast<float>(sdyx * inv);
    a[c] = static_cast<float>(g * inv);
    bb[c] = static_cast<float>(sdy / n);
    k[c] = static_cast<float>(inv * inv * sdyx / n);
  }
  if (!dx) return;
  const auto grad = GradRows_for(isa);
  ForRowRanges(rows, threads, [&](long, long b, long e) {
    grad(dy, x, channels, mean, a.data(), bb.data(), k.data(), b, e, dx);
  });
}

}  // namespace sl
