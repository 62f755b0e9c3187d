// Fused element-wise kernels. Compiled without FMA contraction: the fused SGD step must round exactly like
// the chain of tfjs ops it replaces (mul, add, mul, add, mul, sub), so the optimizer's results do not change.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include "elementwise.h"

namespace sl {

void SgdStep(long n, const float* w, const float* grad, const float* buf, float* wOut, float* bufOut, float lr,
             float mu, float wd, bool nesterov) {
  // Single-threaded on purpose: memory-bound (~5 streams of n floats), and a thread hand-off costs more
  // than the loop for LeNet-sized variables on a loaded 2-core machine.
  if (mu == 0.f) {
    for (long i = 0; i < n; ++i) {
      float g = wd != 0.f ? grad[i] + w[i] * wd : grad[i];
      wOut[i] = w[i] - g * lr;
    }
    return;
  }
  for (long i = 0; i < n; ++i) {
    float g = wd != 0.f ? grad[i] + w[i] * wd : grad[i];
    float b = buf ? buf[i] * mu + g : g;
    float upd = nesterov ? g + b * mu : b;
    bufOut[i] = b;
    wOut[i] = w[i] - upd * lr;
  }
}

}  // namespace sl
