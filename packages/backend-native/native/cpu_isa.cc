#include "cpu_isa.h"

#include <cstdlib>
#include <cstring>
#include <string>

namespace sl {
namespace {

Isa Detect() {
#if defined(__x86_64__) || defined(__i386__)
  // __builtin_cpu_supports checks cpuid and (GCC >= 8, clang) that the OS saves the AVX/AVX-512 state (XGETBV).
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma"))
    return Isa::kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::kAvx2;
#endif
  return Isa::kGeneric;
}

struct State {
  Isa detected;
  Isa active;
  std::string reason;
  State() : detected(Detect()), active(detected) {
    reason = std::string(IsaName(active)) + " (cpuid)";
    const char* env = std::getenv("SPARSE_LEARNING_NATIVE_ISA");
    if (!env || !*env) return;
    Isa wanted;
    if (!ParseIsa(env, &wanted)) {
      reason += std::string("; SPARSE_LEARNING_NATIVE_ISA=") + env + " ignored (valid: generic, avx2, avx512)";
    } else if (static_cast<int>(wanted) > static_cast<int>(detected)) {
      reason += std::string("; SPARSE_LEARNING_NATIVE_ISA=") + env + " ignored: this CPU lacks it";
    } else {
      active = wanted;
      reason = std::string(IsaName(active)) + " (SPARSE_LEARNING_NATIVE_ISA=" + env + "; cpu has " +
               IsaName(detected) + ")";
    }
  }
};

State& St() {
  static State s;
  return s;
}
}  // namespace

const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx2: return "avx2";
    default: return "generic";
  }
}

bool ParseIsa(const char* name, Isa* out) {
  if (!std::strcmp(name, "avx512")) *out = Isa::kAvx512;
  else if (!std::strcmp(name, "avx2")) *out = Isa::kAvx2;
  else if (!std::strcmp(name, "generic")) *out = Isa::kGeneric;
  else return false;
  return true;
}

Isa DetectedIsa() { return St().detected; }
Isa ActiveIsa() { return St().active; }
const char* IsaReason() { return St().reason.c_str(); }

bool SetIsa(Isa isa) {
  State& s = St();
  if (static_cast<int>(isa) > static_cast<int>(s.detected)) return false;
  if (isa != s.active) {
    s.active = isa;
    s.reason = std::string(IsaName(isa)) + " (set at run time; cpu has " + IsaName(s.detected) + ")";
  }
  return true;
}

}  // namespace sl
