// Direct forward convolution for NHWC / HWIO on AVX-512 (issue 10, wrn-parity).
//
// Why (BENCHMARKS.md, "WRN-16-8 convolution passes per shape"): WRN-16-8's forward passes ran as im2col + a
// GEMM of (output pixels) x (Co = 128-512) x (K = 9*Ci) at 114-132 GFLOP/s per core, where oneDNN's direct
// kernels reach 150-165: the GEMM re-packs the 9x-inflated column matrix into 14-row slivers that are then used
// for only Co/32 = 4-16 micro-tiles (at 1024^3 a packed sliver feeds 32), and im2col writes and re-reads 9x
// the input. Here nothing is inflated:
//   - per task (one image, or a band of its output rows), the input rows it needs are copied once into a
//     zero-padded, channel-major buffer T[row][channel][column] (16 x 16 in-register transposes; ~1.1x the
//     input band, L2-resident), so the MR pixels of a micro-tile are MR consecutive floats (stride 2: every
//     other one) for every (ky, kx, channel): one base pointer, constant offsets, no padding tests;
//   - the filter is packed once per call into 32-channel column blocks [K][32] (zero columns past Co);
//   - the micro-kernel keeps MR x 32 outputs in 2*MR zmm accumulators over the whole K = KH*KW*Ci (no K
//     blocking, no C reloads) and stores them once; MR = 8-14 is chosen so an output row splits into equal
//     tiles (32 -> 11, 11, 10; 16 -> 8, 8; 8 -> 8), so no tile is a thin remainder.
// Loop order per task: 32-channel block, output row, tile; the block's packed filter (<= 590 KB at Ci = 512)
// and the task's input band (<= 600 KB for WRN-16-8) share the 2 MB L2. Each tile streams its block's filter
// from L2; splitting K into L1-sized chunks (partial sums through y) was tried and measured no faster.
// On 8-pixel output rows this kernel is slower than im2col + GEMM (see DirectConv2D's auto rule).
// Each output element is one sum in the fixed order (ky, kx, channel), whatever the tiling, task split or
// thread count: results are independent of the thread count (tested bit-identical), and equal to im2col + GEMM
// within float32 rounding (a different summation order).
#include "conv_direct.h"
#include "avx512_regs.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

#include "cpu_isa.h"
#include "thread_pool.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SL_DC_X86 1
#define SL_DC_T __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
#endif

