// GEMM (issue 10): the project's own packed kernel in three ISA variants chosen at load time (cpu_isa.h), and
// OpenBLAS (loaded at run time, blas_loader.h) where it is faster -- decided per shape by timing both the first
// time a shape is seen, so an OPENBLAS_CORETYPE that pins an older kernel set, or a machine where our kernel is
// the faster one, picks the right code without configuration.
//
// Own kernels: BLIS-style packing (transposes are absorbed by the packing, so all four transpose combinations
// run at the same speed) around a register-blocked micro-kernel:
//   avx512   14 x 32  gemm_avx512.cc (its own packing, blocking, edge kernels and threading)
//   avx2      6 x 16  (12 ymm accumulators; B in KC x NR slivers, A in MR x KC slivers, below)
//   generic   4 x 8   (4-lane vector extensions: SSE2 on x86-64, NEON on arm64; scalar elsewhere)
// The micro-kernels carry per-function target attributes, so the file is compiled for baseline x86-64 and the
// AVX-512 code only runs where cpuid says it can.
#include "gemm.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "blas_loader.h"
#include "cpu_isa.h"
#include "gemm_avx512.h"
#include "thread_pool.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>
#define SL_X86 1
#define SL_TARGET_AVX2 __attribute__((target("avx2,fma")))
#endif

