// The sparse convolution loops, written once with GCC vector extensions and compiled once per instruction set
// by sparse_conv.cc (inside `#pragma GCC target(...)` regions, each in its own namespace, SL_SPARSE_W = floats
// per vector), like sparse_kernels_body.h. No intrinsics.
//
// Register tiling: a tile is P output pixels of one row x NV vectors of the batch, held in P*NV accumulators;
// every nonzero of the output channel adds w * (P runs of NV contiguous vectors) to it. P and NV are template
// parameters (chosen per call from the row length and the padded batch) so the accumulators stay in registers.
//
// Expects: namespace already opened, SL_SPARSE_W defined, sparse_conv.h, <vector>, <algorithm> included.

typedef float V __attribute__((vector_size(SL_SPARSE_W * 4), aligned(4)));
constexpr int W = SL_SPARSE_W;
constexpr int kMaxNv = 8;
constexpr int kMaxP = 8;
// Accumulators per tile: 32 vector registers on AVX-512 (24 accumulators + the broadcast weight + spare),
// 16 on AVX2 and SSE.
constexpr int kAcc = W == 16 ? 24 : 12;

static inline V Load(const float* p) { return *reinterpret_cast<const V*>(p); }
static inline void Store(float* p, V v) { *reinterpret_cast<V*>(p) = v; }
static inline float HSum(V v) {
  float s = 0;
  for (int i = 0; i < W; ++i) s += v[i];
  return s;
}

// A nonzero prepared for one row: `off` = offset of its operand row at column 0 (may point left of the row when
// the column shift is negative; only in-range columns are read), `shift` = column offset, `w` = the weight.
struct RowTap {
  long off;
  int shift;
  float w;
};

// Forward tile. y = Y + offset of (o, oy, ox0, column 0). Output pixel ox reads input column ox*sw + shift.
// C (contiguous): stride 1 and the whole padded batch in this chunk (bp == NV*W), so the tile's operand is one
// span of P*NV vectors at compile-time offsets (no runtime pixel stride in the address arithmetic).
template <int NV, int P, bool C>
static void FwdTile(const RowTap* taps, int ntaps, const float* X, float* y, const ConvGeom& g, int bp, int c0, int ox0,
                    int count, float bias, bool relu, bool accumulate) {
  V acc[P][NV];
  for (int p = 0; p < P; ++p)
    for (int v = 0; v < NV; ++v) acc[p][v] = accumulate && p < count ? Load(y + static_cast<long>(p) * bp + c0 + v * W) : V{} + bias;
  const long pix = C ? NV * W : static_cast<long>(g.sw) * bp;
  const int col0 = ox0 * g.sw;
  const bool fullTile = count == P;
  for (int t = 0; t < ntaps; ++t) {
    const RowTap& e = taps[t];
    const int ix = col0 + e.shift;
    const float* x = X + e.off + static_cast<long>(col0) * bp + c0;
    const V w = V{} + e.w;
    if (fullTile && ix >= 0 && ix + (P - 1) * g.sw < g.w) {
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[p][v] += w * Load(x + p * pix + v * W);
    } else {
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) {
        if (p >= count || static_cast<unsigned>(ix + p * g.sw) >= static_cast<unsigned>(g.w)) continue;
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[p][v] += w * Load(x + p * pix + v * W);
      }
    }
  }
  for (int p = 0; p < P; ++p) {
    if (p >= count) break;
    float* d = y + static_cast<long>(p) * bp + c0;
    for (int v = 0; v < NV; ++v) Store(d + v * W, relu ? (acc[p][v] > 0 ? acc[p][v] : V{}) : acc[p][v]);
  }
}

