// Direct convolutions for one input channel (conv_small.h). Why not im2col + GEMM: LeNet-5-Caffe's conv1 has
// K = 25 and 57 600 output positions per batch of 100; its column buffer (5.8 MB) is written and read once per
// pass for a GEMM of 58 MFLOP, and the filter gradient is a GEMM with a 57 600-long reduction over that buffer.
// Measured at that shape (lenet5-step profile, one thread): forward 2.8 ms (19 GFLOP/s), filter gradient
// 2.2 ms. Here the taps stay in registers: the forward pass reads each input row from L1 and writes each output
// once; the filter gradient reads dy once per filter row and keeps a KW x 16-channel block of sums in registers.
#include "conv_small.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "isa_dispatch.h"
#include "simd_block.h"
#include "thread_pool.h"

namespace sl {
namespace {

// Output positions [ox0, ox0 + P) of one output row (image xi, row oy), channels [c0, c0 + CB): each output is
// the sum over the taps in (ky, kx) order. P positions at once give P independent FMA chains (one chain of 25
// dependent FMAs per output was latency-bound: no faster than im2col, measured).
template <int KW, int CB, int P>
SL_ALWAYS_INLINE void FwdPositions(const ConvParams& p, const float* xi, const float* f, const float* bias, float* yrow,
                                   long oy, long c0, long ox0) {
  using V = typename Block<CB>::T;
  const long co = p.co;
  V acc[P];
  const V f00 = LoadBlock<CB>(f + c0);
  for (int i = 0; i < P; ++i) acc[i] = f00 * xi[oy * p.w + ox0 + i];  // tap (0, 0)
  for (long ky = 0; ky < p.kh; ++ky) {
    const float* xr = xi + (oy + ky) * p.w + ox0;
    const float* fr = f + ky * KW * co + c0;
    for (int kx = ky == 0 ? 1 : 0; kx < KW; ++kx) {
      const V fk = LoadBlock<CB>(fr + kx * co);
      for (int i = 0; i < P; ++i) acc[i] += fk * xr[kx + i];
    }
  }
  if (bias) {
    const V bv = LoadBlock<CB>(bias + c0);
    for (int i = 0; i < P; ++i) acc[i] += bv;
  }
  for (int i = 0; i < P; ++i) StoreBlock<CB>(yrow + (ox0 + i) * co + c0, acc[i]);
}

template <int KW, int CB>
SL_ALWAYS_INLINE void FwdRowBlock(const ConvParams& p, const float* xi, const float* f, const float* bias, float* yrow,
                                  long oy, long c0) {
  long ox = 0;
  for (; ox + 8 <= p.ow; ox += 8) FwdPositions<KW, CB, 8>(p, xi, f, bias, yrow, oy, c0, ox);
  for (; ox < p.ow; ++ox) FwdPositions<KW, CB, 1>(p, xi, f, bias, yrow, oy, c0, ox);
}

// Channel blocks of 16, then 8, 4 and single channels (LeNet's 20 = 16 + 4): fixed-size blocks keep the sums
// in registers under every ISA.
template <int KW>
SL_ALWAYS_INLINE void FwdRow(const ConvParams& p, const float* xi, const float* f, const float* bias, float* yrow, long oy) {
  long c0 = 0;
  for (; c0 + 16 <= p.co; c0 += 16) FwdRowBlock<KW, 16>(p, xi, f, bias, yrow, oy, c0);
  if (p.co - c0 >= 8) FwdRowBlock<KW, 8>(p, xi, f, bias, yrow, oy, c0), c0 += 8;
  if (p.co - c0 >= 4) FwdRowBlock<KW, 4>(p, xi, f, bias, yrow, oy, c0), c0 += 4;
  for (; c0 < p.co; ++c0) FwdRowBlock<KW, 1>(p, xi, f, bias, yrow, oy, c0);
}

// Output rows [b, e) of the whole batch (row r = image r / oh, row r % oh).
SL_ALWAYS_INLINE void SmallFwdRows(const ConvParams& p, const float* x, const float* f, const float* bias, float* y,
                                   long b, long e) {
  for (long r = b; r < e; ++r) {
    const float* xi = x + (r / p.oh) * p.h * p.w;
    float* yrow = y + r * p.ow * p.co;
    const long oy = r % p.oh;
    if (p.kw == 5) FwdRow<5>(p, xi, f, bias, yrow, oy);
    else if (p.kw == 3) FwdRow<3>(p, xi, f, bias, yrow, oy);
    else FwdRow<7>(p, xi, f, bias, yrow, oy);
  }
}
SL_ISA_VARIANTS(SmallFwdRows,
                (const ConvParams& p, const float* x, const float* f, const float* bias, float* y, long b, long e),
                (p, x, f, bias, y, b, e))

// Adds one output row's contribution (image xi, row oy, its dy row) to part[(ky*KW + kx)*co + c], channels
// [c0, c0 + CB): per filter row ky, KW x CB sums over the row's ow positions in registers, then one add each.
template <int KW, int CB>
SL_ALWAYS_INLINE void FiltRowBlock(const ConvParams& p, const float* xi, const float* dyrow, float* part, long oy, long c0) {
  using V = typename Block<CB>::T;
  const long co = p.co;
  for (long ky = 0; ky < p.kh; ++ky) {
    V a[KW];
    for (int kx = 0; kx < KW; ++kx) a[kx] = V{} * 0.f;
    const float* xr = xi + (oy + ky) * p.w;
    for (long ox = 0; ox < p.ow; ++ox) {
      const V d = LoadBlock<CB>(dyrow + ox * co + c0);
      for (int kx = 0; kx < KW; ++kx) a[kx] += d * xr[ox + kx];
    }
    float* out = part + ky * KW * co + c0;
    for (int kx = 0; kx < KW; ++kx) StoreBlock<CB>(out + kx * co, LoadBlock<CB>(out + kx * co) + a[kx]);
  }
}

template <int KW>
SL_ALWAYS_INLINE void FiltRow(const ConvParams& p, const float* xi, const float* dyrow, float* part, long oy) {
  long c0 = 0;
  for (; c0 + 16 <= p.co; c0 += 16) FiltRowBlock<KW, 16>(p, xi, dyrow, part, oy, c0);
  if (p.co - c0 >= 8) FiltRowBlock<KW, 8>(p, xi, dyrow, part, oy, c0), c0 += 8;
  if (p.co - c0 >= 4) FiltRowBlock<KW, 4>(p, xi, dyrow, part, oy, c0), c0 += 4;
  for (; c0 < p.co; ++c0) FiltRowBlock<KW, 1>(p, xi, dyrow, part, oy, c0);
}

// The sums of images [n0, n1) into part (K * co floats, cleared here), rows in order.
SL_ALWAYS_INLINE void SmallFiltChunk(const ConvParams& p, const float* x, const float* dy, float* part, long n0, long n1) {
  std::memset(part, 0, p.kh * p.kw * p.co * sizeof(float));
  for (long img = n0; img < n1; ++img) {
    const float* xi = x + img * p.h * p.w;
    for (long oy = 0; oy < p.oh; ++oy) {
      const float* dyrow = dy + (img * p.oh + oy) * p.ow * p.co;
      if (p.kw == 5) FiltRow<5>(p, xi, dyrow, part, oy);
      else if (p.kw == 3) FiltRow<3>(p, xi, dyrow, part, oy);
      else FiltRow<7>(p, xi, dyrow, part, oy);
    }
  }
}
SL_ISA_VARIANTS(SmallFiltChunk, (const ConvParams& p, const float* x, const float* dy, float* part, long n0, long n1),
                (p, x, dy, part, n0, n1))
}  // namespace

bool ConvSmallApplies(const ConvParams& p) {
  const char* env = std::getenv("SL_CONV_SMALL");
  if (env && env[0] == '0') return false;
  const bool width = p.kw == 3 || p.kw == 5 || p.kw == 7;
  return p.ci == 1 && width && p.kh >= 1 && p.kh <= 7 && p.sh == 1 && p.sw == 1 && p.dh == 1 && p.dw == 1 &&
         p.pt == 0 && p.pl == 0 && p.oh == p.h - p.kh + 1 && p.ow == p.w - p.kw + 1 && p.n > 0 && p.oh > 0 &&
         p.ow > 0 && p.co > 0;
}

void ConvSmallForward(const ConvParams& p, const float* x, const float* f, float* y, const float* bias) {
  const auto rows = SmallFwdRows_for(ActiveIsa());
  Pool().Run(p.n * p.oh, [&](long b, long e) { rows(p, x, f, bias, y, b, e); });
}

void ConvSmallFilterGrad(const ConvParams& p, const float* x, const float* dy, float* df) {
  const auto chunkFn = SmallFiltChunk_for(ActiveIsa());
  const long size = p.kh * p.kw * p.co;
  const long chunks = (p.n + kSmallFilterChunk - 1) / kSmallFilterChunk;
  std::vector<float> part(chunks * size);
  // Chunks claimed one at a time (a descheduled thread's share is taken over); each chunk's sum has its own
  // slot, so which thread ran it never matters.
  const long threads = std::max(1L, std::min<long>(Pool().threads(), chunks));
  std::atomic<long> next{0};
  Pool().Run(threads, [&](long, long) {
    for (long c = next.fetch_add(1); c < chunks; c = next.fetch_add(1))
      chunkFn(p, x, dy, part.data() + c * size, c * kSmallFilterChunk, std::min(p.n, (c + 1) * kSmallFilterChunk));
  });
  for (long i = 0; i < size; ++i) {
    double s = 0.0;
    for (long c = 0; c < chunks; ++c) s += part[c * size + i];
    df[i] = static_cast<float>(s);
  }
}
}  // namespace sl
