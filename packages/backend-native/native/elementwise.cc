// Fused element-wise kernels. Compiled without FMA contraction: the fused SGD step must round exactly like
// the chain of tfjs ops it replaces (mul, add, mul, add, mul, sub), so the optimizer's results do not change.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include "elementwise.h"

namespace sl {

namespace {
// The loop body as a template over the flags, so each variant is a straight loop the compiler vectorises
// (a per-element branch on buf/nesterov/mask kept the former loop scalar).
template <bool kWd, bool kMomentum, bool kBuf, bool kNesterov, bool kMask>
void SgdLoop(long n, const float* __restrict w, const float* __restrict grad, const float* __restrict buf,
             float* __restrict wOut, float* __restrict bufOut, const float* __restrict mask, float lr, float mu,
             float wd) {
  for (long i = 0; i < n; ++i) {
    float g = kWd ? grad[i] + w[i] * wd : grad[i];
    float upd = g;
    if (kMomentum) {
      float b = kBuf ? buf[i] * mu + g : g;
      bufOut[i] = b;
      upd = kNesterov ? g + b * mu : b;
    }
    float next = w[i] - upd * lr;
    // W ⊙ M after the update, as the trainer's separate multiply: one float32 product (exact for 0/1).
    wOut[i] = kMask ? next * mask[i] : next;
  }
}

template <bool kWd, bool kMomentum, bool kBuf, bool kNesterov>
void SgdMask(long n, const float* w, const float* grad, const float* buf, float* wOut, float* bufOut,
             const float* mask, float lr, float mu, float wd) {
  if (mask) SgdLoop<kWd, kMomentum, kBuf, kNesterov, true>(n, w, grad, buf, wOut, bufOut, mask, lr, mu, wd);
  else SgdLoop<kWd, kMomentum, kBuf, kNesterov, false>(n, w, grad, buf, wOut, bufOut, mask, lr, mu, wd);
}

template <bool kWd>
void SgdFlags(long n, const float* w, const float* grad, const float* buf, float* wOut, float* bufOut,
              const float* mask, float lr, float mu, float wd, bool nesterov) {
  if (mu == 0.f) return SgdMask<kWd, false, false, false>(n, w, grad, buf, wOut, bufOut, mask, lr, mu, wd);
  if (buf) {
    if (nesterov) return SgdMask<kWd, true, true, true>(n, w, grad, buf, wOut, bufOut, mask, lr, mu, wd);
    return SgdMask<kWd, true, true, false>(n, w, grad, buf, wOut, bufOut, mask, lr, mu, wd);
  }
  if (nesterov) return SgdMask<kWd, true, false, true>(n, w, grad, buf, wOut, bufOut, mask, lr, mu, wd);
  return SgdMask<kWd, true, false, false>(n, w, grad, buf, wOut, bufOut, mask, lr, mu, wd);
}
}  // namespace

void SgdStep(long n, const float* w, const float* grad, const float* buf, float* wOut, float* bufOut, float lr,
             float mu, float wd, bool nesterov, const float* mask) {
  // Single-threaded on purpose: memory-bound (~5 streams of n floats), and a thread hand-off costs more
  // than the loop for LeNet-sized variables on a loaded 2-core machine.
  if (wd != 0.f) SgdFlags<true>(n, w, grad, buf, wOut, bufOut, mask, lr, mu, wd, nesterov);
  else SgdFlags<false>(n, w, grad, buf, wOut, bufOut, mask, lr, mu, wd, nesterov);
}

void ReluBackward(long n, const float* __restrict dy, const float* __restrict y, float* __restrict out) {
  // dy · step(y), as tfjs's ReLU gradient (`mul(dy, step(x))`; y > 0 exactly where the input x > 0): the
  // product keeps the sign of zero and propagates NaN like the two tfjs ops.
  for (long i = 0; i < n; ++i) {
    float s = y[i] > 0.f ? 1.f : (y[i] != y[i] ? y[i] : 0.f);
    out[i] = dy[i] * s;
  }
}

}  // namespace sl