// Input-gradient tile over input pixels r + sw*(j0 + p) of one row (one column parity class). dx = dX + offset of
// (c, iy, r + sw*j0, column 0); a = the same offset into reluOf (or null). Input pixel j reads output column
// j + shift of the row at `off`. C (contiguous): the whole padded batch in this chunk (bp == NV*W): the P pixels
// read are one span of P*NV vectors of dY at compile-time offsets, whatever the stride.
template <int NV, int P, bool C>
static void BwdTile(const RowTap* taps, int ntaps, const float* dY, float* dx, const float* a, const ConvGeom& g, int bp,
                    int c0, int j0, int count, bool accumulate) {
  const long pix = static_cast<long>(g.sw) * bp;
  V acc[P][NV];
  for (int p = 0; p < P; ++p)
    for (int v = 0; v < NV; ++v) acc[p][v] = accumulate && p < count ? Load(dx + p * pix + c0 + v * W) : V{};
  const bool fullTile = count == P;
  for (int t = 0; t < ntaps; ++t) {
    const RowTap& e = taps[t];
    const int ox = j0 + e.shift;
    const float* d = dY + e.off + static_cast<long>(ox) * bp + c0;
    const V w = V{} + e.w;
    if (fullTile && ox >= 0 && ox + P - 1 < g.ow) {
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p)
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[p][v] += w * Load(d + p * (C ? NV * W : bp) + v * W);
    } else {
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) {
        if (p >= count || static_cast<unsigned>(ox + p) >= static_cast<unsigned>(g.ow)) continue;
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[p][v] += w * Load(d + p * (C ? NV * W : bp) + v * W);
      }
    }
  }
  for (int p = 0; p < P; ++p) {
    if (p >= count) break;
    float* o = dx + p * pix + c0;
    if (a) {
      const float* m = a + p * pix + c0;
      for (int v = 0; v < NV; ++v) Store(o + v * W, Load(m + v * W) > 0 ? acc[p][v] : V{});
    } else {
      for (int v = 0; v < NV; ++v) Store(o + v * W, acc[p][v]);
    }
  }
}

typedef void (*FwdFn)(const RowTap*, int, const float*, float*, const ConvGeom&, int, int, int, int, float, bool, bool);
typedef void (*BwdFn)(const RowTap*, int, const float*, float*, const float*, const ConvGeom&, int, int, int, int, bool);

template <int NV, int P, bool C>
constexpr FwdFn FwdPick() {
  if constexpr (NV * P <= kAcc) return &FwdTile<NV, P, C>;
  else return nullptr;
}
template <int NV, int P, bool C>
constexpr BwdFn BwdPick() {
  if constexpr (NV * P <= kAcc) return &BwdTile<NV, P, C>;
  else return nullptr;
}
#define SL_CONV_ROW(PICK, NV, C)                                                                              \
  { PICK<NV, 1, C>(), PICK<NV, 2, C>(), PICK<NV, 3, C>(), PICK<NV, 4, C>(), PICK<NV, 5, C>(), PICK<NV, 6, C>(), \
    PICK<NV, 7, C>(), PICK<NV, 8, C>() }
#define SL_CONV_TABLE(PICK, C)                                                                         \
  { SL_CONV_ROW(PICK, 1, C), SL_CONV_ROW(PICK, 2, C), SL_CONV_ROW(PICK, 3, C), SL_CONV_ROW(PICK, 4, C), \
    SL_CONV_ROW(PICK, 5, C), SL_CONV_ROW(PICK, 6, C), SL_CONV_ROW(PICK, 7, C), SL_CONV_ROW(PICK, 8, C) }
// [contiguous][NV - 1][P - 1]
static const FwdFn kFwd[2][kMaxNv][kMaxP] = {SL_CONV_TABLE(FwdPick, false), SL_CONV_TABLE(FwdPick, true)};
static const BwdFn kBwd[2][kMaxNv][kMaxP] = {SL_CONV_TABLE(BwdPick, false), SL_CONV_TABLE(BwdPick, true)};
#undef SL_CONV_TABLE
#undef SL_CONV_ROW

