// OpenBLAS loaded at run time with dlopen (issue 10): the addon neither links nor needs it at build time, a
// machine without libopenblas simply uses the project's own kernels, and which of the two runs a GEMM shape is
// decided by timing both on this machine (gemm.cc), not by whichever library happens to be installed.
#pragma once

namespace sl {

// Row-major cblas_sgemm with int dimensions (OpenBLAS's default 32-bit blasint build).
using CblasSgemmFn = void (*)(int order, int transA, int transB, int M, int N, int K, float alpha, const float* A,
                              int lda, const float* B, int ldb, float beta, float* C, int ldc);

struct OpenBlas {
  CblasSgemmFn sgemm = nullptr;           // null: not available
  void (*setThreads)(int) = nullptr;      // openblas_set_num_threads
  const char* corename = "";              // openblas_get_corename(): the kernel set it runs (e.g. "Haswell")
  const char* config = "";                // openblas_get_config()
  const char* path = "";                  // the soname that loaded
  const char* why = "";                   // why it is unavailable
};

// Loads OpenBLAS once (unless SPARSE_LEARNING_NATIVE_BLAS=own or the build defined SL_NO_OPENBLAS).
const OpenBlas& LoadOpenBlas();

}  // namespace sl