namespace sl {
thread_local int SerialGemmScope::depth_ = 0;


namespace {

// ------------------------------------------------------------------------------------------------ packing
// Packs op(A)[i0:i0+mc, k0:k0+kc] into MR-row slivers (dst[k*MR + r]), zero-padded at the bottom edge.
template <long MR>
void PackA(const float* A, long lda, bool t, long i0, long mc, long k0, long kc, float* out) {
  for (long ir = 0; ir < mc; ir += MR) {
    const long rows = std::min(MR, mc - ir);
    float* dst = out + ir * kc;
    if (!t) {
      for (long r = 0; r < rows; ++r) {
        const float* src = A + (i0 + ir + r) * lda + k0;
        for (long k = 0; k < kc; ++k) dst[k * MR + r] = src[k];
      }
    } else {
      for (long k = 0; k < kc; ++k) {
        const float* src = A + (k0 + k) * lda + i0 + ir;
        for (long r = 0; r < rows; ++r) dst[k * MR + r] = src[r];
      }
    }
    for (long r = rows; r < MR; ++r)
      for (long k = 0; k < kc; ++k) dst[k * MR + r] = 0.f;
  }
}

// Packs op(B)[k0:k0+kc, j0:j0+nc] into NR-column slivers (dst[k*NR + c]), zero-padded at the right edge.
template <long NR>
void PackB(const float* B, long ldb, bool t, long k0, long kc, long j0, long nc, float* out) {
  for (long jr = 0; jr < nc; jr += NR) {
    const long cols = std::min(NR, nc - jr);
    float* dst = out + jr * kc;
    if (!t) {
      for (long k = 0; k < kc; ++k) {
        const float* src = B + (k0 + k) * ldb + j0 + jr;
        float* d = dst + k * NR;
        std::memcpy(d, src, cols * sizeof(float));
        for (long c = cols; c < NR; ++c) d[c] = 0.f;
      }
    } else {
      for (long c = 0; c < cols; ++c) {
        const float* src = B + (j0 + jr + c) * ldb + k0;
        for (long k = 0; k < kc; ++k) dst[k * NR + c] = src[k];
      }
      for (long c = cols; c < NR; ++c)
        for (long k = 0; k < kc; ++k) dst[k * NR + c] = 0.f;
    }
  }
}

// Micro-kernel contract: C[rows, cols] += alpha * Ap (MR x kc, packed) * Bp (kc x NR, packed).
using MicroFn = void (*)(long kc, const float* Ap, const float* Bp, float alpha, float* C, long ldc, long rows,
                         long cols);

// ----------------------------------------------------------------------------------------- micro-kernels
// Portable: 4 x 8 accumulators in 4-lane vectors (GCC/clang vector extensions: SSE2 on x86-64, NEON on arm64),
// 8 registers, so the baseline's 16 vector registers hold them without spilling.
constexpr long kGenMR = 4, kGenNR = 8;
#if defined(__GNUC__) || defined(__clang__)
typedef float V4 __attribute__((vector_size(16)));
void MicroGeneric(long kc, const float* Ap, const float* Bp, float alpha, float* C, long ldc, long rows,
                  long cols) {
  V4 acc[kGenMR][2] = {};
  for (long k = 0; k < kc; ++k) {
    V4 b0, b1;
    std::memcpy(&b0, Bp, sizeof b0);
    std::memcpy(&b1, Bp + 4, sizeof b1);
    for (long r = 0; r < kGenMR; ++r) {
      const V4 a = {Ap[r], Ap[r], Ap[r], Ap[r]};
      acc[r][0] += a * b0;
      acc[r][1] += a * b1;
    }
    Ap += kGenMR;
    Bp += kGenNR;
  }
  float tmp[kGenMR * kGenNR];
  std::memcpy(tmp, acc, sizeof tmp);
#else
void MicroGeneric(long kc, const float* Ap, const float* Bp, float alpha, float* C, long ldc, long rows,
                  long cols) {
  float tmp[kGenMR * kGenNR] = {0};
  for (long k = 0; k < kc; ++k) {
    for (long r = 0; r < kGenMR; ++r)
      for (long c = 0; c < kGenNR; ++c) tmp[r * kGenNR + c] += Ap[r] * Bp[c];
    Ap += kGenMR;
    Bp += kGenNR;
  }
#endif
  for (long r = 0; r < rows; ++r)
    for (long c = 0; c < cols; ++c) C[r * ldc + c] += alpha * tmp[r * kGenNR + c];
}

#ifdef SL_X86
constexpr long kAvx2MR = 6, kAvx2NR = 16;
SL_TARGET_AVX2 void MicroAvx2(long kc, const float* Ap, const float* Bp, float alpha, float* C, long ldc,
                              long rows, long cols) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(),
         c11 = _mm256_setzero_ps(), c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(),
         c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps(), c40 = _mm256_setzero_ps(),
         c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (long k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(Bp), b1 = _mm256_loadu_ps(Bp + 8);
    __m256 a = _mm256_broadcast_ss(Ap + 0);
    c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(Ap + 1);
    c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(Ap + 2);
    c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(Ap + 3);
    c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);
    a = _mm256_broadcast_ss(Ap + 4);
    c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);
    a = _mm256_broadcast_ss(Ap + 5);
    c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);
    Ap += kAvx2MR;
    Bp += kAvx2NR;
  }
  const __m256 va = _mm256_set1_ps(alpha);
  if (rows == kAvx2MR && cols == kAvx2NR) {
    __m256* acc[kAvx2MR][2] = {{&c00, &c01}, {&c10, &c11}, {&c20, &c21}, {&c30, &c31}, {&c40, &c41}, {&c50, &c51}};
    for (long r = 0; r < kAvx2MR; ++r) {
      float* c = C + r * ldc;
      _mm256_storeu_ps(c, _mm256_fmadd_ps(va, *acc[r][0], _mm256_loadu_ps(c)));
      _mm256_storeu_ps(c + 8, _mm256_fmadd_ps(va, *acc[r][1], _mm256_loadu_ps(c + 8)));
    }
    return;
  }
  alignas(32) float tmp[kAvx2MR * kAvx2NR];
  _mm256_store_ps(tmp + 0, c00); _mm256_store_ps(tmp + 8, c01);
  _mm256_store_ps(tmp + 16, c10); _mm256_store_ps(tmp + 24, c11);
  _mm256_store_ps(tmp + 32, c20); _mm256_store_ps(tmp + 40, c21);
  _mm256_store_ps(tmp + 48, c30); _mm256_store_ps(tmp + 56, c31);
  _mm256_store_ps(tmp + 64, c40); _mm256_store_ps(tmp + 72, c41);
  _mm256_store_ps(tmp + 80, c50); _mm256_store_ps(tmp + 88, c51);
  for (long r = 0; r < rows; ++r)
    for (long c = 0; c < cols; ++c) C[r * ldc + c] += alpha * tmp[r * kAvx2NR + c];
}

