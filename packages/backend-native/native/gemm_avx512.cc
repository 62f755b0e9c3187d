// The own AVX-512 GEMM (issue 10): packed SGEMM with its own threading; the AVX2 and portable variants stay in
// gemm.cc, which dispatches here when the active ISA is AVX-512.
//
// Why a new kernel (profile of the previous 12 x 32 one at 1024^3 on one Sapphire Rapids core, `perf record`):
// its micro-kernel ran at ~85 % of the FMA peak on cache-resident data, the whole GEMM at 51-54 %, because
//   - packing took ~15 % of the time: op(A) was packed one scalar at a time with 48-byte strided stores, op(B)
//     with one 128-byte `rep movs` per row and sliver (reading B down its columns, 4 KB apart);
//   - the pack buffers were only 16-byte aligned, so every 64-byte B load split two cache lines;
//   - KC = 192 and the loop order kept the 24 KB B sliver in L1 next to a streaming A block and the C tile,
//     more than Sapphire Rapids' 48 KB L1D holds; beta took a separate pass over C;
//   - with two threads each packed all of op(B) (the M split), ~5 % more work per thread.
// Here:
//   - packing by 16 x 16 in-register transposes where it transposes (op(A) = A, op(B) = B^T), by whole-vector
//     row copies elsewhere, into 64-byte aligned buffers (packing is now ~9 % of a 1024^3 GEMM, most of it
//     waiting for its sources in L3; prefetching them into L2 during the previous block did not help);
//   - BLIS's loop order with the operands' roles swapped for row-major C: an MR x KC A sliver stays in L1
//     (14 x 384 floats = 21 KB), the KC x NC B block sits in L2 (384 x 512 floats = 768 KB of 2 MB) and its
//     32-column slivers stream through the micro-kernel; the C tile is fetched to L2 when a tile starts and to
//     L1 for its last 24 steps, so it is neither late nor evicted by the stream;
//   - K split into equal blocks (no thin last block), beta folded into the first K block's store (beta = 0
//     never reads C), edge tiles run kernels compiled for their exact row count (no FMAs on padding rows) and
//     a 16-column kernel for narrow edges;
//   - threads split the rows (whole tiles) and pack each B block together (double-buffered, one barrier per
//     block) when a block holds >= 4 M FMAs per thread, else split the rows without sharing; when op(A) has
//     fewer rows than columns they split the columns and share nothing.
// KC, NC and MR were chosen by measuring 1024^3 on one thread: in a quiet window this order with KC 384 and
// NC 512 reached 75 % of the peak, NC 768-1024 or KC 256 73 %, the other order (B sliver in L1, A streamed)
// 67-72 %; MR 12 against 14, KC 512 and prefetching the B slivers differed by less than the noise (+-2 %).
#include "gemm_avx512.h"
#include "avx512_regs.h"

#include "thread_pool.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <new>
#include <thread>
#include <utility>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define SL_X86 1
#define SL_T __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")))
#endif

