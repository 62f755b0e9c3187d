// Fixed-width blocks of CB floats as GCC/Clang vector types, for kernels vectorised over channels
// (conv_small.cc; lenet5-step). Inlined into SL_ISA_VARIANTS bodies, they compile to one
// AVX-512 register (16), AVX2 register (8) or SSE register (4) per block, or are split into narrower ones
// where the target lacks the width.
#pragma once
#include <cstring>

#include "isa_dispatch.h"

namespace sl {
// Why vector types rather than loops over float arrays: in conv_small.cc's filter gradient, 5 x 16 sums held in
// a float array were left in memory (measured: 24-39 ms at LeNet's conv1 shape instead of ~1 ms).
template <int CB>
struct Block;
template <>
struct Block<16> {
  typedef float T __attribute__((vector_size(64)));
};
template <>
struct Block<8> {
  typedef float T __attribute__((vector_size(32)));
};
template <>
struct Block<4> {
  typedef float T __attribute__((vector_size(16)));
};
template <>
struct Block<1> {
  typedef float T;
};
template <int CB>
SL_ALWAYS_INLINE typename Block<CB>::T LoadBlock(const float* p) {
  typename Block<CB>::T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
template <int CB>
SL_ALWAYS_INLINE void StoreBlock(float* p, typename Block<CB>::T v) {
  std::memcpy(p, &v, sizeof v);
}

}  // namespace sl
