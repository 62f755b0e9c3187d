// The direct forward convolution (native/conv_direct_avx512.cc, issue 10 wrn-parity) against the im2col + GEMM
// forward it replaces (and, for stride 1, the input gradient as the direct kernel on the flipped filter against
// GEMM + col2im), at WRN-16-8's shapes (batch 32), in one run: the better of `reps` calls each, alternating.
// One thread: thread CPU time (steadier on a shared machine); more threads: wall time. Also checks an odd shape
// against a double-precision reference. A development tool, not part of the addon. From the repository root:
//   N=packages/backend-native/native; c++ -O3 -std=c++17 -pthread -I$N scripts/profile-conv-direct.cc \
//     $N/conv.cc $N/conv_direct_avx512.cc $N/gemm.cc $N/gemm_avx512.cc $N/blas_loader.cc $N/cpu_isa.cc \
//     -o /tmp/profile-conv-direct -ldl && /tmp/profile-conv-direct [reps=3] [threads=1]
#include <chrono>
#include <time.h>
#include <cstdio>
#include <cmath>
#include <memory>
#include <random>
#include <vector>
#include "conv.h"
#include "conv_direct.h"
#include "thread_pool.h"
#include "blas_loader.h"
#include "cpu_isa.h"
namespace sl {
namespace { std::unique_ptr<ThreadPool> gPool; }
ThreadPool& Pool() { if (!gPool) SetThreads(1); return *gPool; }
void SetThreads(int threads) { gPool = std::make_unique<ThreadPool>(threads); if (auto set = LoadOpenBlas().setThreads) set(1); }
}
using namespace sl;
using Clock = std::chrono::steady_clock;
struct Shape { const char* name; long h, ci, co, k, s, pad; int count; };
static const Shape kShapes[] = {
    {"3x3 16->128 32x32", 32, 16, 128, 3, 1, 1, 1},
    {"3x3 128->128 32x32", 32, 128, 128, 3, 1, 1, 3},
    {"3x3 s2 128->256 32->16", 32, 128, 256, 3, 2, 1, 1},
    {"1x1 s2 128->256 32->16", 32, 128, 256, 1, 2, 0, 1},
    {"3x3 256->256 16x16", 16, 256, 256, 3, 1, 1, 3},
    {"3x3 s2 256->512 16->8", 16, 256, 512, 3, 2, 1, 1},
    {"1x1 s2 256->512 16->8", 16, 256, 512, 1, 2, 0, 1},
    {"3x3 512->512 8x8", 8, 512, 512, 3, 1, 1, 3},
};
int main(int argc, char** argv) {
  int reps = argc > 1 ? atoi(argv[1]) : 3;
  int threads = argc > 2 ? atoi(argv[2]) : 1;
  SetThreads(threads);
  std::mt19937 g(1); std::uniform_real_distribution<float> u(-1, 1);
  // correctness on a small odd shape vs double
  {
    ConvParams p{3, 9, 13, 19, 3, 3, 37, 0, 0, 2, 1, 1, 1, 1, 1};
    p.oh = (p.h + 2 - 3) / p.sh + 1; p.ow = (p.w + 2 - 3) / p.sw + 1;
    std::vector<float> x(p.n*p.h*p.w*p.ci), f(9*p.ci*p.co), y(p.n*p.oh*p.ow*p.co);
    for (auto& v : x) v = u(g); for (auto& v : f) v = u(g);
    SetDirectConvMode(DirectConvMode::kForce);
    Conv2D(p, x.data(), f.data(), y.data());
    double worst = 0;
    for (long n = 0; n < p.n; ++n) for (long oy = 0; oy < p.oh; ++oy) for (long ox = 0; ox < p.ow; ++ox) for (long co = 0; co < p.co; ++co) {
      double s = 0;
      for (long ky = 0; ky < 3; ++ky) for (long kx = 0; kx < 3; ++kx) { long iy = oy*p.sh+ky-p.pt, ix = ox*p.sw+kx-p.pl; if (iy<0||iy>=p.h||ix<0||ix>=p.w) continue;
        for (long c = 0; c < p.ci; ++c) s += double(x[((n*p.h+iy)*p.w+ix)*p.ci+c]) * f[((ky*3+kx)*p.ci+c)*p.co+co]; }
      worst = std::max(worst, std::abs(s - y[((n*p.oh+oy)*p.ow+ox)*p.co+co]) / (1 + std::abs(s)));
    }
    printf("odd shape worst rel err %.3g\n", worst);
  }
  for (const Shape& s : kShapes) {
    ConvParams p{32, s.h, s.h, s.ci, s.k, s.k, s.co, 0, 0, s.s, s.s, 1, 1, s.pad, s.pad};
    p.oh = (s.h + 2*s.pad - s.k) / s.s + 1; p.ow = p.oh;
    std::vector<float> x(p.n*p.h*p.w*p.ci), f(s.k*s.k*p.ci*p.co), y0(p.n*p.oh*p.ow*p.co), y1(y0.size());
    for (auto& v : x) v = u(g); for (auto& v : f) v = u(g);
    double flop = 2.0 * p.n * p.oh * p.ow * p.co * s.k * s.k * p.ci;
    double best[2] = {1e9, 1e9};
    for (int r = 0; r < reps + 1; ++r) for (int m = 0; m < 2; ++m) {
      SetDirectConvMode(m ? DirectConvMode::kForce : DirectConvMode::kOff);
      timespec a, b; clock_gettime(threads == 1 ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &a);
      Conv2D(p, x.data(), f.data(), m ? y1.data() : y0.data());
      clock_gettime(threads == 1 ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &b);
      double ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
      if (r > 0) best[m] = std::min(best[m], ms);
    }
    double worst = 0; for (size_t i = 0; i < y0.size(); ++i) worst = std::max(worst, double(std::abs(y0[i]-y1[i]) / (1 + std::abs(y0[i]))));
    printf("fwd   %-26s im2col %7.2f ms (%5.1f GF/s)  direct %7.2f ms (%5.1f GF/s)  ratio %.2f  diff %.2g\n", s.name, best[0], flop/best[0]/1e6, best[1], flop/best[1]/1e6, best[1]/best[0], worst);
    if (s.s != 1) continue;
    // Input gradient (stride 1): col2im path against the direct kernel on the flipped filter.
    std::vector<float> dx0(x.size()), dx1(x.size());
    best[0] = best[1] = 1e9;
    for (int r = 0; r < reps + 1; ++r) for (int m = 0; m < 2; ++m) {
      SetDirectConvMode(m ? DirectConvMode::kForce : DirectConvMode::kOff);
      timespec a, b; clock_gettime(threads == 1 ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &a);
      Conv2DBackpropInput(p, y0.data(), f.data(), m ? dx1.data() : dx0.data());
      clock_gettime(threads == 1 ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &b);
      double ms = (b.tv_sec - a.tv_sec) * 1e3 + (b.tv_nsec - a.tv_nsec) / 1e6;
      if (r > 0) best[m] = std::min(best[m], ms);
    }
    worst = 0; for (size_t i = 0; i < dx0.size(); ++i) worst = std::max(worst, double(std::abs(dx0[i]-dx1[i]) / (1 + std::abs(dx0[i]))));
    printf("dgrad %-26s col2im %7.2f ms (%5.1f GF/s)  direct %7.2f ms (%5.1f GF/s)  ratio %.2f  diff %.2g\n", s.name, best[0], flop/best[0]/1e6, best[1], flop/best[1]/1e6, best[1]/best[0], worst);
  }
}