#endif  // SL_X86

// --------------------------------------------------------------------------------------------- the driver
// Single-threaded packed GEMM on a sub-block; C must already hold beta * C.
template <long MR, long NR, long KC, long MC, long NC, MicroFn Micro>
void GemmBlock(bool tA, bool tB, long M, long N, long K, float alpha, const float* A, long lda, const float* B,
               long ldb, float* C, long ldc, long i0, long j0) {
  thread_local std::vector<float> packA, packB;
  if (packA.size() < size_t(MC * KC)) packA.resize(MC * KC);
  if (packB.size() < size_t(KC * (NC + NR))) packB.resize(KC * (NC + NR));
  for (long jc = 0; jc < N; jc += NC) {
    const long nc = std::min(NC, N - jc);
    for (long pc = 0; pc < K; pc += KC) {
      const long kc = std::min(KC, K - pc);
      PackB<NR>(B, ldb, tB, pc, kc, j0 + jc, nc, packB.data());
      for (long ic = 0; ic < M; ic += MC) {
        const long mc = std::min(MC, M - ic);
        PackA<MR>(A, lda, tA, i0 + ic, mc, pc, kc, packA.data());
        for (long jr = 0; jr < nc; jr += NR) {
          for (long ir = 0; ir < mc; ir += MR) {
            Micro(kc, packA.data() + ir * kc, packB.data() + jr * kc, alpha, C + (ic + ir) * ldc + jc + jr, ldc,
                  std::min(MR, mc - ir), std::min(NR, nc - jr));
          }
        }
      }
    }
  }
}

using BlockFn = void (*)(bool, bool, long, long, long, float, const float*, long, const float*, long, float*, long,
                         long, long);
struct Variant {
  BlockFn block;  // null for AVX-512, which runs as a whole GEMM (gemm_avx512.cc: own threading, beta folded in)
  long mr, nr;
  const char* name;
};

Variant VariantFor(Isa isa) {
#ifdef SL_X86
  if (isa == Isa::kAvx512 && GemmAvx512Compiled()) return {nullptr, GemmAvx512TileRows(), GemmAvx512TileCols(), "own-avx512"};
  if (isa == Isa::kAvx2)
    return {GemmBlock<kAvx2MR, kAvx2NR, 256, 120, 2048, MicroAvx2>, kAvx2MR, kAvx2NR, "own-avx2-fma"};
#else
  (void)isa;
#endif
  return {GemmBlock<kGenMR, kGenNR, 256, 120, 2048, MicroGeneric>, kGenMR, kGenNR, "own-generic"};
}

// ------------------------------------------------------------------------------- OpenBLAS versus own, per shape
GemmPolicy gPolicy = [] {
  const char* env = std::getenv("SPARSE_LEARNING_NATIVE_BLAS");
  if (env && !std::strcmp(env, "own")) return GemmPolicy::kOwn;
  if (env && !std::strcmp(env, "openblas")) return GemmPolicy::kOpenBlas;
  return GemmPolicy::kMeasure;
}();

using ShapeKey = std::tuple<bool, bool, long, long, long, int, int>;  // tA, tB, M, N, K, isa, threads
struct Choice {
  bool openblas;
  double ownMs, blasMs;  // negative: taken from the record file, not timed in this process
};
std::mutex gChoiceMutex;
std::map<ShapeKey, Choice> gChoices;

// The decisions are also appended to a record file (SPARSE_LEARNING_NATIVE_GEMM_CACHE, or the path the
// JavaScript loader sets next to the addon) and read back by later processes, so every process on a machine
// runs a shape with the same implementation: a resumed run stays bit-identical to an uninterrupted one, and
// parallel workers agree. Keys carry the CPU brand and OpenBLAS's kernel set, so a copied addon directory or a
// changed OPENBLAS_CORETYPE re-times. A torn last line (a crash mid-append) is skipped when read.
std::string gRecordPath = [] {
  const char* env = std::getenv("SPARSE_LEARNING_NATIVE_GEMM_CACHE");
  return std::string(env && std::strcmp(env, "0") && std::strcmp(env, "off") ? env : "");
}();
bool gRecordEnvSet = std::getenv("SPARSE_LEARNING_NATIVE_GEMM_CACHE") != nullptr;
bool gRecordLoaded = false;
std::map<std::string, bool> gRecorded;

