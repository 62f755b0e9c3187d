// GEMM: OpenBLAS `cblas_sgemm` when built with SL_USE_OPENBLAS (except narrow shapes), else the project's own packed kernel
// (BLIS-style: B packed in KC x NR slivers, A in MR x KC slivers, a 6x16 AVX2/FMA register-blocked micro-kernel;
// transposes are absorbed by the packing, so all four transpose combinations run at the same speed).
#include "gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "thread_pool.h"

#ifdef SL_USE_OPENBLAS
#include <cblas.h>
#endif
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#define SL_AVX2 1
#endif

namespace sl {

namespace {
constexpr long MR = 6, NR = 16, KC = 256, MC = 120, NC = 2048;

inline float AElem(const float* A, long lda, bool t, long i, long k) { return t ? A[k * lda + i] : A[i * lda + k]; }
inline float BElem(const float* B, long ldb, bool t, long k, long j) { return t ? B[j * ldb + k] : B[k * ldb + j]; }

// Packs op(A)[i0:i0+mc, k0:k0+kc] into MR-row slivers, zero-padded at the bottom edge.
void PackA(const float* A, long lda, bool t, long i0, long mc, long k0, long kc, float* out) {
  for (long ir = 0; ir < mc; ir += MR) {
    long rows = std::min(MR, mc - ir);
    float* dst = out + ir * kc;
    if (!t && rows == MR) {
      for (long k = 0; k < kc; ++k)
        for (long r = 0; r < MR; ++r) dst[k * MR + r] = A[(i0 + ir + r) * lda + k0 + k];
    } else if (t && rows == MR) {
      for (long k = 0; k < kc; ++k) {
        const float* src = A + (k0 + k) * lda + i0 + ir;
        for (long r = 0; r < MR; ++r) dst[k * MR + r] = src[r];
      }
    } else {
      for (long k = 0; k < kc; ++k)
        for (long r = 0; r < MR; ++r) dst[k * MR + r] = r < rows ? AElem(A, lda, t, i0 + ir + r, k0 + k) : 0.f;
    }
  }
}

// Packs op(B)[k0:k0+kc, j0:j0+nc] into NR-column slivers, zero-padded at the right edge.
void PackB(const float* B, long ldb, bool t, long k0, long kc, long j0, long nc, float* out) {
  for (long jr = 0; jr < nc; jr += NR) {
    long cols = std::min(NR, nc - jr);
    float* dst = out + jr * kc;
    if (!t && cols == NR) {
      for (long k = 0; k < kc; ++k) std::memcpy(dst + k * NR, B + (k0 + k) * ldb + j0 + jr, NR * sizeof(float));
    } else if (t && cols == NR) {
      for (long c = 0; c < NR; ++c) {
        const float* src = B + (j0 + jr + c) * ldb + k0;
        for (long k = 0; k < kc; ++k) dst[k * NR + c] = src[k];
      }
    } else {
      for (long k = 0; k < kc; ++k)
        for (long c = 0; c < NR; ++c) dst[k * NR + c] = c < cols ? BElem(B, ldb, t, k0 + k, j0 + jr + c) : 0.f;
    }
  }
}

// acc[MR][NR] = Ap (MR x kc) * Bp (kc x NR); then C[rows, cols] += alpha * acc.
void MicroKernel(long kc, const float* Ap, const float* Bp, float alpha, float* C, long ldc, long rows, long cols) {
#ifdef SL_AVX2
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
    Ap += MR;
    Bp += NR;
  }
  const __m256 va = _mm256_set1_ps(alpha);
  if (rows == MR && cols == NR) {
    __m256* acc[MR][2] = {{&c00, &c01}, {&c10, &c11}, {&c20, &c21}, {&c30, &c31}, {&c40, &c41}, {&c50, &c51}};
    for (long r = 0; r < MR; ++r) {
      float* c = C + r * ldc;
      _mm256_storeu_ps(c, _mm256_fmadd_ps(va, *acc[r][0], _mm256_loadu_ps(c)));
      _mm256_storeu_ps(c + 8, _mm256_fmadd_ps(va, *acc[r][1], _mm256_loadu_ps(c + 8)));
    }
    return;
  }
  alignas(32) float tmp[MR * NR];
  _mm256_store_ps(tmp + 0, c00); _mm256_store_ps(tmp + 8, c01);
  _mm256_store_ps(tmp + 16, c10); _mm256_store_ps(tmp + 24, c11);
  _mm256_store_ps(tmp + 32, c20); _mm256_store_ps(tmp + 40, c21);
  _mm256_store_ps(tmp + 48, c30); _mm256_store_ps(tmp + 56, c31);
  _mm256_store_ps(tmp + 64, c40); _mm256_store_ps(tmp + 72, c41);
  _mm256_store_ps(tmp + 80, c50); _mm256_store_ps(tmp + 88, c51);
#else
  float tmp[MR * NR] = {0};
  for (long k = 0; k < kc; ++k) {
    for (long r = 0; r < MR; ++r) {
      const float a = Ap[r];
      for (long c = 0; c < NR; ++c) tmp[r * NR + c] += a * Bp[c];
    }
    Ap += MR;
    Bp += NR;
  }
#endif
  for (long r = 0; r < rows; ++r)
    for (long c = 0; c < cols; ++c) C[r * ldc + c] += alpha * tmp[r * NR + c];
}

// Single-threaded GEMM on a sub-block; C must already hold beta * C.
void GemmBlock(bool tA, bool tB, long M, long N, long K, float alpha, const float* A, long lda, const float* B,
               long ldb, float* C, long ldc, long i0, long j0) {
  thread_local std::vector<float> packA, packB;
  packA.resize(MC * KC);
  packB.resize(KC * NC);
  for (long jc = 0; jc < N; jc += NC) {
    long nc = std::min(NC, N - jc);
    for (long pc = 0; pc < K; pc += KC) {
      long kc = std::min(KC, K - pc);
      PackB(B, ldb, tB, pc, kc, j0 + jc, nc, packB.data());
      for (long ic = 0; ic < M; ic += MC) {
        long mc = std::min(MC, M - ic);
        PackA(A, lda, tA, i0 + ic, mc, pc, kc, packA.data());
        for (long jr = 0; jr < nc; jr += NR) {
          for (long ir = 0; ir < mc; ir += MR) {
            MicroKernel(kc, packA.data() + ir * kc, packB.data() + jr * kc, alpha,
                        C + (ic + ir) * ldc + jc + jr, ldc, std::min(MR, mc - ir), std::min(NR, nc - jr));
          }
        }
      }
    }
  }
}
}  // namespace