namespace sl {
#ifdef SL_X86
namespace {

// Register blocking: MR rows of op(A) (broadcast from the packed A sliver) x NR = 32 columns of op(B) (two zmm
// loads from the packed B sliver) = 2 * MR zmm accumulators; MR = 14 uses 28 of the 32 zmm registers and
// needs 16 loads per 28 FMAs (two load ports keep up with two FMA ports).
constexpr int kMR = 14;
constexpr int kNR = 32;
// The C tile moves into L1 for the last kLateC steps of a tile (see the header comment).
constexpr long kLateC = 24;
// Cache blocking (header comment): K blocks of up to KC, column blocks of up to NC (the packed B block), row
// blocks of up to kMCap per thread (bounds the packed A panel: 1536 x 384 floats = 2.3 MB, in L3).
constexpr long kKC = 384;
constexpr long kNC = 512;
constexpr long kMCap = 1536;

using avx512::LowMask;
using avx512::Transpose16;

// Loads up to 16 rows (stride ld) of up to 16 contiguous floats into r (missing rows and columns are zero) and
// transposes them: r[j] then holds element j of every row.
SL_T inline void LoadTransposed(const float* src, long ld, long rows, long cols, __m512 r[16]) {
  const __mmask16 m = LowMask(cols);
  for (int i = 0; i < 16; ++i) r[i] = i < rows ? _mm512_maskz_loadu_ps(m, src + i * ld) : _mm512_setzero_ps();
  Transpose16(r);
}

// Packs op(A)[i0:i0+mc, k0:k0+kc] into MR-row slivers: sliver s at out + s*MR*kc holds element (row r, k) at
// [k*MR + r], rows past mc zero.
SL_T void PackA(const float* A, long lda, bool t, long i0, long mc, long k0, long kc, float* out) {
  const __mmask16 all = LowMask(kMR);
  for (long ir = 0; ir < mc; ir += kMR) {
    const long rows = std::min<long>(kMR, mc - ir);
    float* dst = out + ir * kc;
    if (!t) {  // op(A) = A, row-major: the sliver is a transpose of rows x kc
      const float* src = A + (i0 + ir) * lda + k0;
      for (long kk = 0; kk < kc; kk += 16) {
        const long n = std::min<long>(16, kc - kk);
        __m512 r[16];
        // Packing reads A from L3 or memory (a quarter of the packing time was waiting for it): fetch 4 lines
        // ahead in each of the sliver's rows (a prefetch past the row's end is harmless).
        for (long i = 0; i < rows; ++i) _mm_prefetch(reinterpret_cast<const char*>(src + i * lda + kk + 64), _MM_HINT_T0);
        LoadTransposed(src + kk, lda, rows, n, r);
        for (long j = 0; j < n; ++j) _mm512_mask_storeu_ps(dst + (kk + j) * kMR, all, r[j]);
      }
    } else {  // op(A) = A^T: each k is `rows` contiguous floats
      const __mmask16 m = LowMask(rows);
      const float* src = A + k0 * lda + i0 + ir;
      for (long k = 0; k < kc; ++k) {
        _mm_prefetch(reinterpret_cast<const char*>(src + (k + 8) * lda), _MM_HINT_T0);
        _mm512_mask_storeu_ps(dst + k * kMR, all, _mm512_maskz_loadu_ps(m, src + k * lda));
      }
    }
  }
}

// Packs op(B)[k0:k0+kc, j0:j0+nc] into NR-column slivers: sliver s at out + s*NR*kc holds (k, column c) at
// [k*NR + c], columns past nc zero.
SL_T void PackB(const float* B, long ldb, bool t, long k0, long kc, long j0, long nc, float* out) {
  if (!t) {  // op(B) = B, row-major: walk each row of B once, dealing 32-float pieces to the slivers
    for (long k = 0; k < kc; ++k) {
      const float* src = B + (k0 + k) * ldb + j0;
      float* dst = out + k * kNR;
      long jr = 0;
      for (; jr + kNR <= nc; jr += kNR, dst += kNR * kc) {
        _mm_prefetch(reinterpret_cast<const char*>(src + 4 * ldb + jr), _MM_HINT_T0);
        _mm_prefetch(reinterpret_cast<const char*>(src + 4 * ldb + jr + 16), _MM_HINT_T0);
        _mm512_store_ps(dst, _mm512_loadu_ps(src + jr));
        _mm512_store_ps(dst + 16, _mm512_loadu_ps(src + jr + 16));
      }
      if (jr < nc) {
        _mm512_store_ps(dst, _mm512_maskz_loadu_ps(LowMask(nc - jr), src + jr));
        _mm512_store_ps(dst + 16, _mm512_maskz_loadu_ps(LowMask(nc - jr - 16), src + jr + 16));
      }
    }
    return;
  }
  // op(B) = B^T (B stored N x K): each 16-column half of a sliver is a transpose of 16 rows of B.
  for (long jr = 0; jr < nc; jr += kNR) {
    float* dst = out + jr * kc;
    for (int h = 0; h < 2; ++h) {
      const long c0 = jr + 16 * h, cols = std::min<long>(16, nc - c0);
      const float* src = B + (j0 + c0) * ldb + k0;
      for (long kk = 0; kk < kc; kk += 16) {
        const long n = std::min<long>(16, kc - kk);
        __m512 r[16];
        for (long i = 0; i < cols; ++i) _mm_prefetch(reinterpret_cast<const char*>(src + i * ldb + kk + 64), _MM_HINT_T0);
        if (cols > 0) LoadTransposed(src + kk, ldb, cols, n, r);
        else for (int i = 0; i < 16; ++i) r[i] = _mm512_setzero_ps();
        for (long j = 0; j < n; ++j) _mm512_store_ps(dst + (kk + j) * kNR + 16 * h, r[j]);
      }
    }
  }
}

// n steps of k: acc += Ap[k, 0:ROWS] (broadcast) x Bp[k, 0:16*NV] (vector loads).
template <int ROWS, int NV>
SL_T inline __attribute__((always_inline)) void Steps(long n, const float*& Ap, const float*& Bp,
                                                      __m512 (&acc)[ROWS][NV]) {
#pragma GCC unroll 2
  for (long k = 0; k < n; ++k) {
    __m512 b[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) b[v] = _mm512_load_ps(Bp + 16 * v);
    // The A sliver stays in L1 across a tile row, but its first pass comes from the packed panel in L3/L2.
    _mm_prefetch(reinterpret_cast<const char*>(Ap + 16 * kMR), _MM_HINT_T0);
#pragma GCC unroll 16
    for (int r = 0; r < ROWS; ++r) {
      const __m512 a = _mm512_set1_ps(Ap[r]);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_fmadd_ps(a, b[v], acc[r][v]);
    }
    Ap += kMR;
    Bp += kNR;
  }
}

// C[ROWS, cols] (=|+=) alpha * Ap * Bp for one tile. NV = 1 when cols <= 16 (the second half is not computed).
// first: the first K block, which applies beta (beta == 0: C is not read, as BLAS specifies); later blocks add.
template <int ROWS, int NV>
SL_T void Micro(long kc, const float* Ap, const float* Bp, float* C, long ldc, float alpha,
                float beta, bool first, __mmask16 m0, __mmask16 m1) {
  __m512 acc[ROWS][NV];
#pragma GCC unroll 16
  for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_setzero_ps();
  // The C tile is read (or written) after kc steps that stream more than L1 holds: fetch it into L2 now and
  // into L1 only for the last steps, so it is neither late nor evicted before use.
  const long late = kc > kLateC ? kc - kLateC : 0;
#pragma GCC unroll 16
  for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc + 16 * v), _MM_HINT_T1);
  Steps<ROWS, NV>(late, Ap, Bp, acc);
  // Opaque to the optimiser: without this GCC keeps the ROWS row addresses of C live across the k loop, runs
  // out of general registers and spills a B vector to the stack inside the loop (seen at ROWS = 12).
  asm volatile("" : "+r"(C), "+r"(ldc));
#pragma GCC unroll 16
  for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) _mm_prefetch(reinterpret_cast<const char*>(C + r * ldc + 16 * v), _MM_HINT_T0);
  Steps<ROWS, NV>(kc - late, Ap, Bp, acc);
  const __m512 va = _mm512_set1_ps(alpha);
  const __mmask16 m[2] = {m0, m1};
  if (first && beta == 0.f) {
#pragma GCC unroll 16
    for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) _mm512_mask_storeu_ps(C + r * ldc + 16 * v, m[v], _mm512_mul_ps(va, acc[r][v]));
  } else {
    const __m512 vb = _mm512_set1_ps(first ? beta : 1.f);
#pragma GCC unroll 16
    for (int r = 0; r < ROWS; ++r)
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) {
        float* c = C + r * ldc + 16 * v;
        _mm512_mask_storeu_ps(c, m[v], _mm512_fmadd_ps(va, acc[r][v], _mm512_mul_ps(vb, _mm512_maskz_loadu_ps(m[v], c))));
      }
  }
}