// Pixels per tile for a row of `len` pixels and NV batch vectors: as many as the registers allow, preferring a
// size that splits the row into equal tiles (a partial tile takes the checked path).
static int TilePixels(int nv, int len) {
  int maxP = std::min(kMaxP, kAcc / nv);
  maxP = std::max(1, std::min(maxP, len));
  int best = 1;
  double bestScore = 0;
  for (int p = 1; p <= maxP; ++p) {
    const double score = static_cast<double>(len) / ((len + p - 1) / p);
    if (score >= bestScore) bestScore = score, best = p;
  }
  return best;
}

// ky and kx of every tap index (ky*kw + kx) without a division per nonzero.
struct TapTable {
  std::vector<int> ky, kx;
  explicit TapTable(const ConvLayer& L) : ky(L.kh * L.kw), kx(L.kh * L.kw) {
    for (int t = 0; t < L.kh * L.kw; ++t) ky[t] = t / L.kw, kx[t] = t % L.kw;
  }
};

// Operand rows one pass of a channel block may read (about half of a 2 MiB L2): when an output row reads more
// (WRN's 512-channel 3x3 rows: 1.5 MiB; 512 -> 8 channels at 16x16: 3 MiB), the input channels are split into
// blocks and the partial sums accumulate in the output row, so every block's rows stay in L2.
constexpr long kBlockBytes = 512L << 10;

// Forward over units [u0, u1), unit = oy * cout + o (one output row of one channel). Rows outermost: the input
// rows one output row reads (kh rows of every channel) stay in L2 while every output channel gathers from them;
// channel-outermost order streamed the whole input from L3 once per output channel (WRN's 128x16x16x32 input
// is 4 MiB).
static void ForwardRange(const ConvLayer& L, const ConvGeom& g, const float* X, float* Y, int bp, long u0, long u1) {
  const TapTable tt(L);
  std::vector<RowTap> taps;
  std::vector<int> cursor;
  const long rowStride = static_cast<long>(g.w) * bp, chanStride = g.h * rowStride;
  const long outPlane = static_cast<long>(g.oh) * g.ow * bp;
  const int nvec = bp / W;
  const int block = static_cast<int>(std::max(1L, kBlockBytes / (static_cast<long>(L.kh) * rowStride * 4)));
  for (long u = u0; u < u1;) {
    const int oy = static_cast<int>(u / L.cout);
    const int oA = static_cast<int>(u - static_cast<long>(oy) * L.cout);
    const int oB = static_cast<int>(std::min<long>(L.cout, u1 - static_cast<long>(oy) * L.cout));
    cursor.assign(L.optr + oA, L.optr + oB);
    for (int cb0 = 0; cb0 < L.cin; cb0 += block) {
      const int cb1 = std::min(L.cin, cb0 + block);
      const bool first = cb0 == 0, last = cb1 == L.cin;
      for (int o = oA; o < oB; ++o) {
        taps.clear();
        int k = cursor[o - oA];
        for (; k < L.optr[o + 1] && L.chan[k] < cb1; ++k) {
          const int t = L.tap[k], iy = oy * g.sh + tt.ky[t] - g.pt;
          if (static_cast<unsigned>(iy) >= static_cast<unsigned>(g.h)) continue;
          const int shift = tt.kx[t] - g.pl;
          taps.push_back({L.chan[k] * chanStride + iy * rowStride + static_cast<long>(shift) * bp, shift, L.vals[k]});
        }
        cursor[o - oA] = k;
        const bool relu = L.relu && last;
        if (!first && taps.empty() && !relu) continue;  // nothing to add to the partial sums
        const float bias = L.bias ? L.bias[o] : 0.f;
        float* yrow = Y + o * outPlane + static_cast<long>(oy) * g.ow * bp;
        for (int c = 0; c < nvec; c += kMaxNv) {
          const int nv = std::min(kMaxNv, nvec - c);
          const int P = TilePixels(nv, g.ow);
          const FwdFn fn = kFwd[g.sw == 1 && nv * W == bp][nv - 1][P - 1];
          for (int ox0 = 0; ox0 < g.ow; ox0 += P)
            fn(taps.data(), static_cast<int>(taps.size()), X, yrow + static_cast<long>(ox0) * bp, g, bp, c * W, ox0,
               std::min(P, g.ow - ox0), bias, relu, !first);
        }
      }
    }
    u = static_cast<long>(oy) * L.cout + oB;
  }
}