namespace sl {
namespace {
DirectConvMode ModeFromEnv() {
  const char* v = std::getenv("SL_CONV_DIRECT");
  if (!v) return DirectConvMode::kAuto;
  if (!std::strcmp(v, "off") || !std::strcmp(v, "0")) return DirectConvMode::kOff;
  if (!std::strcmp(v, "force")) return DirectConvMode::kForce;
  return DirectConvMode::kAuto;
}
std::atomic<int> gMode{static_cast<int>(ModeFromEnv())};
}  // namespace

void SetDirectConvMode(DirectConvMode mode) { gMode.store(static_cast<int>(mode)); }
DirectConvMode GetDirectConvMode() { return static_cast<DirectConvMode>(gMode.load()); }

#ifdef SL_DC_X86
namespace {
constexpr int kNR = 32;     // output channels per micro-tile (two zmm)
constexpr int kMaxMR = 14;  // output pixels per micro-tile: 28 accumulators + 2 filter vectors + 1 broadcast

// A grow-only, 64-byte aligned buffer of the calling thread, one per Purpose.
template <int Purpose>
float* AlignedBuffer(long floats) {
  struct Free {
    void operator()(float* q) const { std::free(q); }
  };
  thread_local std::unique_ptr<float, Free> buf;
  thread_local long cap = 0;
  if (floats > cap) {
    const size_t bytes = ((static_cast<size_t>(floats) * sizeof(float) + 63) / 64) * 64;
    float* q = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!q) throw std::bad_alloc();
    buf.reset(q);
    cap = floats;
  }
  return buf.get();
}

using avx512::LowMask;
using avx512::Transpose16;

// Filter block b (output channels [32b, 32b + 32)) of an HWIO filter [K][co] into out[K][32], zero past co.
SL_DC_T void PackFilterBlock(const float* f, long K, long co, long b, float* out) {
  const long c0 = b * kNR, w = std::min<long>(kNR, co - c0);
  const __mmask16 m0 = LowMask(w), m1 = LowMask(w - 16);
  for (long k = 0; k < K; ++k) {
    const float* src = f + k * co + c0;
    _mm512_store_ps(out + k * kNR, _mm512_maskz_loadu_ps(m0, src));
    _mm512_store_ps(out + k * kNR + 16, _mm512_maskz_loadu_ps(m1, src + 16));
  }
}

// T[r][c][xx] = x[img, iy0 + r, xx - pl, c] for r < R, c < Ci, xx < Wp; 0 outside the image.
SL_DC_T void FillInput(const ConvParams& p, const float* x, long img, long iy0, long R, long Wp, float* T) {
  const long Ci = p.ci, rowFloats = Ci * Wp;
  const long xa = std::min(Wp, std::max(0L, p.pl)), xb = std::max(xa, std::min(Wp, p.w + p.pl));
  for (long r = 0; r < R; ++r) {
    float* tr = T + r * rowFloats;
    const long iy = iy0 + r;
    if (iy < 0 || iy >= p.h) {
      std::memset(tr, 0, rowFloats * sizeof(float));
      continue;
    }
    for (long c = 0; c < Ci; ++c) {
      float* tc = tr + c * Wp;
      for (long xx = 0; xx < xa; ++xx) tc[xx] = 0.f;
      for (long xx = xb; xx < Wp; ++xx) tc[xx] = 0.f;
    }
    const float* xr = x + (img * p.h + iy) * p.w * Ci;
    for (long xx0 = xa; xx0 < xb; xx0 += 16) {
      const long nx = std::min(16L, xb - xx0);
      const __mmask16 mx = LowMask(nx);
      const float* src = xr + (xx0 - p.pl) * Ci;
      for (long c0 = 0; c0 < Ci; c0 += 16) {
        const long nc = std::min(16L, Ci - c0);
        const __mmask16 mc = LowMask(nc);
        __m512 v[16];
        for (int i = 0; i < 16; ++i) v[i] = i < nx ? _mm512_maskz_loadu_ps(mc, src + i * Ci + c0) : _mm512_setzero_ps();
        Transpose16(v);
        for (int j = 0; j < nc; ++j) _mm512_mask_storeu_ps(tr + (c0 + j) * Wp + xx0, mx, v[j]);
      }
    }
  }
}

// y[q][0:32] (masked by m0/m1) = sum over ky, kx, c of a[ky*rowStride + kx + c*Wp + q*SW] * b[(ky*KW+kx)*Ci + c][0:32].
template <int MR, int SW>
SL_DC_T void Tile(const float* a, long Wp, long rowStride, long KH, long KW, long Ci, const float* b, float* y, long ldy,
                  __mmask16 m0, __mmask16 m1) {
  __m512 acc0[MR], acc1[MR];
#pragma GCC unroll 16
  for (int q = 0; q < MR; ++q) acc0[q] = acc1[q] = _mm512_setzero_ps();
  for (long ky = 0; ky < KH; ++ky) {
    for (long kx = 0; kx < KW; ++kx) {
      const float* ak = a + ky * rowStride + kx;
      for (long c = 0; c < Ci; ++c) {
        const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
        b += kNR;
#pragma GCC unroll 16
        for (int q = 0; q < MR; ++q) {
          const __m512 av = _mm512_set1_ps(ak[q * SW]);
          acc0[q] = _mm512_fmadd_ps(av, b0, acc0[q]);
          acc1[q] = _mm512_fmadd_ps(av, b1, acc1[q]);
        }
        ak += Wp;
      }
    }
  }
#pragma GCC unroll 16
  for (int q = 0; q < MR; ++q) {
    _mm512_mask_storeu_ps(y + q * ldy, m0, acc0[q]);
    _mm512_mask_storeu_ps(y + q * ldy + 16, m1, acc1[q]);
  }
}

using TileFn = void (*)(const float*, long, long, long, long, long, const float*, float*, long, __mmask16, __mmask16);

template <int SW, int... MRs>
constexpr std::array<TileFn, sizeof...(MRs)> TileTable(std::integer_sequence<int, MRs...>) {
  return {{&Tile<MRs + 1, SW>...}};
}
const std::array<TileFn, kMaxMR> kTiles1 = TileTable<1>(std::make_integer_sequence<int, kMaxMR>{});
const std::array<TileFn, kMaxMR> kTiles2 = TileTable<2>(std::make_integer_sequence<int, kMaxMR>{});

// One task: output rows [oy0, oy1) of image img.
SL_DC_T void RunTask(const ConvParams& p, const float* x, const float* fp, float* y, long img, long oy0, long oy1) {
  const long Wp = (p.ow - 1) * p.sw + p.kw;
  const long R = (oy1 - oy0 - 1) * p.sh + p.kh;
  const long rowStride = p.ci * Wp;
  float* T = AlignedBuffer<1>(R * rowStride);
  FillInput(p, x, img, oy0 * p.sh - p.pt, R, Wp, T);
  const auto& tiles = p.sw == 1 ? kTiles1 : kTiles2;
  const long K = p.kh * p.kw * p.ci, blocks = (p.co + kNR - 1) / kNR;
  // Equal tiles per output row: ceil(OW / 14) tiles, the first OW % tiles of them one pixel wider.
  const long ntiles = (p.ow + kMaxMR - 1) / kMaxMR, base = p.ow / ntiles, wider = p.ow % ntiles;
  for (long b = 0; b < blocks; ++b) {
    const long w = std::min<long>(kNR, p.co - b * kNR);
    const __mmask16 m0 = LowMask(w), m1 = LowMask(w - 16);
    const float* fb = fp + b * K * kNR;
    for (long oy = oy0; oy < oy1; ++oy) {
      const float* arow = T + (oy - oy0) * p.sh * rowStride;
      float* yrow = y + ((img * p.oh + oy) * p.ow) * p.co + b * kNR;
      long ox = 0;
      for (long t = 0; t < ntiles; ++t) {
        const long mr = base + (t < wider ? 1 : 0);
        tiles[mr - 1](arow + ox * p.sw, Wp, rowStride, p.kh, p.kw, p.ci, fb, yrow + ox * p.co, p.co, m0, m1);
        ox += mr;
      }
    }
  }
}
}  // namespace

