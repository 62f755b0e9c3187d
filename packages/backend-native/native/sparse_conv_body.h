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
template <int NV, int P>
static void FwdTile(const RowTap* taps, int ntaps, const float* X, float* y, const ConvGeom& g, int bp, int c0, int ox0,
                    int count, float bias, bool relu) {
  V acc[P][NV];
  for (int p = 0; p < P; ++p)
    for (int v = 0; v < NV; ++v) acc[p][v] = V{} + bias;
  const long pix = static_cast<long>(g.sw) * bp;
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
// j + shift of the row at `off`.
template <int NV, int P>
static void BwdTile(const RowTap* taps, int ntaps, const float* dY, float* dx, const float* a, const ConvGeom& g, int bp,
                    int c0, int j0, int count) {
  V acc[P][NV];
  for (int p = 0; p < P; ++p)
    for (int v = 0; v < NV; ++v) acc[p][v] = V{};
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
        for (int v = 0; v < NV; ++v) acc[p][v] += w * Load(d + p * bp + v * W);
    } else {
#pragma GCC unroll 8
      for (int p = 0; p < P; ++p) {
        if (p >= count || static_cast<unsigned>(ox + p) >= static_cast<unsigned>(g.ow)) continue;
#pragma GCC unroll 8
        for (int v = 0; v < NV; ++v) acc[p][v] += w * Load(d + p * bp + v * W);
      }
    }
  }
  const long pix = static_cast<long>(g.sw) * bp;
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

typedef void (*FwdFn)(const RowTap*, int, const float*, float*, const ConvGeom&, int, int, int, int, float, bool);
typedef void (*BwdFn)(const RowTap*, int, const float*, float*, const float*, const ConvGeom&, int, int, int, int);

template <int NV, int P>
constexpr FwdFn FwdPick() {
  if constexpr (NV * P <= kAcc) return &FwdTile<NV, P>;
  else return nullptr;
}
template <int NV, int P>
constexpr BwdFn BwdPick() {
  if constexpr (NV * P <= kAcc) return &BwdTile<NV, P>;
  else return nullptr;
}
#define SL_CONV_ROW(PICK, NV) \
  { PICK<NV, 1>(), PICK<NV, 2>(), PICK<NV, 3>(), PICK<NV, 4>(), PICK<NV, 5>(), PICK<NV, 6>(), PICK<NV, 7>(), PICK<NV, 8>() }
#define SL_CONV_TABLE(PICK) \
  { SL_CONV_ROW(PICK, 1), SL_CONV_ROW(PICK, 2), SL_CONV_ROW(PICK, 3), SL_CONV_ROW(PICK, 4), \
    SL_CONV_ROW(PICK, 5), SL_CONV_ROW(PICK, 6), SL_CONV_ROW(PICK, 7), SL_CONV_ROW(PICK, 8) }
static const FwdFn kFwd[kMaxNv][kMaxP] = SL_CONV_TABLE(FwdPick);
static const BwdFn kBwd[kMaxNv][kMaxP] = SL_CONV_TABLE(BwdPick);
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

// Forward over units [u0, u1), unit = o * oh + oy (one output row of one channel).
static void ForwardRange(const ConvLayer& L, const ConvGeom& g, const float* X, float* Y, int bp, long u0, long u1) {
  const TapTable tt(L);
  std::vector<RowTap> taps;
  const long rowStride = static_cast<long>(g.w) * bp, chanStride = g.h * rowStride;
  const int nvec = bp / W;
  for (long u = u0; u < u1; ++u) {
    const int o = static_cast<int>(u / g.oh), oy = static_cast<int>(u - static_cast<long>(o) * g.oh);
    taps.clear();
    for (int k = L.optr[o]; k < L.optr[o + 1]; ++k) {
      const int t = L.tap[k], iy = oy * g.sh + tt.ky[t] - g.pt;
      if (static_cast<unsigned>(iy) >= static_cast<unsigned>(g.h)) continue;
      const int shift = tt.kx[t] - g.pl;
      taps.push_back({L.chan[k] * chanStride + iy * rowStride + static_cast<long>(shift) * bp, shift, L.vals[k]});
    }
    const float bias = L.bias ? L.bias[o] : 0.f;
    float* yrow = Y + u * g.ow * static_cast<long>(bp);
    for (int c = 0; c < nvec; c += kMaxNv) {
      const int nv = std::min(kMaxNv, nvec - c);
      const int P = TilePixels(nv, g.ow);
      const FwdFn fn = kFwd[nv - 1][P - 1];
      for (int ox0 = 0; ox0 < g.ow; ox0 += P)
        fn(taps.data(), static_cast<int>(taps.size()), X, yrow + static_cast<long>(ox0) * bp, g, bp, c * W, ox0,
           std::min(P, g.ow - ox0), bias, L.relu);
    }
  }
}