const char* OwnGemmImpl() {
#ifdef SL_AVX2
  return "own-avx2-fma";
#else
  return "own-generic";
#endif
}

void OwnSgemm(bool transA, bool transB, long M, long N, long K, float alpha, const float* A, long lda,
           const float* B, long ldb, float beta, float* C, long ldc) {
  if (M <= 0 || N <= 0) return;
  for (long i = 0; i < M; ++i) {
    float* c = C + i * ldc;
    if (beta == 0.f) std::memset(c, 0, N * sizeof(float));
    else if (beta != 1.f) for (long j = 0; j < N; ++j) c[j] *= beta;
  }
  if (K <= 0 || alpha == 0.f) return;
  const double flops = 2.0 * M * N * K;
  ThreadPool& pool = Pool();
  if (flops < 2e6 || pool.threads() == 1) {
    GemmBlock(transA, transB, M, N, K, alpha, A, lda, B, ldb, C, ldc, 0, 0);
    return;
  }
  // Split the larger of M and N between threads: each thread runs an independent packed GEMM on its block,
  // so there is no synchronisation inside (B or A is packed twice, O(K(M+N)) against O(MNK) work).
  if (M >= N) {
    pool.Run(M, [&](long b, long e) {
      GemmBlock(transA, transB, e - b, N, K, alpha, A, lda, B, ldb, C + b * ldc, ldc, b, 0);
    }, MR);
  } else {
    pool.Run(N, [&](long b, long e) {
      GemmBlock(transA, transB, M, e - b, K, alpha, A, lda, B, ldb, C + b, ldc, 0, b);
    }, NR);
  }
}

#ifdef SL_USE_OPENBLAS

const char* GemmImpl() { return "openblas"; }

// OpenBLAS for everything except narrow products (N <= 32 with M or K <= 64: LeNet-5 conv1's im2col GEMMs,
// 57600x20x25 and its transposes), where its kernels reach 15 GFLOP/s and ours 35 (measured here).
void Sgemm(bool transA, bool transB, long M, long N, long K, float alpha, const float* A, long lda,
           const float* B, long ldb, float beta, float* C, long ldc) {
  if (M <= 0 || N <= 0) return;
  if (N <= 32 && std::min(M, K) <= 64) {
    OwnSgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans, M, N, K,
              alpha, A, lda, B, ldb, beta, C, ldc);
}

#else

const char* GemmImpl() { return OwnGemmImpl(); }

void Sgemm(bool transA, bool transB, long M, long N, long K, float alpha, const float* A, long lda,
           const float* B, long ldb, float beta, float* C, long ldc) {
  OwnSgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

#endif

}  // namespace sl
