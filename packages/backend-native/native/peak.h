#pragma once
#include "cpu_isa.h"
namespace sl {
// The machine's FMA peak for one ISA variant (issue 10): a register-only loop of independent fused
// multiply-adds (no memory traffic), `threads` copies in parallel on the pool; returns GFLOP/s (2 per lane
// per FMA). The reference against which the bench reports GEMM efficiency.
double FmaPeakGflops(Isa isa, int threads, double seconds);
}  // namespace sl
