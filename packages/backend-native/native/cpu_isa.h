// Runtime CPU dispatch (issue 10): the addon is compiled for the baseline x86-64 ISA, and the hot kernels
// exist in several variants (per-function target attributes), one of which is chosen when the addon loads
// from cpuid -- never from -march=native at build time, so a prebuilt or copied addon runs on any x86-64 CPU.
#pragma once

namespace sl {

// Ordered: a higher value implies every lower one on the machines we dispatch on.
enum class Isa : int { kGeneric = 0, kAvx2 = 1, kAvx512 = 2 };

// Names as printed and accepted: "generic", "avx2" (AVX2 + FMA), "avx512" (AVX-512 F/BW/DQ/VL).
const char* IsaName(Isa isa);
// Parses a name; returns false for an unknown one.
bool ParseIsa(const char* name, Isa* out);
// Best ISA this CPU (and OS: XSAVE state enabled) supports.
Isa DetectedIsa();
// The ISA the kernels use now: DetectedIsa(), lowered by SPARSE_LEARNING_NATIVE_ISA at load or SetIsa().
Isa ActiveIsa();
// Switches the active variant (tests run every variant against the reference). Returns false, and changes
// nothing, when the CPU does not support `isa`.
bool SetIsa(Isa isa);
// Why the active ISA is what it is (e.g. "avx512 (cpuid)" or "avx2 (SPARSE_LEARNING_NATIVE_ISA=avx2; cpu has avx512)").
const char* IsaReason();

}  // namespace sl
