// Convolutions as im2col + GEMM, processed in chunks of images so the column buffer stays cache-sized
// (and WRN-16-8's 32x32x128 3x3 layers do not need 150 MB). The chunks are tasks that the pool's threads
// claim one at a time (ForTasks), each running im2col/col2im and a one-thread GEMM on its chunk.
#include "conv.h"
#include "conv_small.h"
#include "pool_small.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "conv_direct.h"
#include "gemm.h"
#include "isa_dispatch.h"
#include "thread_pool.h"

namespace sl {
namespace {
// Column buffer per chunk: 256 Ki floats (1 MB) keeps a chunk's im2col output in L2 for its GEMM (LeNet-5
// conv2: 8 images per chunk, forward and filter gradient ~20 % faster than with one 12.8 MB buffer, measured
// here). Override with -DSL_MAX_COL_FLOATS=... for experiments.
#ifndef SL_MAX_COL_FLOATS
#define SL_MAX_COL_FLOATS (1L << 18)
#endif
constexpr long kMaxColFloats = SL_MAX_COL_FLOATS;

bool IsPointwise(const ConvParams& p) {
  return p.kh == 1 && p.kw == 1 && p.sh == 1 && p.sw == 1 && p.pt == 0 && p.pl == 0 && p.oh == p.h && p.ow == p.w;
}

// At least this many GEMM rows (output pixels) per chunk: WRN's 8x8 maps with 512 channels have 64 rows and
// 295 Ki column floats per image, so the 1 MB cap alone gave 64-row GEMMs at half the kernel's speed
// (issue 10, measured: 3x3x512 forward 56 GFLOP/s one thread); the column buffer then exceeds L2, which costs
// less than the short GEMM.
constexpr long kMinChunkRowsDefault = 512;

// The two limits, overridable at run time (SL_CONV_MIN_ROWS / SL_CONV_MAX_COLS, or SetConvChunking: the tests
// force tiny chunks so the partial-image path runs on small shapes).
long EnvLong(const char* name, long dflt) {
  const char* v = std::getenv(name);
  return v && std::atol(v) > 0 ? std::atol(v) : dflt;
}
long gMinChunkRows = EnvLong("SL_CONV_MIN_ROWS", kMinChunkRowsDefault);
long gMaxColFloats = EnvLong("SL_CONV_MAX_COLS", kMaxColFloats);
long MinChunkRows() { return gMinChunkRows; }
long MaxColFloats() { return gMaxColFloats; }

// A chunk: `images` whole images, or (images == 1) `oyRows` output rows of one image, when one image's columns
// exceed the cap (WRN-16-8's 3x3x128 at 32x32: 4.7 MB per image, more than the 2 MB L2).
struct ChunkPlan {
  long images, oyRows;
};
ChunkPlan PlanChunks(const ConvParams& p) {
  const long perRow = p.ow * p.kh * p.kw * p.ci;  // column floats per output row (oy)
  const long perImage = p.oh * perRow;
  const long minRows = MinChunkRows(), cap = MaxColFloats();
  const long byCache = cap / std::max(1L, perImage);
  const long byRows = (minRows + p.oh * p.ow - 1) / std::max(1L, p.oh * p.ow);
  const long images = std::max(1L, std::min(p.n, std::max(byCache, byRows)));
  if (images > 1 || perImage <= cap) return {images, p.oh};
  // One image is over the cap: output rows by the cap, but at least minRows GEMM rows.
  const long oyByCache = cap / std::max(1L, perRow);
  const long oyByRows = (minRows + p.ow - 1) / std::max(1L, p.ow);
  return {1, std::max(1L, std::min(p.oh, std::max(oyByCache, oyByRows)))};
}

// cols[(img*OH + oy)*OW + ox][(ky*KW + kx)*Ci + c] = x[img, oy*sh + ky*dh - pt, ox*sw + kx*dw - pl, c] (0 outside).
// Output rows [oy0, oy1) of each image (all of them unless a chunk is part of one image).
void Im2Col(const ConvParams& p, const float* x, long n0, long count, long oy0, long oy1, float* cols) {
  const long K = p.kh * p.kw * p.ci;
  {
    for (long img = 0; img < count; ++img) {
      const float* xi = x + (n0 + img) * p.h * p.w * p.ci;
      float* ci = cols + img * (oy1 - oy0) * p.ow * K;
      for (long oy = oy0; oy < oy1; ++oy) {
        for (long ox = 0; ox < p.ow; ++ox) {
          float* row = ci + ((oy - oy0) * p.ow + ox) * K;
          for (long ky = 0; ky < p.kh; ++ky) {
            long iy = oy * p.sh + ky * p.dh - p.pt;
            float* dst = row + ky * p.kw * p.ci;
            if (iy < 0 || iy >= p.h) {
              std::memset(dst, 0, p.kw * p.ci * sizeof(float));
              continue;
            }
            const long ix0 = ox * p.sw - p.pl;
            if (p.dw == 1 && ix0 >= 0 && ix0 + p.kw <= p.w) {
              // The whole window row is contiguous in NHWC: one copy of KW*Ci floats (Ci = 1 for LeNet conv1).
              std::memcpy(dst, xi + (iy * p.w + ix0) * p.ci, p.kw * p.ci * sizeof(float));
              continue;
            }
            for (long kx = 0; kx < p.kw; ++kx) {
              long ix = ix0 + kx * p.dw;
              if (ix < 0 || ix >= p.w) std::memset(dst + kx * p.ci, 0, p.ci * sizeof(float));
              else std::memcpy(dst + kx * p.ci, xi + (iy * p.w + ix) * p.ci, p.ci * sizeof(float));
            }
          }
        }
      }
    }
  }
}

// Adjoint of Im2Col: dx[img, iy, ix, c] += cols[...]. Images are independent, so threads never collide.
void Col2Im(const ConvParams& p, const float* cols, long n0, long count, long oy0, long oy1, float* dx) {
  const long K = p.kh * p.kw * p.ci;
  {
    for (long img = 0; img < count; ++img) {
      float* xi = dx + (n0 + img) * p.h * p.w * p.ci;
      const float* ci = cols + img * (oy1 - oy0) * p.ow * K;
      for (long oy = oy0; oy < oy1; ++oy) {
        for (long ox = 0; ox < p.ow; ++ox) {
          const float* row = ci + ((oy - oy0) * p.ow + ox) * K;
          for (long ky = 0; ky < p.kh; ++ky) {
            long iy = oy * p.sh + ky * p.dh - p.pt;
            if (iy < 0 || iy >= p.h) continue;
            const long ix0 = ox * p.sw - p.pl;
            if (p.dw == 1 && ix0 >= 0 && ix0 + p.kw <= p.w) {
              const float* src = row + ky * p.kw * p.ci;
              float* dst = xi + (iy * p.w + ix0) * p.ci;
              for (long c = 0; c < p.kw * p.ci; ++c) dst[c] += src[c];
              continue;
            }
            for (long kx = 0; kx < p.kw; ++kx) {
              long ix = ix0 + kx * p.dw;
              if (ix < 0 || ix >= p.w) continue;
              const float* src = row + (ky * p.kw + kx) * p.ci;
              float* dst = xi + (iy * p.w + ix) * p.ci;
              for (long c = 0; c < p.ci; ++c) dst[c] += src[c];
            }
          }
        }
      }
    }
  }
}
}  // namespace

namespace {
// The chunks of one convolution pass, fixed by the shape and the chunking limits alone (never by the thread
// count or timing): a task is `count` whole images from n0, or (when one image's columns exceed the cap) one
// whole image whose output rows run in `rows`-row pieces, in order, on one thread (col2im of consecutive
// pieces adds into the same input rows).
struct TaskPlan {
  long tasks, size, rows;  // tasks; images per task; output rows per piece (rows < oh: the partial-image path)
  long colFloats;          // column buffer one task needs
};
TaskPlan PlanTasks(const ConvParams& p) {
  const long K = p.kh * p.kw * p.ci;
  const ChunkPlan plan = PlanChunks(p);
  if (plan.images == 1 && plan.oyRows < p.oh) {
    // Equal row pieces (32 rows at 16 per piece: 16,16).
    const long parts = (p.oh + plan.oyRows - 1) / plan.oyRows;
    const long rows = (p.oh + parts - 1) / parts;
    return {p.n, 1, rows, rows * p.ow * K};
  }
  // Equal chunks (50 images at 8 per chunk: 8,8,8,8,6,6,6 rather than ..,2).
  const long chunks = (p.n + plan.images - 1) / plan.images;
  const long size = (p.n + chunks - 1) / chunks;
  return {(p.n + size - 1) / size, size, p.oh, size * p.oh * p.ow * K};
}

// A grow-only buffer of the calling thread, one per Purpose: a pass no longer allocates and zero-fills
// (vector) or page-faults (fresh mmap) megabytes per call. Never shrinks.
template <int Purpose>
float* GrowOnlyBuffer(long floats) {
  thread_local std::unique_ptr<float[]> buf;
  thread_local long cap = 0;
  if (floats > cap) {
    buf.reset(new float[floats]);
    cap = floats;
  }
  return buf.get();
}

// Column buffer per thread (pool workers and the calling thread): at most the largest task's columns
// (WRN-16-8: 2.4 MB per thread).
float* ThreadColumns(long floats) { return GrowOnlyBuffer<0>(floats); }

// Runs fn(task, cols) for every task of a fixed list, claimed one at a time from a shared counter by the
// pool's threads (dynamic scheduling, issue 10 wrn-conv). Before, thread t took images [t*n/T, (t+1)*n/T):
// one equal half per thread and a barrier at the end, so a pass lasted as long as its slower half — on a
// shared 2-core machine, whenever the other core was taken by another process, the whole pass waited for
// the descheduled thread's half. With a counter the thread that runs takes the remaining tasks. A task's
// output never depends on which thread runs it (disjoint outputs; the filter gradient's per-slice sums are
// ordered by ForSlices), so results stay independent of timing.
template <typename F>
void ForTasks(long tasks, long colFloats, F&& fn) {
  const long threads = std::max(1L, std::min<long>(Pool().threads(), tasks));
  std::atomic<long> next{0};
  Pool().Run(threads, [&](long, long) {
    SerialGemmScope serial;
    float* cols = ThreadColumns(colFloats);
    for (long task = next.fetch_add(1); task < tasks; task = next.fetch_add(1)) fn(task, cols);
  });
}

// fn(n0, count, oy0, oy1, cols) for every piece of task `task`, in order.
template <typename F>
void ForPieces(const ConvParams& p, const TaskPlan& plan, long task, float* cols, F&& fn) {
  const long n0 = task * plan.size, count = std::min(plan.size, p.n - n0);
  for (long oy0 = 0; oy0 < p.oh; oy0 += plan.rows) fn(n0, count, oy0, std::min(p.oh, oy0 + plan.rows), cols);
}
}  // namespace

void SetConvChunking(long minRows, long maxColFloats) {
  gMinChunkRows = minRows > 0 ? minRows : EnvLong("SL_CONV_MIN_ROWS", kMinChunkRowsDefault);
  gMaxColFloats = maxColFloats > 0 ? maxColFloats : EnvLong("SL_CONV_MAX_COLS", kMaxColFloats);
}

void Conv2D(const ConvParams& p, const float* x, const float* f, float* y) {
  if (ConvSmallApplies(p)) return ConvSmallForward(p, x, f, y);  // one input channel: conv_small.cc
  if (DirectConv2D(p, x, f, y)) return;  // AVX-512, Ci >= 16: im2col-free kernel (conv_direct_avx512.cc)
  const long K = p.kh * p.kw * p.ci, rowsPerImage = p.oh * p.ow;
  if (IsPointwise(p)) {
    Sgemm(false, false, p.n * rowsPerImage, p.co, K, 1.f, x, K, f, p.co, 0.f, y, p.co);
    return;
  }
  const TaskPlan plan = PlanTasks(p);
  ForTasks(plan.tasks, plan.colFloats, [&](long task, float* cols) {
    ForPieces(p, plan, task, cols, [&](long n0, long count, long oy0, long oy1, float* c) {
      Im2Col(p, x, n0, count, oy0, oy1, c);
      const long rows = count * (oy1 - oy0) * p.ow;
      Sgemm(false, false, rows, p.co, K, 1.f, c, K, f, p.co, 0.f, y + (n0 * rowsPerImage + oy0 * p.ow) * p.co, p.co);
    });
  });
}

void Conv2DBackpropInput(const ConvParams& p, const float* dy, const float* f, float* dx) {
  if (DirectConv2DBackpropInput(p, dy, f, dx)) return;  // stride 1: the direct kernel on the flipped filter
  const long K = p.kh * p.kw * p.ci, rowsPerImage = p.oh * p.ow;
  if (IsPointwise(p)) {
    Sgemm(false, true, p.n * rowsPerImage, K, p.co, 1.f, dy, p.co, f, p.co, 0.f, dx, K);
    return;
  }
  const TaskPlan plan = PlanTasks(p);
  ForTasks(plan.tasks, plan.colFloats, [&](long task, float* cols) {
    ForPieces(p, plan, task, cols, [&](long n0, long count, long oy0, long oy1, float* c) {
      // The first piece of a task clears its images; later pieces of the same image (same task) add to them.
      if (oy0 == 0) std::memset(dx + n0 * p.h * p.w * p.ci, 0, count * p.h * p.w * p.ci * sizeof(float));
      const long rows = count * (oy1 - oy0) * p.ow;
      Sgemm(false, true, rows, K, p.co, 1.f, dy + (n0 * rowsPerImage + oy0 * p.ow) * p.co, p.co, f, p.co, 0.f, c, K);
      Col2Im(p, c, n0, count, oy0, oy1, dx);
    });
  });
}

namespace {
// How many partial sums the filter gradient keeps: one per thread was the old split (a thread's half of the
// batch); with tasks claimed dynamically, slices are fixed ranges of tasks, each summed in order by whichever
// thread claims it, so twice the threads lets a running thread take over a slice of a descheduled one.
long FilterSlices(long tasks) {
  const long threads = Pool().threads();
  return threads <= 1 ? 1 : std::min(tasks, 2 * threads);
}

// The calling thread's buffer for the filter gradient's extra partial sums (9.4 MB each at WRN-16-8's
// 3x3x512x512): reused across calls instead of page-faulting fresh memory every pass.
float* PartialBuffer(long floats) { return GrowOnlyBuffer<1>(floats); }
}  // namespace

void Conv2DBackpropFilter(const ConvParams& p, const float* x, const float* dy, float* df) {
  if (ConvSmallApplies(p)) return ConvSmallFilterGrad(p, x, dy, df);  // one input channel: conv_small.cc
  const long K = p.kh * p.kw * p.ci, rowsPerImage = p.oh * p.ow;
  if (IsPointwise(p)) {
    Sgemm(true, false, K, p.co, p.n * rowsPerImage, 1.f, x, K, dy, p.co, 0.f, df, p.co);
    return;
  }
  // Slice s sums tasks [s*T/S, (s+1)*T/S) in order into df (s = 0) or its own buffer; the slices are added
  // in slice order afterwards: the result depends on the thread count (it fixes S), never on timing.
  const TaskPlan plan = PlanTasks(p);
  const long slices = FilterSlices(plan.tasks), size = K * p.co;
  float* partial = slices > 1 ? PartialBuffer((slices - 1) * size) : nullptr;
  ForTasks(slices, plan.colFloats, [&](long s, float* cols) {
    float* out = s == 0 ? df : partial + (s - 1) * size;
    bool started = false;
    for (long task = plan.tasks * s / slices; task < plan.tasks * (s + 1) / slices; ++task) {
      ForPieces(p, plan, task, cols, [&](long n0, long count, long oy0, long oy1, float* c) {
        Im2Col(p, x, n0, count, oy0, oy1, c);
        const long rows = count * (oy1 - oy0) * p.ow;
        Sgemm(true, false, K, p.co, rows, 1.f, c, K, dy + (n0 * rowsPerImage + oy0 * p.ow) * p.co, p.co,
              started ? 1.f : 0.f, out, p.co);
        started = true;
      });
    }
    if (!started) std::memset(out, 0, size * sizeof(float));
  });
  if (slices == 1) return;
  // The reduction, split over the pool by columns of df (each element summed in slice order).
  Pool().Run(size, [&](long b, long e) {
    for (long s = 1; s < slices; ++s) {
      const float* src = partial + (s - 1) * size;
      for (long i = b; i < e; ++i) df[i] += src[i];
    }
  }, 1024);
}

namespace {
SL_ALWAYS_INLINE void MaxPoolRows(const PoolParams& p, const float* x, float* y, long b, long e) {
    std::vector<float> best(p.c);
    for (long r = b; r < e; ++r) {
      long img = r / p.oh, oy = r % p.oh;
      const float* xi = x + img * p.h * p.w * p.c;
      long y0 = std::max(0L, oy * p.sh - p.pt), y1 = std::min(p.h, oy * p.sh - p.pt + p.kh);
      for (long ox = 0; ox < p.ow; ++ox) {
        long x0 = std::max(0L, ox * p.sw - p.pl), x1 = std::min(p.w, ox * p.sw - p.pl + p.kw);
        std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
        for (long iy = y0; iy < y1; ++iy)
          for (long ix = x0; ix < x1; ++ix) {
            const float* src = xi + (iy * p.w + ix) * p.c;
            for (long c = 0; c < p.c; ++c) best[c] = src[c] > best[c] ? src[c] : best[c];
          }
        std::memcpy(y + ((img * p.oh + oy) * p.ow + ox) * p.c, best.data(), p.c * sizeof(float));
      }
    }
}
SL_ISA_VARIANTS(MaxPoolRows, (const PoolParams& p, const float* x, float* y, long b, long e), (p, x, y, b, e))
}  // namespace

void MaxPool(const PoolParams& p, const float* x, float* y) {
  if (PoolSmallApplies(p)) return PoolSmallForward(p, x, y);  // 2x2 / 2, tiled: pool_small.cc
  const auto rows = MaxPoolRows_for(ActiveIsa());
  Pool().Run(p.n * p.oh, [&](long b, long e) { rows(p, x, y, b, e); });
}

namespace {
// Windows that tile the input exactly (stride = window, no padding, e.g. LeNet's 2x2/2): every input element
// is in exactly one window, so dx is written once (no memset, no scattered +=). Branch-free over channels
// (select instead of if): after ReLU about half the inputs are 0, and a data-dependent branch per element
// mispredicted so often that this kernel cost ~3x its memory traffic. Same routing as below: the first
// maximum of the window in row-major order (strict >), no gradient when no element beats -inf (NaN/-inf).
SL_ALWAYS_INLINE void MaxPoolGradTiledRows(const PoolParams& p, const float* x, const float* dy, float* dx, long b, long e) {
    const long C = p.c;
    std::vector<float> bestV(C);
    std::vector<int32_t> argV(C);
    float* best = bestV.data();
    int32_t* arg = argV.data();
    for (long r = b; r < e; ++r) {
      const long img = r / p.oh, oy = r % p.oh;
      const float* xi = x + img * p.h * p.w * C;
      float* dxi = dx + img * p.h * p.w * C;
      for (long ox = 0; ox < p.ow; ++ox) {
        for (long c = 0; c < C; ++c) {
          best[c] = -std::numeric_limits<float>::infinity();
          arg[c] = -1;
        }
        for (long ky = 0; ky < p.kh; ++ky)
          for (long kx = 0; kx < p.kw; ++kx) {
            const int32_t k = static_cast<int32_t>(ky * p.kw + kx);
            const float* __restrict src = xi + ((oy * p.kh + ky) * p.w + ox * p.kw + kx) * C;
            for (long c = 0; c < C; ++c) {
              const bool gt = src[c] > best[c];
              best[c] = gt ? src[c] : best[c];
              arg[c] = gt ? k : arg[c];
            }
          }
        const float* __restrict g = dy + ((img * p.oh + oy) * p.ow + ox) * C;
        for (long ky = 0; ky < p.kh; ++ky)
          for (long kx = 0; kx < p.kw; ++kx) {
            const int32_t k = static_cast<int32_t>(ky * p.kw + kx);
            float* __restrict d = dxi + ((oy * p.kh + ky) * p.w + ox * p.kw + kx) * C;
            for (long c = 0; c < C; ++c) d[c] = arg[c] == k ? g[c] : 0.f;
          }
      }
    }
}
SL_ISA_VARIANTS(MaxPoolGradTiledRows, (const PoolParams& p, const float* x, const float* dy, float* dx, long b, long e),
                (p, x, dy, dx, b, e))

void MaxPoolGradTiled(const PoolParams& p, const float* x, const float* dy, float* dx) {
  const auto rows = MaxPoolGradTiledRows_for(ActiveIsa());
  Pool().Run(p.n * p.oh, [&](long b, long e) { rows(p, x, dy, dx, b, e); });
}
}  // namespace

void MaxPoolGrad(const PoolParams& p, const float* x, const float* dy, float* dx) {
  if (PoolSmallApplies(p)) return PoolSmallGrad(p, x, dy, dx);  // 2x2 / 2, tiled: pool_small.cc
  if (p.sh == p.kh && p.sw == p.kw && p.pt == 0 && p.pl == 0 && p.h == p.oh * p.kh && p.w == p.ow * p.kw) {
    MaxPoolGradTiled(p, x, dy, dx);
    return;
  }
  std::memset(dx, 0, p.n * p.h * p.w * p.c * sizeof(float));
  // Split by image: windows of one image may overlap, different images never share dx.
  Pool().Run(p.n, [&](long b, long e) {
    std::vector<float> best(p.c);
    std::vector<long> arg(p.c);
    for (long img = b; img < e; ++img) {
      const float* xi = x + img * p.h * p.w * p.c;
      float* dxi = dx + img * p.h * p.w * p.c;
      for (long oy = 0; oy < p.oh; ++oy) {
        long y0 = std::max(0L, oy * p.sh - p.pt), y1 = std::min(p.h, oy * p.sh - p.pt + p.kh);
        for (long ox = 0; ox < p.ow; ++ox) {
          long x0 = std::max(0L, ox * p.sw - p.pl), x1 = std::min(p.w, ox * p.sw - p.pl + p.kw);
          std::fill(best.begin(), best.end(), -std::numeric_limits<float>::infinity());
          std::fill(arg.begin(), arg.end(), -1L);
          for (long iy = y0; iy < y1; ++iy)
            for (long ix = x0; ix < x1; ++ix) {
              long off = (iy * p.w + ix) * p.c;
              const float* src = xi + off;
              for (long c = 0; c < p.c; ++c)
                if (src[c] > best[c]) { best[c] = src[c]; arg[c] = off + c; }
            }
          const float* g = dy + ((img * p.oh + oy) * p.ow + ox) * p.c;
          for (long c = 0; c < p.c; ++c)
            if (arg[c] >= 0) dxi[arg[c]] += g[c];
        }
      }
    }
  });
}

namespace {
SL_ALWAYS_INLINE void SumLeadingBody(const float* x, long rows, long cols, float* out, double* acc) {
  for (long c = 0; c < cols; ++c) acc[c] = 0.0;
  for (long r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    for (long c = 0; c < cols; ++c) acc[c] += xr[c];
  }
  for (long c = 0; c < cols; ++c) out[c] = static_cast<float>(acc[c]);
}
SL_ISA_VARIANTS(SumLeadingBody, (const float* x, long rows, long cols, float* out, double* acc), (x, rows, cols, out, acc))

SL_ALWAYS_INLINE void BiasActivationRows(float* out, long channels, const float* bias, long biasLen, int activation,
                                         long b, long e) {
    for (long r = b; r < e; ++r) {
      float* o = out + r * channels;
      if (bias && biasLen == channels) for (long c = 0; c < channels; ++c) o[c] += bias[c];
      else if (bias) for (long c = 0; c < channels; ++c) o[c] += bias[0];
      if (activation == 1) {
        for (long c = 0; c < channels; ++c) o[c] = o[c] > 0.f ? o[c] : (o[c] != o[c] ? o[c] : 0.f);
      } else if (activation == 2) {
        for (long c = 0; c < channels; ++c) o[c] = o[c] < 0.f ? 0.f : (o[c] > 6.f ? 6.f : o[c]);
      }
    }
}
SL_ISA_VARIANTS(BiasActivationRows, (float* out, long channels, const float* bias, long biasLen, int activation, long b, long e),
                (out, channels, bias, biasLen, activation, b, e))
}  // namespace

void SumLeading(const float* x, long rows, long cols, float* out) {
  // Double accumulators: as accurate as or better than the stock float32 loop, whatever the row count.
  std::vector<double> acc(cols, 0.0);
  SumLeadingBody_for(ActiveIsa())(x, rows, cols, out, acc.data());
}

void BiasActivation(float* out, long rows, long channels, const float* bias, long biasLen, int activation) {
  const long grain = std::max(1L, (1L << 14) / std::max(1L, channels));
  const auto rowsFn = BiasActivationRows_for(ActiveIsa());
  auto work = [&](long b, long e) { rowsFn(out, channels, bias, biasLen, activation, b, e); };
  if (rows * channels < (1L << 16)) work(0, rows);
  else Pool().Run(rows, work, grain);
}

}  // namespace sl
