#include "peak.h"

#include <algorithm>
#include <atomic>
#include <chrono>

#include "thread_pool.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SL_X86 1
#endif

namespace sl {
namespace {
// Each returns the FLOPs done; `iters` iterations of 12 independent accumulator chains (enough to cover
// 2 FMA ports x 4-cycle latency). The result is folded into `sink` so the loop is not optimised away.
#ifdef SL_X86
__attribute__((target("avx512f"))) double LoopAvx512(long iters, float* sink) {
  __m512 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm512_set1_ps(1.f + i * 1e-3f);
  const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) a[i] = _mm512_fmadd_ps(a[i], m, c);
  }
  __m512 s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, a[i]);
  *sink += _mm512_reduce_add_ps(s);
  return 2.0 * 16 * 12 * iters;
}
__attribute__((target("avx2,fma"))) double LoopAvx2(long iters, float* sink) {
  __m256 a[12];
  for (int i = 0; i < 12; ++i) a[i] = _mm256_set1_ps(1.f + i * 1e-3f);
  const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i) a[i] = _mm256_fmadd_ps(a[i], m, c);
  }
  __m256 s = a[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, a[i]);
  alignas(32) float t[8];
  _mm256_store_ps(t, s);
  for (float v : t) *sink += v;
  return 2.0 * 8 * 12 * iters;
}
#endif
// Baseline: SSE2 has no FMA; a multiply and an add per lane (what the generic kernels compile to).
double LoopGeneric(long iters, float* sink) {
  float a[12][4];
  for (int i = 0; i < 12; ++i)
    for (int l = 0; l < 4; ++l) a[i][l] = 1.f + i * 1e-3f + l * 1e-4f;
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; ++i)
      for (int l = 0; l < 4; ++l) a[i][l] = a[i][l] * 0.999999f + 1e-7f;
  }
  for (int i = 0; i < 12; ++i)
    for (int l = 0; l < 4; ++l) *sink += a[i][l];
  return 2.0 * 4 * 12 * iters;
}

double Loop(Isa isa, long iters, float* sink) {
#ifdef SL_X86
  if (isa == Isa::kAvx512) return LoopAvx512(iters, sink);
  if (isa == Isa::kAvx2) return LoopAvx2(iters, sink);
#endif
  return LoopGeneric(iters, sink);
}
}  // namespace

double FmaPeakGflops(Isa isa, int threads, double seconds) {
  if (static_cast<int>(isa) > static_cast<int>(DetectedIsa())) return 0.0;
  ThreadPool& pool = Pool();
  threads = std::max(1, std::min(threads, pool.threads()));
  float sink = 0.f;
  Loop(isa, 200000, &sink);  // warm up (frequency licence, page-in)
  // Calibrate one slice to ~2 ms, then take the best of several slices (a shared machine preempts some).
  long iters = 100000;
  for (;;) {
    auto t0 = std::chrono::steady_clock::now();
    Loop(isa, iters, &sink);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (s > 1e-3 || iters > (1L << 40)) {
      iters = static_cast<long>(iters * 2e-3 / std::max(s, 1e-9)) + 1;
      break;
    }
    iters *= 4;
  }
  double best = 0.0;
  const auto start = std::chrono::steady_clock::now();
  do {
    std::atomic<double> flops{0.0};
    auto t0 = std::chrono::steady_clock::now();
    pool.Run(threads, [&](long b, long e) {
      float local = 0.f;
      double f = 0.0;
      for (long i = b; i < e; ++i) f += Loop(isa, iters, &local);
      double cur = flops.load();
      while (!flops.compare_exchange_weak(cur, cur + f)) {}
      if (local == 12345.f) sink += local;  // keeps `local` alive
    });
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    best = std::max(best, flops.load() / s / 1e9);
  } while (std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() < seconds);
  return sink == 12345.f ? best + 0.0 : best;
}

}  // namespace sl
