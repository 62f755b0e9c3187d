// The own AVX-512 GEMM (gemm_avx512.cc): gemm.cc dispatches to it when the active ISA is AVX-512.
#pragma once

namespace sl {
// Whether the AVX-512 kernel is compiled in (x86-64 with GCC or clang); the caller checks the CPU (cpu_isa.h).
bool GemmAvx512Compiled();
// Row-major C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, K > 0, on `threads` threads of the pool
// (1: the calling thread only). beta == 0 never reads C (NaN or garbage in C does not propagate), as BLAS
// specifies.
void GemmAvx512(bool transA, bool transB, long M, long N, long K, float alpha, const float* A, long lda,
                const float* B, long ldb, float beta, float* C, long ldc, int threads);
// The register tile (rows of op(A) x columns of op(B)): thread splits align to it.
long GemmAvx512TileRows();
long GemmAvx512TileCols();
}  // namespace sl