// Input gradient over units [u0, u1), unit = iy * cin + c (one input row of one channel; rows outermost and
// output channels in L2-sized blocks for the same reasons as the forward).
static void BackwardRange(const ConvLayer& L, const ConvGeom& g, const float* dY, const float* reluOf, float* dX, int bp,
                          long u0, long u1) {
  const TapTable tt(L);
  std::vector<RowTap> rowTaps, taps;
  std::vector<int> kxs, cursor;
  const long orow = static_cast<long>(g.ow) * bp, oplane = g.oh * orow;
  const int nvec = bp / W;
  const long rowsRead = (L.kh + g.sh - 1) / g.sh;
  const int block = static_cast<int>(std::max(1L, kBlockBytes / (rowsRead * orow * 4)));
  for (long u = u0; u < u1;) {
    const int iy = static_cast<int>(u / L.cin);
    const int cA = static_cast<int>(u - static_cast<long>(iy) * L.cin);
    const int cB = static_cast<int>(std::min<long>(L.cin, u1 - static_cast<long>(iy) * L.cin));
    cursor.assign(L.iptr + cA, L.iptr + cB);
    for (int ob0 = 0; ob0 < L.cout; ob0 += block) {
      const int ob1 = std::min(L.cout, ob0 + block);
      const bool first = ob0 == 0, last = ob1 == L.cout;
      for (int c = cA; c < cB; ++c) {
        // The nonzeros of input channel c (output channels in this block) that reach an output row from input
        // row iy: iy = oy*sh + ky - pt.
        rowTaps.clear();
        kxs.clear();
        int k = cursor[c - cA];
        for (; k < L.iptr[c + 1] && L.ochan[k] < ob1; ++k) {
          const int slot = L.perm[k], t = L.tap[slot];
          const int ty = iy + g.pt - tt.ky[t];
          if (ty < 0 || ty % g.sh != 0) continue;
          const int oy = ty / g.sh;
          if (oy >= g.oh) continue;
          rowTaps.push_back({L.ochan[k] * oplane + oy * orow, 0, L.vals[slot]});
          kxs.push_back(tt.kx[t]);
        }
        cursor[c - cA] = k;
        const float* relu = last ? reluOf : nullptr;
        const long rowOff = (static_cast<long>(c) * g.h + iy) * g.w * bp;
        // Input columns r, r + sw, r + 2sw, ... (one parity class) read consecutive output columns of each
        // nonzero: ix = ox*sw + kx - pl, so ox = j + (r + pl - kx)/sw for column r + sw*j when sw divides
        // r + pl - kx.
        for (int r = 0; r < g.sw && r < g.w; ++r) {
          const int len = (g.w - r + g.sw - 1) / g.sw;
          taps.clear();
          for (size_t i = 0; i < rowTaps.size(); ++i) {
            const int num = r + g.pl - kxs[i];
            if (num % g.sw != 0) continue;
            taps.push_back({rowTaps[i].off, num / g.sw, rowTaps[i].w});
          }
          if (!first && taps.empty() && !relu) continue;  // nothing to add to the partial sums
          for (int cc = 0; cc < nvec; cc += kMaxNv) {
            const int nv = std::min(kMaxNv, nvec - cc);
            const int P = TilePixels(nv, len);
            const BwdFn fn = kBwd[nv * W == bp][nv - 1][P - 1];
            for (int j0 = 0; j0 < len; j0 += P) {
              const long off = rowOff + static_cast<long>(r + g.sw * j0) * bp;
              fn(taps.data(), static_cast<int>(taps.size()), dY, dX + off, relu ? relu + off : nullptr, g, bp, cc * W, j0,
                 std::min(P, len - j0), !first);
            }
          }
        }
      }
    }
    u = static_cast<long>(iy) * L.cin + cB;
  }
}

