// 2x2 / stride-2 max pooling and its gradient, AVX-512 over channel blocks of 16 with masked tails
// (pool_small.h). Why: conv.cc's generic tiled gradient keeps per-channel maxima and arg indices in arrays and
// took 1.6-2.2 ms at LeNet-5-Caffe's conv1 pool (100x24x24x20, one thread, measured here). Why intrinsics:
// written with GCC vector types and ?: selects, GCC 12 scalarised the gradient (8 ms instead of 0.3 at
// 100x24x24x16, measured). Other ISAs keep conv.cc's kernels (PoolSmallApplies is false there).
#include "pool_small.h"

#include <cstdlib>
#include <limits>

#include "isa_dispatch.h"
#include "thread_pool.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SL_POOL_SMALL 1
#else
#define SL_POOL_SMALL 0
#endif

namespace sl {
#if SL_POOL_SMALL
namespace {
// _CMP_GT_OQ is false for NaN, as the generic kernels' `src > best`; blend(k, best, v) = k ? v : best.
SL_TGT_AVX512 void PoolRowsAvx512(const PoolParams& p, const float* x, float* y, long b, long e) {
  const long C = p.c, rs = p.w * C;
  const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (long r = b; r < e; ++r) {
    const float* xr = x + ((r / p.oh) * p.h + 2 * (r % p.oh)) * rs;
    float* yr = y + r * p.ow * C;
    for (long ox = 0; ox < p.ow; ++ox) {
      const float* x00 = xr + 2 * ox * C;
      for (long c0 = 0; c0 < C; c0 += 16) {
        const __mmask16 m = C - c0 >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (C - c0)) - 1);
        const __m512 a = _mm512_maskz_loadu_ps(m, x00 + c0), bb = _mm512_maskz_loadu_ps(m, x00 + C + c0);
        const __m512 c = _mm512_maskz_loadu_ps(m, x00 + rs + c0), d = _mm512_maskz_loadu_ps(m, x00 + rs + C + c0);
        __m512 best = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, ninf, _CMP_GT_OQ), ninf, a);
        best = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(bb, best, _CMP_GT_OQ), best, bb);
        best = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(c, best, _CMP_GT_OQ), best, c);
        best = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(d, best, _CMP_GT_OQ), best, d);
        _mm512_mask_storeu_ps(yr + ox * C + c0, m, best);
      }
    }
  }
}

// dy routed to the first maximum of the window (strict >, row-major order a, b, c, d), 0 elsewhere.
SL_TGT_AVX512 void PoolGradRowsAvx512(const PoolParams& p, const float* x, const float* dy, float* dx, long b, long e) {
  const long C = p.c, rs = p.w * C;
  const __m512 ninf = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  for (long r = b; r < e; ++r) {
    const long off = ((r / p.oh) * p.h + 2 * (r % p.oh)) * rs;
    const float* xr = x + off;
    float* dxr = dx + off;
    const float* gr = dy + r * p.ow * C;
    for (long ox = 0; ox < p.ow; ++ox) {
      const float* x00 = xr + 2 * ox * C;
      float* d00 = dxr + 2 * ox * C;
      for (long c0 = 0; c0 < C; c0 += 16) {
        const __mmask16 m = C - c0 >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (C - c0)) - 1);
        const __m512 a = _mm512_maskz_loadu_ps(m, x00 + c0), bb = _mm512_maskz_loadu_ps(m, x00 + C + c0);
        const __m512 c = _mm512_maskz_loadu_ps(m, x00 + rs + c0), d = _mm512_maskz_loadu_ps(m, x00 + rs + C + c0);
        const __m512 g = _mm512_maskz_loadu_ps(m, gr + ox * C + c0);
        const __mmask16 ka = _mm512_cmp_ps_mask(a, ninf, _CMP_GT_OQ);
        __m512 best = _mm512_mask_blend_ps(ka, ninf, a);
        const __mmask16 kb = _mm512_cmp_ps_mask(bb, best, _CMP_GT_OQ);
        best = _mm512_mask_blend_ps(kb, best, bb);
        const __mmask16 kc = _mm512_cmp_ps_mask(c, best, _CMP_GT_OQ);
        best = _mm512_mask_blend_ps(kc, best, c);
        const __mmask16 kd = _mm512_cmp_ps_mask(d, best, _CMP_GT_OQ);
        const __mmask16 wc = kc & ~kd, wb = kb & ~(kc | kd), wa = ka & ~(kb | kc | kd);
        _mm512_mask_storeu_ps(d00 + c0, m, _mm512_maskz_mov_ps(wa, g));
        _mm512_mask_storeu_ps(d00 + C + c0, m, _mm512_maskz_mov_ps(wb, g));
        _mm512_mask_storeu_ps(d00 + rs + c0, m, _mm512_maskz_mov_ps(wc, g));
        _mm512_mask_storeu_ps(d00 + rs + C + c0, m, _mm512_maskz_mov_ps(kd, g));
      }
    }
  }
}
}  // namespace
#endif

bool PoolSmallApplies(const PoolParams& p) {
  const char* env = std::getenv("SL_POOL_DIRECT");
  if (!SL_POOL_SMALL || (env && env[0] == '0') || ActiveIsa() != Isa::kAvx512) return false;
  return p.kh == 2 && p.kw == 2 && p.sh == 2 && p.sw == 2 && p.pt == 0 && p.pl == 0 && p.h == 2 * p.oh &&
         p.w == 2 * p.ow && p.n > 0 && p.oh > 0 && p.ow > 0 && p.c > 0;
}

void PoolSmallForward(const PoolParams& p, const float* x, float* y) {
#if SL_POOL_SMALL
  Pool().Run(p.n * p.oh, [&](long b, long e) { PoolRowsAvx512(p, x, y, b, e); });
#endif
}

void PoolSmallGrad(const PoolParams& p, const float* x, const float* dy, float* dx) {
#if SL_POOL_SMALL
  Pool().Run(p.n * p.oh, [&](long b, long e) { PoolGradRowsAvx512(p, x, dy, dx, b, e); });
#endif
}
}  // namespace sl