// Input gradient over units [u0, u1), unit = c * h + iy (one input row of one channel).
static void BackwardRange(const ConvLayer& L, const ConvGeom& g, const float* dY, const float* reluOf, float* dX, int bp,
                          long u0, long u1) {
  const TapTable tt(L);
  std::vector<RowTap> rowTaps, taps;
  std::vector<int> kxs;
  const long orow = static_cast<long>(g.ow) * bp, oplane = g.oh * orow;
  const int nvec = bp / W;
  for (long u = u0; u < u1; ++u) {
    const int c = static_cast<int>(u / g.h), iy = static_cast<int>(u - static_cast<long>(c) * g.h);
    // The nonzeros of input channel c that reach an output row from input row iy: iy = oy*sh + ky - pt.
    rowTaps.clear();
    kxs.clear();
    for (int k = L.iptr[c]; k < L.iptr[c + 1]; ++k) {
      const int slot = L.perm[k], t = L.tap[slot];
      const int ty = iy + g.pt - tt.ky[t];
      if (ty < 0 || ty % g.sh != 0) continue;
      const int oy = ty / g.sh;
      if (oy >= g.oh) continue;
      rowTaps.push_back({L.ochan[k] * oplane + oy * orow, 0, L.vals[slot]});
      kxs.push_back(tt.kx[t]);
    }
    const long rowOff = u * g.w * static_cast<long>(bp);
    // Input columns r, r + sw, r + 2sw, ... (one parity class) read consecutive output columns of each nonzero:
    // ix = ox*sw + kx - pl, so ox = j + (r + pl - kx)/sw for column r + sw*j when sw divides r + pl - kx.
    for (int r = 0; r < g.sw && r < g.w; ++r) {
      const int len = (g.w - r + g.sw - 1) / g.sw;
      taps.clear();
      for (size_t i = 0; i < rowTaps.size(); ++i) {
        const int num = r + g.pl - kxs[i];
        if (num % g.sw != 0) continue;
        taps.push_back({rowTaps[i].off, num / g.sw, rowTaps[i].w});
      }
      for (int cc = 0; cc < nvec; cc += kMaxNv) {
        const int nv = std::min(kMaxNv, nvec - cc);
        const int P = TilePixels(nv, len);
        const BwdFn fn = kBwd[nv - 1][P - 1];
        for (int j0 = 0; j0 < len; j0 += P) {
          const long off = rowOff + static_cast<long>(r + g.sw * j0) * bp;
          fn(taps.data(), static_cast<int>(taps.size()), dY, dX + off, reluOf ? reluOf + off : nullptr, g, bp, cc * W, j0,
             std::min(P, len - j0));
        }
      }
    }
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

// Weight gradient of the nonzeros [k0, k1): one dot product over the output pixels and the batch each.
static void WeightGradRange(const ConvLayer& L, const ConvGeom& g, const float* dY, const float* X, float* grad, int bp,
                            long k0, long k1) {
  const TapTable tt(L);
  const long rowStride = static_cast<long>(g.w) * bp, chanStride = g.h * rowStride;
  const long orow = static_cast<long>(g.ow) * bp, oplane = g.oh * orow;
  const int nvec = bp / W;
  int o = static_cast<int>(std::upper_bound(L.optr, L.optr + L.cout + 1, static_cast<int32_t>(k0)) - L.optr) - 1;
  for (long k = k0; k < k1; ++k) {
    while (L.optr[o + 1] <= k) ++o;
    const int t = L.tap[k], ky = tt.ky[t], kx = tt.kx[t];
    int oy0, oy1, ox0, ox1;
    ValidRange(g.sh, ky - g.pt, g.h, g.oh, &oy0, &oy1);
    ValidRange(g.sw, kx - g.pl, g.w, g.ow, &ox0, &ox1);
    V a0{}, a1{}, a2{}, a3{};
    const float* xc = X + L.chan[k] * chanStride;
    for (int oy = oy0; oy < oy1 && ox0 < ox1; ++oy) {
      const float* d = dY + o * oplane + oy * orow + static_cast<long>(ox0) * bp;
      const float* x = xc + static_cast<long>(oy * g.sh + ky - g.pt) * rowStride + static_cast<long>(ox0 * g.sw + kx - g.pl) * bp;
      if (g.sw == 1) {
        DotInto(d, x, static_cast<long>(ox1 - ox0) * nvec, a0, a1, a2, a3);
      } else {
        for (int ox = ox0; ox < ox1; ++ox, d += bp, x += static_cast<long>(g.sw) * bp) DotInto(d, x, nvec, a0, a1, a2, a3);
      }
    }
    grad[k] = HSum((a0 + a1) + (a2 + a3));
  }
}