using MicroFn = void (*)(long, const float*, const float*, float*, long, float, float, bool, __mmask16, __mmask16);

template <int NV, int... R>
constexpr auto MakeRow(std::integer_sequence<int, R...>) {
  return std::array<MicroFn, sizeof...(R)>{&Micro<R + 1, NV>...};
}
// kKernels[nv - 1][rows - 1]: the kernel for a tile of `rows` rows and nv 16-column halves.
const std::array<MicroFn, kMR> kKernels[2] = {MakeRow<1>(std::make_integer_sequence<int, kMR>{}),
                                              MakeRow<2>(std::make_integer_sequence<int, kMR>{})};

// Splits n into ceil(n / maxBlock) blocks of equal size rounded up to `align`: no thin last block (K = 784
// with KC = 384 runs blocks of 272, 272 and 240, not 384, 384 and 16).
long EvenBlock(long n, long maxBlock, long align) {
  const long blocks = (n + maxBlock - 1) / maxBlock;
  const long per = (n + blocks - 1) / blocks;
  return std::min(maxBlock, (per + align - 1) / align * align);
}

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};
float* Buffer(std::unique_ptr<float[], AlignedFree>& buf, size_t& cap, size_t need) {
  if (cap < need) {
    buf.reset(static_cast<float*>(std::aligned_alloc(64, (need * sizeof(float) + 63) / 64 * 64)));
    cap = buf ? need : 0;
  }
  return buf.get();
}

