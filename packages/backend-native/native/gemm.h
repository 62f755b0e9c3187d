#pragma once
namespace sl {
// Row-major C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C. op(A) = A^T when transA (A stored [K, lda]).
void Sgemm(bool transA, bool transB, long M, long N, long K, float alpha, const float* A, long lda,
           const float* B, long ldb, float beta, float* C, long ldc);
// The project's own packed AVX2/FMA (or generic) GEMM, compiled into every build.
void OwnSgemm(bool transA, bool transB, long M, long N, long K, float alpha, const float* A, long lda,
              const float* B, long ldb, float beta, float* C, long ldc);
const char* OwnGemmImpl();
// Which implementation was compiled in: "openblas" or "own-avx2-fma" / "own-generic".
const char* GemmImpl();
}  // namespace sl
