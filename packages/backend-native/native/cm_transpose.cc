// See cm_transpose.h.
#include "cm_transpose.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "avx512_regs.h"
#include "cpu_isa.h"
#include "isa_dispatch.h"
#include "thread_pool.h"

namespace sl {
namespace sparse {
namespace {

// Portable tile loops (vectorised per target by SL_ISA_VARIANTS): pixels [p0, p1).
SL_ALWAYS_INLINE void ToCmLoop(const float* x, float* y, int n, long P, int C, int bp, long p0, long p1) {
  for (long p = p0; p < p1; ++p) {
    for (int c0 = 0; c0 < C; c0 += 16) {
      const int cn = std::min(16, C - c0);
      for (int b0 = 0; b0 < bp; b0 += 16) {
        const int bn = std::max(0, std::min(16, n - b0));
        for (int c = 0; c < cn; ++c) {
          float* d = y + (static_cast<long>(c0 + c) * P + p) * bp + b0;
          for (int b = 0; b < bn; ++b) d[b] = x[(static_cast<long>(b0 + b) * P + p) * C + c0 + c];
          for (int b = bn; b < 16; ++b) d[b] = 0.f;
        }
      }
    }
  }
}
SL_ISA_VARIANTS(ToCmLoop, (const float* x, float* y, int n, long P, int C, int bp, long p0, long p1), (x, y, n, P, C, bp, p0, p1))

SL_ALWAYS_INLINE void ToNhwcLoop(const float* y, float* x, int n, long P, int C, int bp, long p0, long p1) {
  for (long p = p0; p < p1; ++p) {
    for (int b0 = 0; b0 < n; b0 += 16) {
      const int bn = std::min(16, n - b0);
      for (int c0 = 0; c0 < C; c0 += 16) {
        const int cn = std::min(16, C - c0);
        for (int b = 0; b < bn; ++b) {
          float* d = x + (static_cast<long>(b0 + b) * P + p) * C + c0;
          for (int c = 0; c < cn; ++c) d[c] = y[(static_cast<long>(c0 + c) * P + p) * bp + b0 + b];
        }
      }
    }
  }
}
SL_ISA_VARIANTS(ToNhwcLoop, (const float* y, float* x, int n, long P, int C, int bp, long p0, long p1), (y, x, n, P, C, bp, p0, p1))

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
// 16 batch rows x 16 channels of one pixel, loaded with lane masks for the channel tail and zero rows past n,
// transposed in registers, stored as 16 channel rows of 16 batch columns (bp is a multiple of 16).
SL_AVX512_TARGET void ToCmAvx512(const float* x, float* y, int n, long P, int C, int bp, long p0, long p1) {
  __m512 r[16];
  for (long p = p0; p < p1; ++p) {
    for (int c0 = 0; c0 < C; c0 += 16) {
      const int cn = std::min(16, C - c0);
      const __mmask16 m = avx512::LowMask(cn);
      for (int b0 = 0; b0 < bp; b0 += 16) {
        for (int b = 0; b < 16; ++b)
          r[b] = b0 + b < n ? _mm512_maskz_loadu_ps(m, x + (static_cast<long>(b0 + b) * P + p) * C + c0) : _mm512_setzero_ps();
        avx512::Transpose16(r);
        for (int c = 0; c < cn; ++c) _mm512_storeu_ps(y + (static_cast<long>(c0 + c) * P + p) * bp + b0, r[c]);
      }
    }
  }
}

SL_AVX512_TARGET void ToNhwcAvx512(const float* y, float* x, int n, long P, int C, int bp, long p0, long p1) {
  __m512 r[16];
  for (long p = p0; p < p1; ++p) {
    for (int b0 = 0; b0 < n; b0 += 16) {
      const int bn = std::min(16, n - b0);
      for (int c0 = 0; c0 < C; c0 += 16) {
        const int cn = std::min(16, C - c0);
        const __mmask16 m = avx512::LowMask(cn);
        for (int c = 0; c < 16; ++c)
          r[c] = c < cn ? _mm512_loadu_ps(y + (static_cast<long>(c0 + c) * P + p) * bp + b0) : _mm512_setzero_ps();
        avx512::Transpose16(r);
        for (int b = 0; b < bn; ++b) _mm512_mask_storeu_ps(x + (static_cast<long>(b0 + b) * P + p) * C + c0, m, r[b]);
      }
    }
  }
}
#endif

// Pixels per task: enough work per range that the pool's hand-off stays negligible.
long Grain(long P, int C, int bp) { return std::max<long>(1, 65536 / std::max<long>(1, static_cast<long>(C) * bp)); }

}  // namespace

void NhwcToCm(const float* x, float* y, int n, long P, int C, int bp) {
  const Isa isa = ActiveIsa();
  Pool().Run(P, [&](long p0, long p1) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (isa == Isa::kAvx512) return ToCmAvx512(x, y, n, P, C, bp, p0, p1);
#endif
    ToCmLoop_for(isa)(x, y, n, P, C, bp, p0, p1);
  }, Grain(P, C, bp));
}

void CmToNhwc(const float* y, float* x, int n, long P, int C, int bp) {
  const Isa isa = ActiveIsa();
  Pool().Run(P, [&](long p0, long p1) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (isa == Isa::kAvx512) return ToNhwcAvx512(y, x, n, P, C, bp, p0, p1);
#endif
    ToNhwcLoop_for(isa)(y, x, n, P, C, bp, p0, p1);
  }, Grain(P, C, bp));
}

namespace {
float* F32(const Napi::Value& v, const char* name, size_t minLength) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(v.Env(), std::string(name) + " must be a Float32Array");
  Napi::Float32Array a = v.As<Napi::Float32Array>();
  if (a.ElementLength() < minLength) throw Napi::RangeError::New(v.Env(), std::string(name) + " is too short");
  return a.Data();
}

// (src, dst, n, P, C, bp): checks the sizes once, then converts.
Napi::Value Convert(const Napi::CallbackInfo& info, bool toCm) {
  Napi::Env env = info.Env();
  for (int i = 2; i < 6; ++i)
    if (!info[i].IsNumber()) throw Napi::TypeError::New(env, "transpose: n, P, C, bp must be numbers");
  const int n = info[2].As<Napi::Number>().Int32Value();
  const long P = info[3].As<Napi::Number>().Int64Value();
  const int C = info[4].As<Napi::Number>().Int32Value(), bp = info[5].As<Napi::Number>().Int32Value();
  if (n < 1 || P < 1 || C < 1 || bp < n || bp % 16 != 0)
    throw Napi::RangeError::New(env, "transpose: needs n >= 1, P >= 1, C >= 1, bp >= n and a multiple of 16");
  const size_t nhwc = size_t(n) * P * C, cm = size_t(C) * P * bp;
  if (toCm) NhwcToCm(F32(info[0], "x", nhwc), F32(info[1], "y", cm), n, P, C, bp);
  else CmToNhwc(F32(info[0], "y", cm), F32(info[1], "x", nhwc), n, P, C, bp);
  return env.Undefined();
}
}  // namespace

void RegisterTranspose(Napi::Env env, Napi::Object exports) {
  exports.Set("sparseNhwcToCm", Napi::Function::New(env, [](const Napi::CallbackInfo& info) { return Convert(info, true); }));
  exports.Set("sparseCmToNhwc", Napi::Function::New(env, [](const Napi::CallbackInfo& info) { return Convert(info, false); }));
}

}  // namespace sparse
}  // namespace sl
