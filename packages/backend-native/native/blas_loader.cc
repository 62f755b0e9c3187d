#include "blas_loader.h"

#include <cstdlib>
#include <cstring>

#if !defined(SL_NO_OPENBLAS) && defined(__linux__)
#include <dlfcn.h>
#endif

namespace sl {

const OpenBlas& LoadOpenBlas() {
  static OpenBlas blas = [] {
    OpenBlas b;
#if defined(SL_NO_OPENBLAS)
    b.why = "built with --blas=own";
#elif !defined(__linux__)
    b.why = "run-time loading is implemented for Linux only";
#else
    const char* env = std::getenv("SPARSE_LEARNING_NATIVE_BLAS");
    if (env && !std::strcmp(env, "own")) {
      b.why = "SPARSE_LEARNING_NATIVE_BLAS=own";
      return b;
    }
    const char* override = std::getenv("SPARSE_LEARNING_NATIVE_OPENBLAS");  // a path to another libopenblas
    const char* names[] = {override, "libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0"};
    for (const char* name : names) {
      if (!name || !*name) continue;
      void* h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (!h) continue;
      auto sgemm = reinterpret_cast<CblasSgemmFn>(dlsym(h, "cblas_sgemm"));
      if (!sgemm) {
        dlclose(h);
        continue;
      }
      b.sgemm = sgemm;
      b.setThreads = reinterpret_cast<void (*)(int)>(dlsym(h, "openblas_set_num_threads"));
      // Single-threaded from the start: the pool's threads split GEMMs (gemm.cc BlasSplit).
      if (b.setThreads) b.setThreads(1);
      if (auto core = reinterpret_cast<const char* (*)()>(dlsym(h, "openblas_get_corename"))) b.corename = core();
      if (auto cfg = reinterpret_cast<const char* (*)()>(dlsym(h, "openblas_get_config"))) b.config = cfg();
      b.path = name;
      return b;
    }
    b.why = "libopenblas.so.0 not found (apt-get install libopenblas0)";
#endif
    return b;
  }();
  return blas;
}

}  // namespace sl
