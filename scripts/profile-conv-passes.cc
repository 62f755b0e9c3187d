// Per-pass profile of the native convolutions at WRN-16-8's shapes (issue 10): wall time, GFLOP/s and, per
// thread, the time in im2col / GEMM / col2im and the filter-gradient reduction, on 1 and 2 threads; and the
// plain GEMM of the same (M, N, K) as the ceiling. A development tool, not part of the addon: it includes
// conv.cc to time the same chunks the addon runs. Build and run (from the repository root):
//   N=packages/backend-native/native; c++ -O3 -std=c++17 -pthread -I$N scripts/profile-conv-passes.cc \
//     $N/gemm.cc $N/gemm_avx512.cc $N/conv_direct_avx512.cc $N/blas_loader.cc $N/cpu_isa.cc \
//     -o /tmp/profile-conv -ldl && /tmp/profile-conv [reps]
// (Its forward column times the im2col chunks; the direct forward kernel: scripts/profile-conv-direct.cc.)
// Anchor: scripts/profile-torch-conv.py (PyTorch's oneDNN passes at the same shapes).
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <thread>

#include "../packages/backend-native/native/conv.cc"
#include "blas_loader.h"

namespace sl {
namespace {
std::unique_ptr<ThreadPool> gPool;
}
ThreadPool& Pool() {
  if (!gPool) SetThreads(1);
  return *gPool;
}
void SetThreads(int threads) {
  gPool = std::make_unique<ThreadPool>(threads);
  if (auto set = LoadOpenBlas().setThreads) set(1);
}
}  // namespace sl