// Waits until all `n` threads of a GEMM have arrived. Spins briefly (the threads arrive within microseconds of
// each other when each has a core), then yields: on a shared machine a preempted partner must not be
// answered with a spinning core.
class SpinBarrier {
 public:
  explicit SpinBarrier(int n) : n_(n) {}
  void Wait() {
    const long gen = gen_.load(std::memory_order_acquire);
    if (count_.fetch_add(1, std::memory_order_acq_rel) == n_ - 1) {
      count_.store(0, std::memory_order_relaxed);
      gen_.fetch_add(1, std::memory_order_release);
      return;
    }
    for (int spins = 0; gen_.load(std::memory_order_acquire) == gen; ++spins) {
      if (spins < 256) _mm_pause();  // ~10 us (a PAUSE is ~140 cycles on Sapphire Rapids)
      else std::this_thread::yield();
    }
  }

 private:
  const int n_;
  std::atomic<int> count_{0};
  std::atomic<long> gen_{0};
};

// What the threads of one GEMM share: the packed B block (double-buffered, so packing step s + 1 never
// overwrites a block another thread still multiplies with: passing the barrier of step s + 1 means every
// thread has finished step s - 1's block) and the barrier that separates packing from use.
struct SharedB {
  float* buf[2];
  SpinBarrier* barrier;
  int threads;
};

struct Blocking {
  long KC, NC, icBlocks;
};

Blocking BlockingFor(long maxRows, long N, long K) {
  return {EvenBlock(K, kKC, 16), EvenBlock(N, kNC, kNR), (maxRows + kMCap - 1) / kMCap};
}

// One thread's part of C = alpha op(A) op(B) + beta C: op(A) rows [r0, r1) against op(B) columns
// [j0, j0 + N), C pointing at (r0, j0). Loop order (BLIS's, with the roles of A and B swapped for row-major C):
// rows in blocks of up to kMCap -> K in blocks of KC (pack the A panel, L3) -> columns in blocks of NC (pack the
// B block, L2) -> MR-row A slivers (stay in L1) -> NR-column B slivers (streamed from L2). With `shared`, the
// threads pack the B block together (thread t packs its share of the slivers) and meet at the barrier;
// every thread runs the same number of steps (icBlocks comes from the largest thread's row count).
void Driver(int t, const SharedB* shared, const Blocking& bl, bool tA, bool tB, long r0, long r1, long N, long K,
            float alpha, const float* A, long lda, const float* B, long ldb, long j0, float beta, float* C,
            long ldc) {
  thread_local std::unique_ptr<float[], AlignedFree> bufA, bufB;
  thread_local size_t capA = 0, capB = 0;
  const long rows = r1 - r0;
  const long perBlock = (rows + bl.icBlocks - 1) / bl.icBlocks;
  const long mcMax = (perBlock + kMR - 1) / kMR * kMR;
  const long ncPad = (bl.NC + kNR - 1) / kNR * kNR;
  float* packA = Buffer(bufA, capA, size_t(std::max<long>(mcMax, kMR)) * bl.KC);
  float* ownB = shared ? nullptr : Buffer(bufB, capB, size_t(bl.KC) * ncPad);
  if (!packA || (!shared && !ownB)) throw std::bad_alloc();
  const int T = shared ? shared->threads : 1;
  long step = 0;
  for (long b = 0; b < bl.icBlocks; ++b) {
    const long ic = std::min(rows, b * mcMax), mc = std::min(mcMax, rows - ic);
    for (long pc = 0; pc < K; pc += bl.KC) {
      const long kc = std::min(bl.KC, K - pc);
      const bool first = pc == 0;
      if (mc > 0) PackA(A, lda, tA, r0 + ic, mc, pc, kc, packA);
      for (long jc = 0; jc < N; jc += bl.NC, ++step) {
        const long nc = std::min(bl.NC, N - jc);
        float* packB = shared ? shared->buf[step & 1] : ownB;
        const long slivers = (nc + kNR - 1) / kNR;
        const long s0 = slivers * t / T, s1 = slivers * (t + 1) / T;
        if (s1 > s0)
          PackB(B, ldb, tB, pc, kc, j0 + jc + s0 * kNR, std::min(nc, s1 * kNR) - s0 * kNR, packB + s0 * kNR * kc);
        if (shared) shared->barrier->Wait();
        for (long ir = 0; ir < mc; ir += kMR) {
          const auto& kern = kKernels;
          const long tileRows = std::min<long>(kMR, mc - ir);
          const float* ap = packA + ir * kc;
          float* c = C + (ic + ir) * ldc + jc;
          for (long jr = 0; jr < nc; jr += kNR) {
            const long cols = std::min<long>(kNR, nc - jr);
            kern[cols > 16 ? 1 : 0][tileRows - 1](kc, ap, packB + jr * kc, c + jr, ldc, alpha, beta, first,
                                                   LowMask(cols), LowMask(cols - 16));
          }
        }
      }
    }
  }
}
}  // namespace

