// Threaded element-wise kernels (see binary_ops.h). No FMA contraction: each element is exactly one rounded
// operation, as in the wasm kernels these replace.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include "binary_ops.h"

#include "isa_dispatch.h"
#include "thread_pool.h"

namespace sl {
namespace {
// Memory-bound: a range of 64 Ki elements (256 KB per operand) per thread hand-off at least.
constexpr long kGrain = 1L << 16;

template <int kOp>
SL_ALWAYS_INLINE float Apply(float x, float y) {
  if (kOp == 0) return x + y;
  if (kOp == 1) return x - y;
  if (kOp == 2) return x * y;
  return x / y;
}

// kShape: 0 both full, 1 a scalar, 2 b scalar.
template <int kOp, int kShape>
SL_ALWAYS_INLINE void Loop(const float* __restrict a, const float* __restrict b, float* __restrict out, long lo, long hi) {
  if (kShape == 1) {
    const float s = a[0];
    for (long i = lo; i < hi; ++i) out[i] = Apply<kOp>(s, b[i]);
  } else if (kShape == 2) {
    const float s = b[0];
    for (long i = lo; i < hi; ++i) out[i] = Apply<kOp>(a[i], s);
  } else {
    for (long i = lo; i < hi; ++i) out[i] = Apply<kOp>(a[i], b[i]);
  }
}

template <int kOp>
SL_ALWAYS_INLINE void ShapeSwitch(int shape, const float* a, const float* b, float* out, long lo, long hi) {
  if (shape == 1) Loop<kOp, 1>(a, b, out, lo, hi);
  else if (shape == 2) Loop<kOp, 2>(a, b, out, lo, hi);
  else Loop<kOp, 0>(a, b, out, lo, hi);
}

SL_ALWAYS_INLINE void BinaryRange(int op, int shape, const float* a, const float* b, float* out, long lo, long hi) {
  switch (op) {
    case 0: ShapeSwitch<0>(shape, a, b, out, lo, hi); break;
    case 1: ShapeSwitch<1>(shape, a, b, out, lo, hi); break;
    case 2: ShapeSwitch<2>(shape, a, b, out, lo, hi); break;
    default: ShapeSwitch<3>(shape, a, b, out, lo, hi); break;
  }
}
SL_ISA_VARIANTS(BinaryRange, (int op, int shape, const float* a, const float* b, float* out, long lo, long hi),
                (op, shape, a, b, out, lo, hi))

SL_ALWAYS_INLINE void UnaryRange(int op, const float* __restrict x, float alpha, float* __restrict out, long lo, long hi) {
  if (op == 0) {
    for (long i = lo; i < hi; ++i) out[i] = x[i] > 0.f ? x[i] : (x[i] != x[i] ? x[i] : 0.f);
  } else if (op == 1) {
    for (long i = lo; i < hi; ++i) out[i] = x[i] > 0.f ? 1.f : (x[i] != x[i] ? x[i] : alpha);
  } else {
    for (long i = lo; i < hi; ++i) out[i] = __builtin_floorf(x[i]);
  }
}
SL_ISA_VARIANTS(UnaryRange, (int op, const float* x, float alpha, float* out, long lo, long hi), (op, x, alpha, out, lo, hi))

template <typename F>
void Split(long n, F&& body) {
  if (n >= 2 * kGrain && Pool().threads() > 1) Pool().Run(n, body, kGrain);
  else body(0, n);
}
}  // namespace

void BinaryOp(BinaryKind kind, long n, const float* a, long aLen, const float* b, long bLen, float* out) {
  const int shape = aLen == 1 && n != 1 ? 1 : bLen == 1 && n != 1 ? 2 : 0;
  const auto range = BinaryRange_for(ActiveIsa());
  Split(n, [&](long lo, long hi) { range(static_cast<int>(kind), shape, a, b, out, lo, hi); });
}

void UnaryOp(UnaryKind kind, long n, const float* x, float alpha, float* out) {
  const auto range = UnaryRange_for(ActiveIsa());
  Split(n, [&](long lo, long hi) { range(static_cast<int>(kind), x, alpha, out, lo, hi); });
}

}  // namespace sl