namespace {
// Whether the direct kernel runs for the (forward) problem p.
bool Applies(const ConvParams& p) {
  const DirectConvMode mode = GetDirectConvMode();
  if (mode == DirectConvMode::kOff || ActiveIsa() != Isa::kAvx512) return false;
  if (p.dh != 1 || p.dw != 1 || p.sh < 1 || p.sh > 2 || p.sw < 1 || p.sw > 2) return false;
  if (p.n < 1 || p.oh < 1 || p.ow < 1 || p.ci < 1 || p.co < 1 || p.pt < 0 || p.pl < 0) return false;
  // Auto: where it measured faster than im2col + GEMM on one thread (BENCHMARKS.md, wrn-parity): windows wider
  // than 1x1 on output rows of 16+ pixels (WRN-16-8's 32x32 and 16x16 maps: 0.78-0.95x the time). On 8-pixel
  // rows (tiles of 8 pixels, 16 accumulators) and for 1x1 windows it was 1.1-1.3x slower: im2col runs there.
  // Fewer than 32 output channels would leave part of every 32-wide tile idle.
  return mode == DirectConvMode::kForce || (p.ci >= 16 && p.co >= 32 && p.kh * p.kw >= 2 && p.ow >= 16);
}

// Runs problem p with its filter already packed (fp: blocks of [K][32]).
void Run(const ConvParams& p, const float* x, const float* fp, float* y) {
  // Tasks: whole images, or each image in `pieces` bands of output rows when there are fewer images than twice
  // the threads (batch 1 still uses every thread). Claimed one at a time from a counter, as conv.cc's chunks.
  const long threads = Pool().threads();
  const long pieces = std::max(1L, std::min(p.oh, (2 * threads + p.n - 1) / p.n));
  const long rowsPer = (p.oh + pieces - 1) / pieces;
  const long tasks = p.n * pieces;
  std::atomic<long> next{0};
  Pool().Run(std::min(threads, tasks), [&](long, long) {
    for (long t = next.fetch_add(1); t < tasks; t = next.fetch_add(1)) {
      const long img = t / pieces, oy0 = (t % pieces) * rowsPer, oy1 = std::min(p.oh, oy0 + rowsPer);
      if (oy0 < oy1) RunTask(p, x, fp, y, img, oy0, oy1);
    }
  });
}

// Block b of the input-gradient filter, packed like PackFilterBlock: the stride-1 input gradient is the forward
// convolution of dy with W'[ky][kx][co][ci] = W[KH-1-ky][KW-1-kx][ci][co] (spatially flipped, in/out swapped), so
// out[(ky*KW + kx)*Co + co][j] = W[KH-1-ky][KW-1-kx][32b + j][co] — read 16 x 16 at a time and transposed.
SL_DC_T void PackFlippedFilterBlock(const ConvParams& p, const float* f, long b, float* out) {
  const long Ci = p.ci, Co = p.co;
  for (long ky = 0; ky < p.kh; ++ky) {
    for (long kx = 0; kx < p.kw; ++kx) {
      const float* src = f + ((p.kh - 1 - ky) * p.kw + (p.kw - 1 - kx)) * Ci * Co;
      float* dst = out + (ky * p.kw + kx) * Co * kNR;
      for (long co0 = 0; co0 < Co; co0 += 16) {
        const long ncol = std::min(16L, Co - co0);
        const __mmask16 mcol = LowMask(ncol);
        for (long h = 0; h < 2; ++h) {
          const long ci0 = b * kNR + 16 * h, nrow = std::min(16L, Ci - ci0);
          __m512 v[16];
          for (int i = 0; i < 16; ++i) v[i] = i < nrow ? _mm512_maskz_loadu_ps(mcol, src + (ci0 + i) * Co + co0) : _mm512_setzero_ps();
          Transpose16(v);  // v[j]: the 16 ci values of output channel co0 + j
          for (long j = 0; j < ncol; ++j) _mm512_store_ps(dst + (co0 + j) * kNR + 16 * h, v[j]);
        }
      }
    }
  }
}
}  // namespace

