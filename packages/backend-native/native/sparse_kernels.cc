// Dispatch, threading and the optimizer of the sparse Dense kernels (see sparse_kernels.h). The loops live in
// sparse_kernels_body.h, compiled here three times (AVX-512, AVX2+FMA, baseline) under target pragmas; the
// instruction set is chosen once from cpuid, so a build made on one x86-64 machine runs on any other.
#include "sparse_kernels.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "thread_pool.h"

namespace sl {
namespace sparse {

#if defined(__x86_64__) || defined(__i386__)
#define SL_SPARSE_X86 1
#pragma GCC push_options
#pragma GCC target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma")
namespace isa_avx512 {
#define SL_SPARSE_W 16
#include "sparse_kernels_body.h"
#undef SL_SPARSE_W
}  // namespace isa_avx512
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx2,fma")
namespace isa_avx2 {
#define SL_SPARSE_W 8
#include "sparse_kernels_body.h"
#undef SL_SPARSE_W
}  // namespace isa_avx2
#pragma GCC pop_options
#endif
namespace isa_generic {
#define SL_SPARSE_W 4
#include "sparse_kernels_body.h"
#undef SL_SPARSE_W
}  // namespace isa_generic

namespace {
struct Table {
  const char* name;
  void (*forward)(const Layer&, const float*, float*, int, int, int);
  void (*backward)(const Layer&, const float*, const float*, float*, int, int, int);
  void (*wgrad)(const Layer&, const float*, const float*, float*, int, int, int);
  void (*biasgrad)(const float*, float*, int, int, int);
  void (*bwdwgrad)(const Layer&, const float*, const float*, const float*, float*, float*, float*, int, int, int);
};
#define SL_TABLE(ns, label) \
  Table{label, ns::ForwardRange, ns::BackwardRange, ns::WeightGradRange, ns::BiasGradRange, ns::BackwardWeightGradRange}
const Table kGeneric = SL_TABLE(isa_generic, "generic");
#ifdef SL_SPARSE_X86
const Table kAvx2 = SL_TABLE(isa_avx2, "avx2");
const Table kAvx512 = SL_TABLE(isa_avx512, "avx512");
#endif

const Table* Detect() {
#ifdef SL_SPARSE_X86
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const char* force = std::getenv("SPARSE_LEARNING_SPARSE_ISA");
  const std::string want = force ? force : "";
  if (want == "generic") return &kGeneric;
  if (want == "avx2") return avx2 ? &kAvx2 : &kGeneric;
  if (avx512) return &kAvx512;
  if (avx2) return &kAvx2;
#endif
  return &kGeneric;
}

const Table*& Current() {
  static const Table* table = Detect();
  return table;
}

// Below this many multiply-adds a kernel runs on the calling thread: waking the pool costs ~10-30 us.
constexpr double kParallelWork = 3.0e5;

// Splits [0, n) into `parts` ranges of about equal nonzero counts (ptr = CSC/CSR pointer array).
std::vector<int> SplitByNnz(const int32_t* ptr, int n, int parts) {
  std::vector<int> bounds(parts + 1, n);
  bounds[0] = 0;
  const long total = ptr[n] - ptr[0];
  for (int t = 1; t < parts; ++t) {
    const long target = ptr[0] + total * t / parts;
    bounds[t] = static_cast<int>(std::lower_bound(ptr, ptr + n + 1, target) - ptr);
    bounds[t] = std::max(bounds[t - 1], std::min(bounds[t], n));
  }
  return bounds;
}

// Runs fn(begin, end) over [0, n) split by nonzeros, on the pool when the work is worth it.
template <typename Fn>
void ParallelByNnz(const int32_t* ptr, int n, int bp, Fn fn) {
  const double work = static_cast<double>(ptr[n] - ptr[0]) * bp + static_cast<double>(n) * bp;
  const int threads = Pool().threads();
  if (threads <= 1 || work < kParallelWork || n < 2) {
    fn(0, n);
    return;
  }
  const int parts = std::min(threads, n);
  const std::vector<int> bounds = SplitByNnz(ptr, n, parts);
  Pool().Run(parts, [&](long b, long e) {
    for (long t = b; t < e; ++t)
      if (bounds[t] < bounds[t + 1]) fn(bounds[t], bounds[t + 1]);
  });
}

// The SGD arithmetic in the tfjs op order, each operation rounded to float32 (no FMA contraction), so a sparse
// step gives the same numbers as core's SgdOptimizer on the masked path.
__attribute__((optimize("fp-contract=off"))) void SgdRange(float* w, float* buf, const float* grad, long n,
                                                            const Sgd& s, bool first) {
  const float lr = s.lr, mu = s.mu, wd = s.wd;
  if (mu == 0.f || !buf) {
    for (long k = 0; k < n; ++k) {
      const float g = wd != 0.f ? grad[k] + w[k] * wd : grad[k];
      w[k] = w[k] - g * lr;
    }
    return;
  }
  for (long k = 0; k < n; ++k) {
    const float g = wd != 0.f ? grad[k] + w[k] * wd : grad[k];
    const float b = first ? g : buf[k] * mu + g;
    buf[k] = b;
    const float upd = s.nesterov ? g + b * mu : b;
    w[k] = w[k] - upd * lr;
  }
}
}  // namespace

const char* Isa() { return Current()->name; }

bool SetIsa(const char* name) {
  const std::string want = name;
  if (want == "generic") {
    Current() = &kGeneric;
    return true;
  }
#ifdef SL_SPARSE_X86
  __builtin_cpu_init();
  if (want == "avx2" && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    Current() = &kAvx2;
    return true;
  }
  if (want == "avx512" && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw")) {
    Current() = &kAvx512;
    return true;
  }
#endif
  return false;
}

void Forward(const Layer& L, const float* X, float* Y, int bp) {
  const Table* t = Current();
  ParallelByNnz(L.colptr, L.out, bp, [&](int o0, int o1) { t->forward(L, X, Y, bp, o0, o1); });
}

void BackwardInput(const Layer& L, const float* dY, const float* reluOf, float* dX, int bp) {
  const Table* t = Current();
  ParallelByNnz(L.rowptr, L.in, bp, [&](int i0, int i1) { t->backward(L, dY, reluOf, dX, bp, i0, i1); });
}

void WeightGrad(const Layer& L, const float* dY, const float* X, float* grad, int bp) {
  const Table* t = Current();
  ParallelByNnz(L.colptr, L.out, bp, [&](int o0, int o1) { t->wgrad(L, dY, X, grad, bp, o0, o1); });
}

void BiasGrad(const Layer& L, const float* dY, float* grad, int bp) { Current()->biasgrad(dY, grad, bp, 0, L.out); }

void SgdApply(float* w, float* buf, const float* grad, long n, const Sgd& s, bool first) {
  SgdRange(w, buf, grad, n, s, first);
}

void BackwardInputWeightGradSgd(const Layer& L, const float* dY, const float* X, const float* reluOf, float* dX,
                                float* scratch, float* rowSums, int bp, const Sgd& s) {
  const Table* t = Current();
  ParallelByNnz(L.rowptr, L.in, bp, [&](int i0, int i1) { t->bwdwgrad(L, dY, X, reluOf, dX, scratch, rowSums, bp, i0, i1); });
  // The update after the whole pass: every input gradient above read the weights before this step's change.
  if (static_cast<double>(L.nnz) < kParallelWork / 8 || Pool().threads() <= 1) {
    SgdRange(L.vals, L.mom, scratch, L.nnz, s, false);
    return;
  }
  Pool().Run(L.nnz, [&](long b, long e) { SgdRange(L.vals + b, L.mom ? L.mom + b : nullptr, scratch + b, e - b, s, false); }, 4096);
}

void WeightGradSgd(const Layer& L, const float* dY, const float* X, int bp, const Sgd& s, bool first) {
  const Table* t = Current();
  ParallelByNnz(L.colptr, L.out, bp, [&](int o0, int o1) {
    // Blocks of outputs keep the gradient scratch small and in L1/L2 between the SDDMM and the update.
    thread_local std::vector<float> scratch;
    constexpr long kBlock = 4096;
    for (int a = o0; a < o1;) {
      int b = a;
      while (b < o1 && (L.colptr[b + 1] - L.colptr[a] <= kBlock || b == a)) ++b;
      const long k0 = L.colptr[a], n = L.colptr[b] - k0;
      if (static_cast<long>(scratch.size()) < n) scratch.resize(n);
      // WeightGradRange writes grad[k] by absolute slot: shift the base so slot k0 lands on scratch[0].
      t->wgrad(L, dY, X, scratch.data() - k0, bp, a, b);
      SgdRange(L.vals + k0, L.mom ? L.mom + k0 : nullptr, scratch.data(), n, s, first);
      a = b;
    }
  });
}

}  // namespace sparse
}  // namespace sl
