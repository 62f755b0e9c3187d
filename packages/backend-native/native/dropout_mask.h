#pragma once
namespace sl {
// State of seedrandom's Alea generator (what tfjs's randomUniform draws from; core's aleaState computes it
// from a seed string).
struct AleaState {
  double s0, s1, s2, c;
};
// out[i] = floor(u_i + keep) / keep in float32, u_i = the i-th Alea draw from `state` rounded to float32: the
// multiplier of tf.dropout with that seed, bit for bit (core's DROPOUT_MASK_KERNEL contract). Sequential (the
// generator is a recurrence); returns the state after the n draws.
AleaState DropoutMultiplier(AleaState state, float keep, long n, float* out);
}  // namespace sl
