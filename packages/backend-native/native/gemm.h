#pragma once
#include <string>
#include <vector>

#include "cpu_isa.h"

namespace sl {
// While alive, GEMMs called on this thread run on it alone (no pool, OpenBLAS single-threaded) and are chosen
// and timed as one-thread shapes: for work that is already split over the pool's threads (per-thread
// convolution chunks, conv.cc), where a nested parallel region would deadlock on the pool.
class SerialGemmScope {
 public:
  SerialGemmScope() { ++depth_; }
  ~SerialGemmScope() { --depth_; }
  SerialGemmScope(const SerialGemmScope&) = delete;
  SerialGemmScope& operator=(const SerialGemmScope&) = delete;
  static bool Active() { return depth_ > 0; }

 private:
  static thread_local int depth_;
};

// Row-major C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C. op(A) = A^T when transA (A stored [K, lda]).
// Runs the own kernel of the active ISA or OpenBLAS, whichever was faster for this shape (see GemmPolicy).
void Sgemm(bool transA, bool transB, long M, long N, long K, float alpha, const float* A, long lda,
           const float* B, long ldb, float beta, float* C, long ldc);
// The project's own packed GEMM for the active ISA (ActiveIsa()).
void OwnSgemm(bool transA, bool transB, long M, long N, long K, float alpha, const float* A, long lda,
              const float* B, long ldb, float beta, float* C, long ldc);
// The own GEMM of a given ISA variant (the caller checks that the CPU supports it).
void OwnSgemmIsa(Isa isa, bool transA, bool transB, long M, long N, long K, float alpha, const float* A, long lda,
                 const float* B, long ldb, float beta, float* C, long ldc);
// "own-avx512" / "own-avx2-fma" / "own-generic" for the active ISA.
const char* OwnGemmImpl();
// kMeasure (default): per shape, the faster of OpenBLAS and own, timed the first time the shape is seen.
// kOwn / kOpenBlas force one (SPARSE_LEARNING_NATIVE_BLAS=own|openblas at load, or SetGemmPolicy).
enum class GemmPolicy { kMeasure, kOwn, kOpenBlas };
void SetGemmPolicy(GemmPolicy p);
GemmPolicy GetGemmPolicy();
// A one-line description of what runs GEMMs, e.g. "own-avx512 | openblas SkylakeX (faster per shape, timed)".
std::string GemmImpl();
// The per-shape decisions so far, one line each (with both timings).
std::vector<std::string> GemmChoices();
void ClearGemmChoices();
// The file the per-shape decisions are appended to and read back from ("" = none). onlyIfUnset: keep the
// path of SPARSE_LEARNING_NATIVE_GEMM_CACHE when that is set (returns false then).
bool SetGemmRecord(const std::string& path, bool onlyIfUnset);
std::string GemmRecordPath();
}  // namespace sl