using namespace sl;
using Clock = std::chrono::steady_clock;
static double Ms(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

// The addon's task loop (conv.cc ForTasks) with the thread index passed on, for per-thread timing.
template <typename F>
void Tasks(const ConvParams& p, F&& fn) {
  const TaskPlan plan = PlanTasks(p);
  std::atomic<long> next{0};
  Pool().Run(std::min<long>(Pool().threads(), plan.tasks), [&](long t, long) {
    SerialGemmScope serial;
    float* cols = ThreadColumns(plan.colFloats);
    for (long task = next.fetch_add(1); task < plan.tasks; task = next.fetch_add(1))
      ForPieces(p, plan, task, cols, [&](long n0, long count, long oy0, long oy1, float* c) { fn(t, n0, count, oy0, oy1, c); });
  });
}

struct Shape { const char* name; long h, ci, co, k, s, pad; int count; };
// WRN-16-8 at batch 32 (count: how many convolutions of the shape one step has).
static const Shape kShapes[] = {
    {"stem 3x3 3->16 32x32", 32, 3, 16, 3, 1, 1, 1},
    {"3x3 16->128 32x32", 32, 16, 128, 3, 1, 1, 1},
    {"1x1 16->128 32x32", 32, 16, 128, 1, 1, 0, 1},
    {"3x3 128->128 32x32", 32, 128, 128, 3, 1, 1, 3},
    {"3x3 s2 128->256 32->16", 32, 128, 256, 3, 2, 1, 1},
    {"1x1 s2 128->256 32->16", 32, 128, 256, 1, 2, 0, 1},
    {"3x3 256->256 16x16", 16, 256, 256, 3, 1, 1, 3},
    {"3x3 s2 256->512 16->8", 16, 256, 512, 3, 2, 1, 1},
    {"1x1 s2 256->512 16->8", 16, 256, 512, 1, 2, 0, 1},
    {"3x3 512->512 8x8", 8, 512, 512, 3, 1, 1, 3},
};

struct Split { double im2col = 0, gemm = 0, col2im = 0, memset = 0; };

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 5;
  const long n = 32;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1, 1);
  printf("shape | pass | threads | wall ms (median) | GFLOP/s | plain GEMM ms | per thread: im2col / gemm / col2im+memset ms | reduce ms (tasks claimed dynamically, conv.cc ForTasks)\n");
  double tot[3][3] = {};  // [threads][pass] weighted by count
  for (const Shape& s : kShapes) {
    ConvParams p{n, s.h, s.h, s.ci, s.k, s.k, s.co, 0, 0, s.s, s.s, 1, 1, s.pad, s.pad};
    p.oh = (s.h + 2 * s.pad - s.k) / s.s + 1;
    p.ow = p.oh;
    const long K = p.kh * p.kw * p.ci, M = n * p.oh * p.ow;
    std::vector<float> x(n * p.h * p.w * p.ci), f(K * p.co), y(M * p.co), dy(M * p.co), dx(x.size()), df(f.size());
    for (auto* v : {&x, &f, &dy}) for (auto& e : *v) e = u(rng);
    const double flop = 2.0 * M * K * p.co;
    for (int threads : {1, 2}) {
      SetThreads(threads);
      for (int pass = 0; pass < 3; ++pass) {
        std::vector<double> walls, gemms;
        std::vector<Split> splits(threads);
        double reduce = 0;
        for (int r = 0; r < reps + 1; ++r) {
          std::vector<Split> sp(threads);
          auto t0 = Clock::now();
          double red = 0;
          if (IsPointwise(p)) {
            if (pass == 0) Conv2D(p, x.data(), f.data(), y.data());
            else if (pass == 1) Conv2DBackpropInput(p, dy.data(), f.data(), dx.data());
            else Conv2DBackpropFilter(p, x.data(), dy.data(), df.data());
          } else if (pass == 0) {
            Tasks(p, [&](long t, long n0, long count, long oy0, long oy1, float* cols) {
              auto a = Clock::now();
              Im2Col(p, x.data(), n0, count, oy0, oy1, cols);
              auto b = Clock::now();
              const long rows = count * (oy1 - oy0) * p.ow;
              Sgemm(false, false, rows, p.co, K, 1.f, cols, K, f.data(), p.co, 0.f, y.data() + (n0 * p.oh * p.ow + oy0 * p.ow) * p.co, p.co);
              auto c = Clock::now();
              sp[t].im2col += Ms(a, b); sp[t].gemm += Ms(b, c);
            });
          } else if (pass == 1) {
            Tasks(p, [&](long t, long n0, long count, long oy0, long oy1, float* cols) {
              auto a = Clock::now();
              if (oy0 == 0) std::memset(dx.data() + n0 * p.h * p.w * p.ci, 0, count * p.h * p.w * p.ci * sizeof(float));
              auto b = Clock::now();
              const long rows = count * (oy1 - oy0) * p.ow;
              Sgemm(false, true, rows, K, p.co, 1.f, dy.data() + (n0 * p.oh * p.ow + oy0 * p.ow) * p.co, p.co, f.data(), p.co, 0.f, cols, K);
              auto c = Clock::now();
              Col2Im(p, cols, n0, count, oy0, oy1, dx.data());
              auto d = Clock::now();
              sp[t].memset += Ms(a, b); sp[t].gemm += Ms(b, c); sp[t].col2im += Ms(c, d);
            });
          } else {
            const TaskPlan plan = PlanTasks(p);
            const long slices = FilterSlices(plan.tasks), size = K * p.co;
            std::vector<float> partial(std::max(1L, slices - 1) * size);
            std::atomic<long> next{0};
            Pool().Run(std::min<long>(Pool().threads(), slices), [&](long t, long) {
              SerialGemmScope serial;
              float* cols = ThreadColumns(plan.colFloats);
              for (long sl = next.fetch_add(1); sl < slices; sl = next.fetch_add(1)) {
                float* out = sl == 0 ? df.data() : partial.data() + (sl - 1) * size;
                bool started = false;
                for (long task = plan.tasks * sl / slices; task < plan.tasks * (sl + 1) / slices; ++task)
                  ForPieces(p, plan, task, cols, [&](long n0, long count, long oy0, long oy1, float* c) {
                    auto a = Clock::now();
                    Im2Col(p, x.data(), n0, count, oy0, oy1, c);
                    auto b = Clock::now();
                    const long rows = count * (oy1 - oy0) * p.ow;
                    Sgemm(true, false, K, p.co, rows, 1.f, c, K, dy.data() + (n0 * p.oh * p.ow + oy0 * p.ow) * p.co, p.co, started ? 1.f : 0.f, out, p.co);
                    auto d = Clock::now();
                    started = true;
                    sp[t].im2col += Ms(a, b); sp[t].gemm += Ms(b, d);
                  });
              }
            });
            auto a = Clock::now();
            if (slices > 1)
              Pool().Run(size, [&](long b, long e) {
                for (long sl = 1; sl < slices; ++sl)
                  for (long i = b; i < e; ++i) df[i] += partial[(sl - 1) * size + i];
              }, 1024);
            red = Ms(a, Clock::now());
          }
          auto t1 = Clock::now();
          if (r == 0) continue;  // warm-up (GEMM shape timing happens here)
          walls.push_back(Ms(t0, t1));
          reduce += red / reps;
          for (int t = 0; t < threads; ++t) {
            splits[t].im2col += sp[t].im2col / reps; splits[t].gemm += sp[t].gemm / reps;
            splits[t].col2im += sp[t].col2im / reps; splits[t].memset += sp[t].memset / reps;
          }
        }
        // The plain GEMM of the whole pass on `threads` threads (pool-split), as the ceiling.
        std::vector<float> A(M * std::max(K, p.co)), B(std::max(M, K) * p.co), C(pass == 2 ? K * p.co : M * std::max(K, p.co));
        for (int r = 0; r < reps + 1; ++r) {
          auto a = Clock::now();
          if (pass == 0) Sgemm(false, false, M, p.co, K, 1.f, A.data(), K, B.data(), p.co, 0.f, C.data(), p.co);
          else if (pass == 1) Sgemm(false, true, M, K, p.co, 1.f, A.data(), p.co, B.data(), p.co, 0.f, C.data(), K);
          else Sgemm(true, false, K, p.co, M, 1.f, A.data(), K, B.data(), p.co, 0.f, C.data(), p.co);
          if (r) gemms.push_back(Ms(a, Clock::now()));
        }
        std::sort(walls.begin(), walls.end());
        std::sort(gemms.begin(), gemms.end());
        const double w = walls[walls.size() / 2], g = gemms[gemms.size() / 2];
        tot[threads][pass] += w * s.count;
        printf("%s | %s | %d | %.2f | %.0f | %.2f (%.0f GF/s) |", s.name, pass == 0 ? "fwd" : pass == 1 ? "dgrad" : "wgrad", threads, w,
               flop / w / 1e6, g, flop / g / 1e6);
        for (int t = 0; t < threads; ++t)
          printf(" t%d %.2f/%.2f/%.2f", t, splits[t].im2col, splits[t].gemm, splits[t].col2im + splits[t].memset);
        printf(" | %.2f\n", reduce);
        fflush(stdout);
      }
    }
  }
  for (int threads : {1, 2})
    printf("total per step, %d thread(s): fwd %.0f ms, dgrad %.0f ms, wgrad %.0f ms\n", threads, tot[threads][0], tot[threads][1], tot[threads][2]);
}
