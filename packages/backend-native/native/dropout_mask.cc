// The dropout multiplier drawn natively (issue 10, wrn-parity). tfjs's tf.dropout draws its uniforms one at a
// time in JavaScript (seedrandom's Alea; 14.7 M per WRN-16-8 step took 105-125 ms in a JavaScript loop on a
// loaded machine here) and then runs add, floor and div over them; this is the same generator and the same
// float32 operations in C++ (the integer form below: 25 ms for 14.7 M on the same loaded machine).
//
// Bit-identical to JavaScript (see DrawFixed for the integer form used for seedrandom's states): Alea is plain IEEE double arithmetic (no FMA contraction here, as in JS), the
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

// The same generator in 64-bit integers, for the states seedrandom produces: Mash returns multiples of 2^-32,
// so s0, s1, s2 are k * 2^-32 (k < 2^32) and c an integer; then 2091639*s0 + c*2^-32 = (2091639*k + c) * 2^-32
// with 2091639*k + c < 2^53 — every double operation of the JavaScript step is exact, and the step is
//   T = 2091639*K0 + C;  C' = T >> 32;  K2' = T & (2^32 - 1)
// in integers: bit-identical, and its dependency chains are a multiply-add per three draws and an add + shift
// per draw (~2-3 cycles a draw against ~6 for the double loop). Returns false (nothing written) for any other
// state, which the double loop then handles.
constexpr double kTwoPow32 = 4294967296.0;
bool ToFixed(double s, uint64_t* k) {
  if (!(s >= 0.0 && s < 1.0)) return false;
  const double scaled = s * kTwoPow32;  // exact (a power-of-two scaling)
  *k = static_cast<uint64_t>(scaled);
  return static_cast<double>(*k) == scaled;
}

SL_ALWAYS_INLINE void DrawFixed(uint64_t* state, float keep, long n, float* __restrict out) {
  uint64_t k0 = state[0], k1 = state[1], k2 = state[2], c = state[3];
  const float kept = 1.f / keep;
  // In blocks: the sequential draws into an L1 buffer, then the mask over the block as a separate loop the
  // compiler vectorises (a select per element: inline, the 0-or-kept choice was an unpredictable branch).
  constexpr long kBlock = 1024;
  uint32_t k[kBlock];
  for (long i0 = 0; i0 < n; i0 += kBlock) {
    const long m = n - i0 < kBlock ? n - i0 : kBlock;
    for (long i = 0; i < m; ++i) {
      const uint64_t t = 2091639u * k0 + c;
      c = t >> 32;
      k0 = k1;
      k1 = k2;
      k2 = t & 0xffffffffu;
      k[i] = static_cast<uint32_t>(k2);
    }
    float* o = out + i0;
    for (long i = 0; i < m; ++i) {
      const float u = static_cast<float>(static_cast<double>(k[i]) * kTwoPowMinus32);  // s2, rounded to float32
      o[i] = u + keep >= 1.f ? kept : 0.f;
    }
  }
  state[0] = k0;
  state[1] = k1;
  state[2] = k2;
  state[3] = c;
}
SL_ISA_VARIANTS(DrawFixed, (uint64_t * state, float keep, long n, float* out), (state, keep, n, out))
}  // namespace

AleaState DropoutMultiplier(AleaState state, float keep, long n, float* out) {
  uint64_t fixed[4];
  const bool exact = ToFixed(state.s0, &fixed[0]) && ToFixed(state.s1, &fixed[1]) && ToFixed(state.s2, &fixed[2]) &&
                     state.c >= 0.0 && state.c < 2097152.0 && static_cast<double>(static_cast<uint64_t>(state.c)) == state.c;
  if (!exact) {
    Draw_for(ActiveIsa())(&state, keep, n, out);
    return state;
  }
  fixed[3] = static_cast<uint64_t>(state.c);
  DrawFixed_for(ActiveIsa())(fixed, keep, n, out);
  return {fixed[0] * kTwoPowMinus32, fixed[1] * kTwoPowMinus32, fixed[2] * kTwoPowMinus32, static_cast<double>(fixed[3])};
}
}  // namespace sl