std::string CpuBrand() {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  unsigned regs[12] = {0};
  unsigned maxExt = __get_cpuid_max(0x80000000u, nullptr);
  if (maxExt >= 0x80000004u) {
    for (unsigned i = 0; i < 3; ++i) __get_cpuid(0x80000002u + i, &regs[4 * i], &regs[4 * i + 1], &regs[4 * i + 2], &regs[4 * i + 3]);
    std::string b(reinterpret_cast<const char*>(regs), sizeof regs);
    b = b.c_str();
    for (char& c : b) if (c == '|' || c == '\t' || c == '\n') c = ' ';
    return b;
  }
#endif
  return "unknown-cpu";
}

std::string RecordKey(const ShapeKey& k, const OpenBlas& blas) {
  static const std::string brand = CpuBrand();
  char buf[160];
  std::snprintf(buf, sizeof buf, "|%d|%d|%ld|%ld|%ld|%s|%d", int(std::get<0>(k)), int(std::get<1>(k)), std::get<2>(k),
                std::get<3>(k), std::get<4>(k), IsaName(Isa(std::get<5>(k))), std::get<6>(k));
  // v2: OpenBLAS single-threaded and split by the pool (BlasSplit); v1 timed OpenBLAS's own threads.
  return "v2|" + brand + "|" + blas.corename + buf;
}

void LoadRecord() {
  gRecordLoaded = true;
  gRecorded.clear();
  if (gRecordPath.empty()) return;
  std::ifstream in(gRecordPath);
  std::string line;
  while (std::getline(in, line)) {
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) continue;
    const std::string key = line.substr(0, tab), rest = line.substr(tab + 1);
    const bool ob = rest.rfind("openblas\t", 0) == 0, own = rest.rfind("own\t", 0) == 0;
    if ((ob || own) && !gRecorded.count(key)) gRecorded.emplace(key, ob);  // the first decision wins
  }
}

void AppendRecord(const std::string& key, bool openblas, double ownMs, double blasMs) {
  if (gRecordPath.empty()) return;
  char line[512];
  std::snprintf(line, sizeof line, "%s\t%s\t%.4f\t%.4f\n", key.c_str(), openblas ? "openblas" : "own", ownMs, blasMs);
  // One write of one line in append mode: concurrent processes interleave whole lines.
  if (FILE* f = std::fopen(gRecordPath.c_str(), "a")) {
    std::fputs(line, f);
    std::fclose(f);
  }
}

void Blas(const OpenBlas& b, bool tA, bool tB, long M, long N, long K, float alpha, const float* A, long lda,
          const float* B, long ldb, float beta, float* C, long ldc) {
  b.sgemm(101 /*RowMajor*/, tA ? 112 : 111, tB ? 112 : 111, int(M), int(N), int(K), alpha, A, int(lda), B,
          int(ldb), beta, C, int(ldc));
}