bool DirectConv2D(const ConvParams& p, const float* x, const float* f, float* y) {
  if (!Applies(p)) return false;
  const long K = p.kh * p.kw * p.ci, blocks = (p.co + kNR - 1) / kNR;
  float* fp = AlignedBuffer<0>(blocks * K * kNR);
  Pool().Run(blocks, [&](long b0, long b1) {
    for (long b = b0; b < b1; ++b) PackFilterBlock(f, K, p.co, b, fp + b * K * kNR);
  });
  Run(p, x, fp, y);
  return true;
}

bool DirectConv2DBackpropInput(const ConvParams& p, const float* dy, const float* f, float* dx) {
  // Stride 1 only (a strided input gradient is a convolution of the zero-interleaved dy). The transposed
  // problem: input dy [n, oh, ow, co], output dx [n, h, w, ci], padding KH-1-pt (top) and KW-1-pl (left); the
  // bottom/right padding follows from the sizes, and the kernel's zero fill outside the input provides it.
  if (p.sh != 1 || p.sw != 1 || p.pt > p.kh - 1 || p.pl > p.kw - 1) return false;
  const ConvParams q{p.n, p.oh, p.ow, p.co, p.kh, p.kw, p.ci, p.h, p.w, 1, 1, p.dh, p.dw, p.kh - 1 - p.pt, p.kw - 1 - p.pl};
  if (!Applies(q)) return false;
  const long K = q.kh * q.kw * q.ci, blocks = (q.co + kNR - 1) / kNR;
  float* fp = AlignedBuffer<0>(blocks * K * kNR);
  Pool().Run(blocks, [&](long b0, long b1) {
    for (long b = b0; b < b1; ++b) PackFlippedFilterBlock(p, f, b, fp + b * K * kNR);
  });
  Run(q, dy, fp, dx);
  return true;
}
#else
bool DirectConv2D(const ConvParams&, const float*, const float*, float*) { return false; }
bool DirectConv2DBackpropInput(const ConvParams&, const float*, const float*, float*) { return false; }
#endif
}  // namespace sl