// Accumulates dot(a[0 .. n*W), b[0 .. n*W)) into four accumulators (independent chains hide the FMA latency).
static inline void DotInto(const float* a, const float* b, long n, V& a0, V& a1, V& a2, V& a3) {
  long i = 0;
  for (; i + 4 <= n; i += 4) {
    a0 += Load(a + i * W) * Load(b + i * W);
    a1 += Load(a + (i + 1) * W) * Load(b + (i + 1) * W);
    a2 += Load(a + (i + 2) * W) * Load(b + (i + 2) * W);
    a3 += Load(a + (i + 3) * W) * Load(b + (i + 3) * W);
  }
  for (; i < n; ++i) a0 += Load(a + i * W) * Load(b + i * W);
}

// First output index whose input index i*s + off is >= 0, and one past the last whose input index is < size.
static inline void ValidRange(int s, int off, int size, int outSize, int* lo, int* hi) {
  *lo = off >= 0 ? 0 : (-off + s - 1) / s;
  const int last = size - 1 - off;  // i*s <= last
  *hi = last < 0 ? 0 : std::min(outSize, last / s + 1);
  if (*hi < *lo) *hi = *lo;
}

// Weight gradient of the nonzeros [k0, k1): one dot product over the output pixels and the batch each, swept in
// bands of output rows whose operands (the band of dY and the input rows it reads, all channels) fit in about
// 1 MiB, so the planes are read from L2 instead of once per nonzero from L3.
static void WeightGradRange(const ConvLayer& L, const ConvGeom& g, const float* dY, const float* X, float* grad, int bp,
                            long k0, long k1) {
  const TapTable tt(L);
  const long rowStride = static_cast<long>(g.w) * bp, chanStride = g.h * rowStride;
  const long orow = static_cast<long>(g.ow) * bp, oplane = g.oh * orow;
  const int nvec = bp / W;
  const long bytesPerRow = (static_cast<long>(L.cout) * orow + static_cast<long>(L.cin) * g.sh * rowStride) * 4;
  const int band = static_cast<int>(std::max(1L, std::min<long>(g.oh, (1L << 20) / std::max(1L, bytesPerRow))));
  const int oFirst = static_cast<int>(std::upper_bound(L.optr, L.optr + L.cout + 1, static_cast<int32_t>(k0)) - L.optr) - 1;
  for (long k = k0; k < k1; ++k) grad[k] = 0.f;
  for (int b0 = 0; b0 < g.oh; b0 += band) {
    const int b1 = std::min(g.oh, b0 + band);
    int o = oFirst;
    for (long k = k0; k < k1; ++k) {
      while (L.optr[o + 1] <= k) ++o;
      const int t = L.tap[k], ky = tt.ky[t], kx = tt.kx[t];
      int oy0, oy1, ox0, ox1;
      ValidRange(g.sh, ky - g.pt, g.h, g.oh, &oy0, &oy1);
      ValidRange(g.sw, kx - g.pl, g.w, g.ow, &ox0, &ox1);
      oy0 = std::max(oy0, b0);
      oy1 = std::min(oy1, b1);
      if (oy0 >= oy1 || ox0 >= ox1) continue;
      V a0{}, a1{}, a2{}, a3{};
      const float* xc = X + L.chan[k] * chanStride;
      for (int oy = oy0; oy < oy1; ++oy) {
        const float* d = dY + o * oplane + oy * orow + static_cast<long>(ox0) * bp;
        const float* x = xc + static_cast<long>(oy * g.sh + ky - g.pt) * rowStride + static_cast<long>(ox0 * g.sw + kx - g.pl) * bp;
        if (g.sw == 1) {
          DotInto(d, x, static_cast<long>(ox1 - ox0) * nvec, a0, a1, a2, a3);
        } else {
          for (int ox = ox0; ox < ox1; ++ox, d += bp, x += static_cast<long>(g.sw) * bp) DotInto(d, x, nvec, a0, a1, a2, a3);
        }
      }
      grad[k] += HSum((a0 + a1) + (a2 + a3));
    }
  }
}