// OpenBLAS runs single-threaded (addon.cc pins it to one thread): the pool splits the larger of M and N as for
// the own kernel, so there is one set of threads. With OpenBLAS's own threads next to the pool's, its idle
// workers spin while the pool runs im2col or a serial per-thread GEMM, and on 2 cores that cost LeNet-5's
// convolutions more than the second thread gained (issue 10, conv-threads).
void BlasSplit(const OpenBlas& b, bool tA, bool tB, long M, long N, long K, float alpha, const float* A, long lda,
               const float* B, long ldb, float beta, float* C, long ldc) {
  ThreadPool& pool = Pool();
  if (2.0 * M * N * K < 2e6 || pool.threads() == 1 || SerialGemmScope::Active()) {
    Blas(b, tA, tB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  if (M >= N) {
    pool.Run(M, [&](long s, long e) {
      Blas(b, tA, tB, e - s, N, K, alpha, tA ? A + s : A + s * lda, lda, B, ldb, beta, C + s * ldc, ldc);
    }, 16);
  } else {
    pool.Run(N, [&](long s, long e) {
      Blas(b, tA, tB, M, e - s, K, alpha, A, lda, tB ? B + s * ldb : B + s, ldb, beta, C + s, ldc);
    }, 16);
  }
}

// CPU time of the whole process (all threads) in ms: on a shared machine a preempted trial would add the
// time spent waiting to the wall clock and flip the decision; CPU time only counts the work (and an
// implementation whose idle threads spin is charged for it, which on a shared machine is right).
double ProcessCpuMs() {
#if defined(CLOCK_PROCESS_CPUTIME_ID)
  timespec ts;
  // Inside a serial scope the other pool threads run their own work concurrently: count this thread only.
  const clockid_t clock = SerialGemmScope::Active() ? CLOCK_THREAD_CPUTIME_ID : CLOCK_PROCESS_CPUTIME_ID;
  if (clock_gettime(clock, &ts) == 0) return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
#endif
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

template <typename F>
double BestMs(int reps, F&& f) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const double t0 = ProcessCpuMs();
    f();
    best = std::min(best, ProcessCpuMs() - t0);
  }
  return best;
}
}  // namespace

const char* OwnGemmImpl() { return VariantFor(ActiveIsa()).name; }

void OwnSgemmIsa(Isa isa, bool transA, bool transB, long M, long N, long K, float alpha, const float* A, long lda,
                 const float* B, long ldb, float beta, float* C, long ldc) {
  if (M <= 0 || N <= 0) return;
  const Variant v = VariantFor(isa);
  const double flops = 2.0 * M * N * K;
  ThreadPool& pool = Pool();
  const bool serial = flops < 2e6 || pool.threads() == 1 || SerialGemmScope::Active();
  if (!v.block && K > 0 && alpha != 0.f) {
    GemmAvx512(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, serial ? 1 : pool.threads());
    return;
  }
  for (long i = 0; i < M; ++i) {
    float* c = C + i * ldc;
    if (beta == 0.f) std::memset(c, 0, N * sizeof(float));
    else if (beta != 1.f) for (long j = 0; j < N; ++j) c[j] *= beta;
  }
  if (K <= 0 || alpha == 0.f) return;
  if (serial) {
    v.block(transA, transB, M, N, K, alpha, A, lda, B, ldb, C, ldc, 0, 0);
    return;
  }
  // Split the larger of M and N between threads: each thread runs an independent packed GEMM on its block,
  // so there is no synchronisation inside (B or A is packed twice, O(K(M+N)) against O(MNK) work).
  if (M >= N) {
    pool.Run(M, [&](long b, long e) {
      v.block(transA, transB, e - b, N, K, alpha, A, lda, B, ldb, C + b * ldc, ldc, b, 0);
    }, v.mr);
  } else {
    pool.Run(N, [&](long b, long e) {
      v.block(transA, transB, M, e - b, K, alpha, A, lda, B, ldb, C + b, ldc, 0, b);
    }, v.nr);
  }
}

