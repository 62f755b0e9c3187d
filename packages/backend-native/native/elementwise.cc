// Fused element-wise kernels. Compiled without FMA contraction: the fused SGD step must round exactly like
// the chain of tfjs ops it replaces (mul, add, mul, add, mul, sub), so the optimizer's results do not change.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include "elementwise.h"
#include "thread_pool.h"

namespace sl {

namespace {
// The loop body as a template over the flags, so each variant is a straight loop the compiler vectorises
// (a per-element branch on buf/nesterov/mask kept the former loop scalar). kInPlace: wOut == w and
// bufOut == buf (each element read, then written at the same index), which saves the two output streams and
// their write-allocate traffic of a memory-bound loop; otherwise all arrays are distinct.
template <bool kWd, bool kMomentum, bool kBuf, bool kNesterov, bool kMask, bool kInPlace>
void SgdLoop(long b, long e, float* __restrict w, const float* __restrict grad, float* __restrict buf,
             float* __restrict wOut, float* __restrict bufOut, const float* __restrict mask, float lr, float mu,
             float wd) {
  for (long i = b; i < e; ++i) {
    float g = kWd ? grad[i] + w[i] * wd : grad[i];
    float upd = g;
    if (kMomentum) {
      float bv = kBuf ? buf[i] * mu + g : g;
      (kInPlace ? buf : bufOut)[i] = bv;
      upd = kNesterov ? g + bv * mu : bv;
    }
    float next = w[i] - upd * lr;
    // W ⊙ M after the update, as the trainer's separate multiply: one float32 product (exact for 0/1).
    (kInPlace ? w : wOut)[i] = kMask ? next * mask[i] : next;
  }
}

struct SgdArgs {
  long n;
  float* w;
  const float* grad;
  float* buf;
  float* wOut;
  float* bufOut;
  const float* mask;
  float lr, mu, wd;
};

template <bool kWd, bool kMomentum, bool kBuf, bool kNesterov, bool kMask, bool kInPlace>
void SgdRun(const SgdArgs& a) {
  auto body = [&a](long b, long e) {
    SgdLoop<kWd, kMomentum, kBuf, kNesterov, kMask, kInPlace>(b, e, a.w, a.grad, a.buf, a.wOut, a.bufOut, a.mask, a.lr,
                                                              a.mu, a.wd);
  };
  // Memory-bound: only a variable of at least two 64 Ki-element halves is split over the pool (LeNet-300-100's
  // fc1); a thread hand-off costs more than the loop for smaller ones.
  if (a.n >= 2 * 65536 && Pool().threads() > 1) Pool().Run(a.n, body, 65536);
  else body(0, a.n);
}

template <bool kWd, bool kMomentum, bool kBuf, bool kNesterov>
void SgdMask(const SgdArgs& a, bool inPlace) {
  if (a.mask) {
    if (inPlace) SgdRun<kWd, kMomentum, kBuf, kNesterov, true, true>(a);
    else SgdRun<kWd, kMomentum, kBuf, kNesterov, true, false>(a);
  } else {
    if (inPlace) SgdRun<kWd, kMomentum, kBuf, kNesterov, false, true>(a);
    else SgdRun<kWd, kMomentum, kBuf, kNesterov, false, false>(a);
  }
}

template <bool kWd>
void SgdFlags(const SgdArgs& a, bool nesterov, bool inPlace) {
  if (a.mu == 0.f) return SgdMask<kWd, false, false, false>(a, inPlace);
  if (a.buf) {
    if (nesterov) return SgdMask<kWd, true, true, true>(a, inPlace);
    return SgdMask<kWd, true, true, false>(a, inPlace);
  }
  if (nesterov) return SgdMask<kWd, true, false, true>(a, inPlace);
  return SgdMask<kWd, true, false, false>(a, inPlace);
}
}  // namespace

void SgdStep(long n, const float* w, const float* grad, const float* buf, float* wOut, float* bufOut, float lr,
             float mu, float wd, bool nesterov, const float* mask) {
  // In place when the caller passes the inputs as outputs: wOut == w, and bufOut == buf when there is a
  // momentum buffer (the binding rejects any other aliasing).
  bool inPlace = wOut == w;
  SgdArgs a{n, const_cast<float*>(w), grad, const_cast<float*>(buf), wOut, bufOut, mask, lr, mu, wd};
  if (wd != 0.f) SgdFlags<true>(a, nesterov, inPlace);
  else SgdFlags<false>(a, nesterov, inPlace);
}

void ReluBackward(long n, const float* __restrict dy, const float* __restrict y, float* __restrict out) {
  // dy · step(y), as tfjs's ReLU gradient (`mul(dy, step(x))`; y > 0 exactly where the input x > 0): the
  // product keeps the sign of zero and propagates NaN like the two tfjs ops.
  // Split over the pool above 64 Ki elements (lenet5-step: it is also the native ReLU gradient of every conv
  // activation now, 1.15 M elements at LeNet-5's conv1); element-wise, so the thread count changes no bit.
  auto body = [&](long b, long e) {
    for (long i = b; i < e; ++i) {
      float s = y[i] > 0.f ? 1.f : (y[i] != y[i] ? y[i] : 0.f);
      out[i] = dy[i] * s;
    }
  };
  if (n < (1L << 16)) body(0, n);
  else Pool().Run(n, body, 4096);
}

}  // namespace sl
