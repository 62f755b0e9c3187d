// Per-function ISA variants of plain C++ loops (issue 10). The addon is compiled for the baseline ISA, so a
// loop the compiler would vectorise with AVX2/AVX-512 (selects, blends, wide adds) runs at SSE2 speed unless it
// is also compiled under a target attribute. SL_ISA_VARIANTS(NAME, PARAMS, ARGS) takes an always-inline NAME and
// defines NAME_generic / NAME_avx2 / NAME_avx512 (NAME inlined and vectorised for each target) and
// NAME_for(isa), which returns the variant to call; callers pass ActiveIsa(), so SPARSE_LEARNING_NATIVE_ISA and
// setIsa() apply to these loops as to the GEMM. (A lambda does not inherit its enclosing function's target
// attribute, hence named functions.)
#pragma once
#include "cpu_isa.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SL_TGT_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
#define SL_TGT_AVX2 __attribute__((target("avx2,fma")))
#else
#define SL_TGT_AVX512
#define SL_TGT_AVX2
#endif
#if defined(__GNUC__) || defined(__clang__)
#define SL_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define SL_ALWAYS_INLINE inline
#endif

#define SL_ISA_VARIANTS(NAME, PARAMS, ARGS)                                                        \
  void NAME##_generic PARAMS { NAME ARGS; }                                                        \
  SL_TGT_AVX2 void NAME##_avx2 PARAMS { NAME ARGS; }                                               \
  SL_TGT_AVX512 void NAME##_avx512 PARAMS { NAME ARGS; }                                           \
  inline decltype(&NAME##_generic) NAME##_for(::sl::Isa isa) {                                     \
    return isa == ::sl::Isa::kAvx512 ? NAME##_avx512 : isa == ::sl::Isa::kAvx2 ? NAME##_avx2 : NAME##_generic; \
  }
