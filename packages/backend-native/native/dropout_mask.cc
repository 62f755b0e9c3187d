// The dropout multiplier drawn natively (issue 10, wrn-parity). tfjs's tf.dropout draws its uniforms one at a
// time in JavaScript (seedrandom's Alea, ~15-30 ns each; WRN-16-8 draws 14.7 M per step) and then runs add,
// floor and div over them; this is the same generator and the same float32 operations in one C++ loop.
//
// Bit-identical to JavaScript: Alea is plain IEEE double arithmetic (no FMA contraction here, as in JS), the
// draw is rounded to float32 like a Float32Array store, and the mask arithmetic is one rounded float32
// operation each, like the kernels it replaces.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include "dropout_mask.h"

#include <cmath>
#include <cstdint>

#include "isa_dispatch.h"

namespace sl {
namespace {
constexpr double kTwoPowMinus32 = 2.3283064365386963e-10;

// Alea's step is t = 2091639*s0 + c*2^-32; c' = t|0; s2' = t - c'. Written literally, every draw waits for the
// previous one's c (multiply, add, float->int->float: ~20 cycles). But c*2^-32 < 2091639*2^-32 < 2^-11, so
// with a = 2091639*s0 (known three draws ahead) floor(t) is floor(a) or floor(a) + 1, the latter only when
// t >= floor(a) + 1 (about 1 draw in 4000): a predicted branch takes c off the critical path. Exact: t >= a
// (rounding is monotone and c >= 0), t < floor(a) + 2, and t|0 == floor(t) for 0 <= t < 2^31.
SL_ALWAYS_INLINE AleaState DrawBody(AleaState st, float keep, long n, float* __restrict out) {
  double s0 = st.s0, s1 = st.s1, s2 = st.s2, c = st.c;
  // u + keep lies in [0, 2), so floor(u + keep) is 0 or 1 and the quotient 0 (+0: keep > 0) or 1/keep: the
  // same float32 values without a division per element.
  const float kept = 1.f / keep;
  for (long i = 0; i < n; ++i) {
    const double a = 2091639.0 * s0;
    const double t = a + c * kTwoPowMinus32;
    double cn = std::floor(a);
    if (__builtin_expect(t >= cn + 1.0, 0)) cn += 1.0;
    s0 = s1;
    s1 = s2;
    s2 = t - cn;
    c = cn;
    // tfjs: values[i] = 0 + 1 * s2 (exact), stored to a Float32Array; then add(u, keep), floor, div(., keep).
    const float u = static_cast<float>(s2);
    out[i] = u + keep >= 1.f ? kept : 0.f;
  }
  return {s0, s1, s2, c};
}
SL_ALWAYS_INLINE void Draw(AleaState* st, float keep, long n, float* out) { *st = DrawBody(*st, keep, n, out); }
SL_ISA_VARIANTS(Draw, (AleaState * st, float keep, long n, float* out), (st, keep, n, out))
}  // namespace

AleaState DropoutMultiplier(AleaState state, float keep, long n, float* out) {
  Draw_for(ActiveIsa())(&state, keep, n, out);
  return state;
}
}  // namespace sl