bool GemmAvx512Compiled() { return true; }

void GemmAvx512(bool tA, bool tB, long M, long N, long K, float alpha, const float* A, long lda, const float* B,
                long ldb, float beta, float* C, long ldc, int threads) {
  if (M <= 0 || N <= 0 || K <= 0) return;
  if (threads <= 1) {
    Driver(0, nullptr, BlockingFor(M, N, K), tA, tB, 0, M, N, K, alpha, A, lda, B, ldb, 0, beta, C, ldc);
    return;
  }
  ThreadPool& pool = Pool();
  if (M < N) {
    // Few rows: split the columns; each thread packs its own B columns and all of op(A) (M x K, the smaller
    // operand here), with no synchronisation.
    pool.Run(N, [&](long b, long e) {
      Driver(0, nullptr, BlockingFor(M, e - b, K), tA, tB, 0, M, e - b, K, alpha, A, lda, B, ldb, b, beta, C + b,
             ldc);
    }, kNR, threads);
    return;
  }
  // Split the rows (in whole tiles) and share the packed B blocks: packing op(B) once per GEMM instead of once
  // per thread saved ~5 % of a two-thread 1024^3 GEMM.
  const long tiles = (M + kMR - 1) / kMR;
  const int T = int(std::min<long>({long(threads), long(pool.threads()), tiles}));
  if (T <= 1) {
    Driver(0, nullptr, BlockingFor(M, N, K), tA, tB, 0, M, N, K, alpha, A, lda, B, ldb, 0, beta, C, ldc);
    return;
  }
  auto rowStart = [&](long t) { return std::min(M, tiles * t / T * kMR); };
  // A barrier costs microseconds when both threads run and up to a scheduler slice when the partner is
  // preempted; with little work per block (LeNet-5's 25 x rows x 20 weight gradient: ~0.1 M FMAs per K block)
  // that cost exceeds packing B twice, so such GEMMs split the rows without sharing anything.
  const double fmasPerStep = double(M) / T * std::min(N, kNC) * std::min(K, kKC);
  if (fmasPerStep < 4e6) {
    pool.Run(T, [&](long b, long e) {
      for (long t = b; t < e; ++t) {
        const long r0 = rowStart(t), r1 = rowStart(t + 1);
        Driver(0, nullptr, BlockingFor(r1 - r0, N, K), tA, tB, r0, r1, N, K, alpha, A, lda, B, ldb, 0, beta,
               C + r0 * ldc, ldc);
      }
    }, 1, T);
    return;
  }
  long maxRows = 0;
  for (int t = 0; t < T; ++t) maxRows = std::max(maxRows, rowStart(t + 1) - rowStart(t));
  const Blocking bl = BlockingFor(maxRows, N, K);
  thread_local std::unique_ptr<float[], AlignedFree> shared0, shared1;
  thread_local size_t cap0 = 0, cap1 = 0;
  const size_t need = size_t(bl.KC) * ((bl.NC + kNR - 1) / kNR * kNR);
  float* b0 = Buffer(shared0, cap0, need);
  float* b1 = Buffer(shared1, cap1, need);
  if (!b0 || !b1) throw std::bad_alloc();
  SpinBarrier barrier(T);
  const SharedB shared{{b0, b1}, &barrier, T};
  pool.Run(T, [&](long b, long e) {
    for (long t = b; t < e; ++t) {
      const long r0 = rowStart(t), r1 = rowStart(t + 1);
      Driver(int(t), &shared, bl, tA, tB, r0, r1, N, K, alpha, A, lda, B, ldb, 0, beta, C + r0 * ldc, ldc);
    }
  }, 1, T);
}
long GemmAvx512TileRows() { return kMR; }
long GemmAvx512TileCols() { return kNR; }

#else
bool GemmAvx512Compiled() { return false; }
void GemmAvx512(bool, bool, long, long, long, float, const float*, long, const float*, long, float, float*, long,
                int) {}
long GemmAvx512TileRows() { return 1; }
long GemmAvx512TileCols() { return 1; }
#endif
}  // namespace sl