// 2x2 / stride 2 max pooling of channel rows [r0, r1) (row = c * oh + oy), the batch as vectors.
static void MaxPoolRange(const float* X, float* Y, int h, int w, int bp, long r0, long r1) {
  const int oh = h / 2, ow = w / 2;
  for (long r = r0; r < r1; ++r) {
    const long c = r / oh, oy = r - c * oh;
    const float* a = X + ((c * h + 2 * oy) * w) * static_cast<long>(bp);
    const float* b = a + static_cast<long>(w) * bp;
    float* y = Y + (c * oh + oy) * ow * static_cast<long>(bp);
    for (int ox = 0; ox < ow; ++ox)
      for (int v = 0; v < bp; v += W) {
        const long i = 2L * ox * bp + v;
        V m = Load(a + i);
        V t = Load(a + i + bp);
        m = t > m ? t : m;
        t = Load(b + i);
        m = t > m ? t : m;
        t = Load(b + i + bp);
        m = t > m ? t : m;
        Store(y + static_cast<long>(ox) * bp + v, m);
      }
  }
}

// Gradient of MaxPoolRange for input rows of channel rows [r0, r1) (row = c * h + iy, pairs of rows per window).
static void MaxPoolGradRange(const float* X, const float* dY, float* dX, int h, int w, int bp, bool relu, long r0,
                             long r1) {
  const int oh = h / 2, ow = w / 2;
  for (long r = r0; r < r1; ++r) {
    const long c = r / h, iy = r - c * h;
    float* d = dX + (c * h + iy) * w * static_cast<long>(bp);
    if (iy >= 2 * oh || (iy & 1)) {
      if (iy >= 2 * oh)
        for (long i = 0; i < static_cast<long>(w) * bp; ++i) d[i] = 0.f;
      continue;  // odd rows are written with their window's even row
    }
    const float* a = X + (c * h + iy) * w * static_cast<long>(bp);
    const float* b = a + static_cast<long>(w) * bp;
    float* e = d + static_cast<long>(w) * bp;
    const float* g = dY + (c * oh + iy / 2) * ow * static_cast<long>(bp);
    for (int ox = 0; ox < ow; ++ox)
      for (int v = 0; v < bp; v += W) {
        const long i = 2L * ox * bp + v;
        const V x0 = Load(a + i), x1 = Load(a + i + bp), x2 = Load(b + i), x3 = Load(b + i + bp);
        // First maximum in row-major order (strict >), as the stock kernel routes it.
        V m = x0, k = V{};
        m = x1 > m ? x1 : m;
        k = x1 > x0 ? V{} + 1 : k;
        k = x2 > m ? V{} + 2 : k;
        m = x2 > m ? x2 : m;
        k = x3 > m ? V{} + 3 : k;
        m = x3 > m ? x3 : m;
        V gv = Load(g + static_cast<long>(ox) * bp + v);
        if (relu) gv = m > 0 ? gv : V{};
        Store(d + i, k == 0 ? gv : V{});
        Store(d + i + bp, k == 1 ? gv : V{});
        Store(e + i, k == 2 ? gv : V{});
        Store(e + i + bp, k == 3 ? gv : V{});
      }
    for (long i = 2L * ow * bp; i < static_cast<long>(w) * bp; ++i) d[i] = e[i] = 0.f;  // odd last column
  }
}