void OwnSgemm(bool transA, bool transB, long M, long N, long K, float alpha, const float* A, long lda,
              const float* B, long ldb, float beta, float* C, long ldc) {
  OwnSgemmIsa(ActiveIsa(), transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void SetGemmPolicy(GemmPolicy p) { gPolicy = p; }
GemmPolicy GetGemmPolicy() { return gPolicy; }

void Sgemm(bool transA, bool transB, long M, long N, long K, float alpha, const float* A, long lda,
           const float* B, long ldb, float beta, float* C, long ldc) {
  if (M <= 0 || N <= 0) return;
  const OpenBlas& blas = LoadOpenBlas();
  const bool haveBlas = blas.sgemm && K > 0 && M < (1L << 31) && N < (1L << 31) && K < (1L << 31);
  if (!haveBlas || gPolicy == GemmPolicy::kOwn) {
    OwnSgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  if (gPolicy == GemmPolicy::kOpenBlas) {
    BlasSplit(blas, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  const ShapeKey key{transA, transB, M, N, K, int(ActiveIsa()), SerialGemmScope::Active() ? 1 : Pool().threads()};
  bool useBlas;
  {
    std::lock_guard<std::mutex> lock(gChoiceMutex);
    auto it = gChoices.find(key);
    if (it == gChoices.end()) {
      if (!gRecordLoaded) LoadRecord();
      const std::string rkey = RecordKey(key, blas);
      auto rec = gRecorded.find(rkey);
      if (rec != gRecorded.end()) it = gChoices.emplace(key, Choice{rec->second, -1.0, -1.0}).first;
    }
    if (it == gChoices.end()) {
      // First time this shape is seen: time both (process CPU time, see ProcessCpuMs) into a scratch output
      // (beta 0, so the real C is untouched), alternating so that neither profits from warmer caches, and
      // keep the faster.
      std::vector<float> scratch(size_t(M) * N);
      const int reps = 2.0 * M * N * K < 2e7 ? 3 : 2;
      double own = 1e30, bl = 1e30;
      for (int r = 0; r < reps; ++r) {
        own = std::min(own, BestMs(1, [&] { OwnSgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, 0.f, scratch.data(), N); }));
        bl = std::min(bl, BestMs(1, [&] { BlasSplit(blas, transA, transB, M, N, K, alpha, A, lda, B, ldb, 0.f, scratch.data(), N); }));
      }
      it = gChoices.emplace(key, Choice{bl < own, own, bl}).first;
      const std::string rkey = RecordKey(key, blas);
      gRecorded.emplace(rkey, bl < own);
      AppendRecord(rkey, bl < own, own, bl);
    }
    useBlas = it->second.openblas;
  }
  if (useBlas) BlasSplit(blas, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  else OwnSgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

std::string GemmImpl() {
  const OpenBlas& blas = LoadOpenBlas();
  std::string own = OwnGemmImpl();
  if (!blas.sgemm || gPolicy == GemmPolicy::kOwn) return own;
  std::string ob = std::string("openblas") + (*blas.corename ? std::string(" ") + blas.corename : std::string());
  if (gPolicy == GemmPolicy::kOpenBlas) return ob;
  return own + " | " + ob + " (faster per shape, timed)";
}

std::vector<std::string> GemmChoices() {
  std::lock_guard<std::mutex> lock(gChoiceMutex);
  std::vector<std::string> out;
  for (const auto& [k, c] : gChoices) {
    char line[200];
    if (c.ownMs < 0)
      std::snprintf(line, sizeof line, "%ldx%ldx%ld%s%s %s %dt: %s (recorded earlier)", std::get<2>(k), std::get<4>(k),
                    std::get<3>(k), std::get<0>(k) ? " tA" : "", std::get<1>(k) ? " tB" : "", IsaName(Isa(std::get<5>(k))),
                    std::get<6>(k), c.openblas ? "openblas" : "own");
    else
      std::snprintf(line, sizeof line, "%ldx%ldx%ld%s%s %s %dt: %s (own %.3f ms, openblas %.3f ms)", std::get<2>(k),
                    std::get<4>(k), std::get<3>(k), std::get<0>(k) ? " tA" : "", std::get<1>(k) ? " tB" : "",
                    IsaName(Isa(std::get<5>(k))), std::get<6>(k), c.openblas ? "openblas" : "own", c.ownMs, c.blasMs);
    out.emplace_back(line);
  }
  return out;
}

void ClearGemmChoices() {
  std::lock_guard<std::mutex> lock(gChoiceMutex);
  gChoices.clear();
}

bool SetGemmRecord(const std::string& path, bool onlyIfUnset) {
  std::lock_guard<std::mutex> lock(gChoiceMutex);
  if (onlyIfUnset && gRecordEnvSet) return false;
  gRecordPath = path;
  gRecordLoaded = false;
  gChoices.clear();
  return true;
}

std::string GemmRecordPath() {
  std::lock_guard<std::mutex> lock(gChoiceMutex);
  return gRecordPath;
}

}  // namespace sl
