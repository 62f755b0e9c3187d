// The sparse kernels' loops, written once with GCC vector extensions and compiled once per instruction set by
// sparse_kernels.cc (which includes this file inside `#pragma GCC target(...)` regions, each in its own
// namespace, with SL_SPARSE_W = floats per vector). No intrinsics: the same source gives AVX-512, AVX2+FMA
// and baseline SSE code, and the cpuid dispatch picks one at run time (never -march=native alone).
//
// Expects: namespace already opened, SL_SPARSE_W defined, sparse_kernels.h included.

typedef float V __attribute__((vector_size(SL_SPARSE_W * 4), aligned(4)));
constexpr int W = SL_SPARSE_W;
// Accumulators kept in registers per output (8 vectors: 128 floats of the batch on AVX-512, 64 on AVX2).
constexpr int kMaxNv = 8;
// Rows gathered this many nonzeros ahead are prefetched: the hardware prefetchers cannot predict random rows,
// and once the activations outgrow L2 (wide layers) every row is a cache miss.
constexpr int kAhead = 6;

template <int NV>
static inline void PrefetchRow(const float* row) {
  for (int b = 0; b < NV * W * 4; b += 64) __builtin_prefetch(reinterpret_cast<const char*>(row) + b, 0, 3);
}

static inline V Load(const float* p) { return *reinterpret_cast<const V*>(p); }
static inline void Store(float* p, V v) { *reinterpret_cast<V*>(p) = v; }
// Horizontal sum as a tree of rotations (log2 W shuffle + add pairs): the lane-by-lane loop it replaces was a
// serial chain of W extracts and scalar adds, ~70 % of the weight-gradient kernel's samples at 1 % density
// (perf, set-mlp). Lane 0 ends with the sum; the order is fixed, so results are deterministic.
typedef int VI __attribute__((vector_size(SL_SPARSE_W * 4)));
#if defined(__clang__)
#define SL_ROT(v, ...) __builtin_shufflevector(v, v, __VA_ARGS__)
#else
#define SL_ROT(v, ...) __builtin_shuffle(v, VI{__VA_ARGS__})
#endif
static inline float HSum(V v) {
#if SL_SPARSE_W == 16
  v += SL_ROT(v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
  v += SL_ROT(v, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11);
  v += SL_ROT(v, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
  v += SL_ROT(v, 1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14);
#elif SL_SPARSE_W == 8
  v += SL_ROT(v, 4, 5, 6, 7, 0, 1, 2, 3);
  v += SL_ROT(v, 2, 3, 0, 1, 6, 7, 4, 5);
  v += SL_ROT(v, 1, 0, 3, 2, 5, 4, 7, 6);
#elif SL_SPARSE_W == 4
  v += SL_ROT(v, 2, 3, 0, 1);
  v += SL_ROT(v, 1, 0, 3, 2);
#else
#error "SL_SPARSE_W must be 4, 8 or 16"
#endif
  return v[0];
}
#undef SL_ROT

// Forward gather for outputs [o0, o1) and batch columns [c0, c0 + NV*W).
template <int NV>
static void FwdChunk(const Layer& L, const float* X, float* Y, int bp, int c0, int o0, int o1) {
  for (int o = o0; o < o1; ++o) {
    V acc[NV];
    const float b = L.bias ? L.bias[o] : 0.f;
    for (int v = 0; v < NV; ++v) acc[v] = V{} + b;
    const int k1 = L.colptr[o + 1];
    const long nnz = L.nnz;
    for (int k = L.colptr[o]; k < k1; ++k) {
      if (k + kAhead < nnz) PrefetchRow<NV>(X + static_cast<long>(L.rowidx[k + kAhead]) * bp + c0);
      const float w = L.vals[k];
      const float* x = X + static_cast<long>(L.rowidx[k]) * bp + c0;
      for (int v = 0; v < NV; ++v) acc[v] += w * Load(x + v * W);
    }
    float* y = Y + static_cast<long>(o) * bp + c0;
    if (L.relu) {
      for (int v = 0; v < NV; ++v) Store(y + v * W, acc[v] > 0 ? acc[v] : V{});
    } else {
      for (int v = 0; v < NV; ++v) Store(y + v * W, acc[v]);
    }
  }
}

// Input-gradient gather for inputs [i0, i1) and batch columns [c0, c0 + NV*W).
template <int NV>
static void BwdChunk(const Layer& L, const float* dY, const float* reluOf, float* dX, int bp, int c0, int i0, int i1) {
  for (int i = i0; i < i1; ++i) {
    V acc[NV];
    for (int v = 0; v < NV; ++v) acc[v] = V{};
    const int k1 = L.rowptr[i + 1];
    const long nnz = L.nnz;
    for (int k = L.rowptr[i]; k < k1; ++k) {
      if (k + kAhead < nnz) PrefetchRow<NV>(dY + static_cast<long>(L.colidx[k + kAhead]) * bp + c0);
      const float w = L.vals[L.perm[k]];
      const float* g = dY + static_cast<long>(L.colidx[k]) * bp + c0;
      for (int v = 0; v < NV; ++v) acc[v] += w * Load(g + v * W);
    }
    float* d = dX + static_cast<long>(i) * bp + c0;
    if (reluOf) {
      const float* a = reluOf + static_cast<long>(i) * bp + c0;
      for (int v = 0; v < NV; ++v) Store(d + v * W, Load(a + v * W) > 0 ? acc[v] : V{});
    } else {
      for (int v = 0; v < NV; ++v) Store(d + v * W, acc[v]);
    }
  }
}

// grad[k] (+)= dot(dY[o][c0..], X[rowidx[k]][c0..]) for the nonzeros of outputs [o0, o1).
template <int NV>
static void WGradChunk(const Layer& L, const float* dY, const float* X, float* grad, int bp, int c0, bool add, int o0,
                       int o1) {
  for (int o = o0; o < o1; ++o) {
    V dy[NV];
    const float* g = dY + static_cast<long>(o) * bp + c0;
    for (int v = 0; v < NV; ++v) dy[v] = Load(g + v * W);
    const int k1 = L.colptr[o + 1];
    const long nnz = L.nnz;
    for (int k = L.colptr[o]; k < k1; ++k) {
      if (k + kAhead < nnz) PrefetchRow<NV>(X + static_cast<long>(L.rowidx[k + kAhead]) * bp + c0);
      const float* x = X + static_cast<long>(L.rowidx[k]) * bp + c0;
      V t = dy[0] * Load(x);
      for (int v = 1; v < NV; ++v) t += dy[v] * Load(x + v * W);
      const float s = HSum(t);
      grad[k] = add ? grad[k] + s : s;
    }
  }
}

// W/2 doubles, and half a vector of floats (the double sums of the bias gradient).
typedef double VD __attribute__((vector_size(SL_SPARSE_W * 4), aligned(4)));
typedef float VHalf __attribute__((vector_size(SL_SPARSE_W * 2), aligned(4)));

// Sum of the row segment [p, p + NV*W) in double (the stored input gradient's row: the previous layer's bias
// gradient, from values still in cache).
template <int NV>
static inline double RowSumD(const float* p) {
  VD lo = {}, hi = {};
  for (int v = 0; v < NV; ++v) {
    lo += __builtin_convertvector(*reinterpret_cast<const VHalf*>(p + v * W), VD);
    hi += __builtin_convertvector(*reinterpret_cast<const VHalf*>(p + v * W + W / 2), VD);
  }
  lo += hi;
  double s = 0;
  for (int i = 0; i < W / 2; ++i) s += lo[i];
  return s;
}

// Input gradient and weight gradient of inputs [i0, i1) in one pass over the CSR order (batch columns
// [c0, c0 + NV*W)): X[i] stays in registers beside the dX[i] accumulators, and each nonzero (i, o) reads the row
// dY[o] once for both dX[i] += w * dY[o] and grad[perm] (+)= dot(dY[o], X[i]) — BwdChunk and WGradChunk would
// each stream a row per nonzero. Same operations in the same order as those two, so the same numbers.
template <int NV>
static void BwdWGradChunk(const Layer& L, const float* dY, const float* X, const float* reluOf, float* dX, float* grad,
                          float* rowSum, int bp, int c0, bool add, int i0, int i1) {
  for (int i = i0; i < i1; ++i) {
    V acc[NV], x[NV];
    const float* xr = X + static_cast<long>(i) * bp + c0;
    for (int v = 0; v < NV; ++v) {
      acc[v] = V{};
      x[v] = Load(xr + v * W);
    }
    const int k1 = L.rowptr[i + 1];
    const long nnz = L.nnz;
    for (int k = L.rowptr[i]; k < k1; ++k) {
      if (k + kAhead < nnz) PrefetchRow<NV>(dY + static_cast<long>(L.colidx[k + kAhead]) * bp + c0);
      const int slot = L.perm[k];
      const float w = L.vals[slot];
      const float* g = dY + static_cast<long>(L.colidx[k]) * bp + c0;
      V gv = Load(g);
      acc[0] += w * gv;
      V t = gv * x[0];
      for (int v = 1; v < NV; ++v) {
        gv = Load(g + v * W);
        acc[v] += w * gv;
        t += gv * x[v];
      }
      const float sum = HSum(t);
      grad[slot] = add ? grad[slot] + sum : sum;
    }
    float* d = dX + static_cast<long>(i) * bp + c0;
    if (reluOf) {
      const float* a = reluOf + static_cast<long>(i) * bp + c0;
      for (int v = 0; v < NV; ++v) Store(d + v * W, Load(a + v * W) > 0 ? acc[v] : V{});
    } else {
      for (int v = 0; v < NV; ++v) Store(d + v * W, acc[v]);
    }
    if (rowSum) {
      const float r = static_cast<float>(RowSumD<NV>(d));
      rowSum[i] = add ? rowSum[i] + r : r;
    }
  }
}

// grad[o] = sum_j dY[o][j] for outputs [o0, o1), accumulated in double as before, but in vectors of W/2 doubles
// (the scalar loop it replaces was a serial chain of bp dependent adds per output: ~15 % of a 1 % step).
static void BiasGradRange(const float* dY, float* grad, int bp, int o0, int o1) {
  for (int o = o0; o < o1; ++o) {
    const float* g = dY + static_cast<long>(o) * bp;
    VD lo = {}, hi = {};
    for (int j = 0; j < bp; j += W) {
      lo += __builtin_convertvector(*reinterpret_cast<const VHalf*>(g + j), VD);
      hi += __builtin_convertvector(*reinterpret_cast<const VHalf*>(g + j + W / 2), VD);
    }
    lo += hi;
    double s = 0;
    for (int i = 0; i < W / 2; ++i) s += lo[i];
    grad[o] = static_cast<float>(s);
  }
}

// Dispatches a chunk of nv (1..kMaxNv) vectors to its template instance.
#define SL_SPARSE_SWITCH(nv, CALL)       \
  switch (nv) {                          \
    case 1: CALL(1); break;              \
    case 2: CALL(2); break;              \
    case 3: CALL(3); break;              \
    case 4: CALL(4); break;              \
    case 5: CALL(5); break;              \
    case 6: CALL(6); break;              \
    case 7: CALL(7); break;              \
    default: CALL(8); break;             \
  }

static void ForwardRange(const Layer& L, const float* X, float* Y, int bp, int o0, int o1) {
  const int nvec = bp / W;
  for (int c = 0; c < nvec; c += kMaxNv) {
    const int nv = nvec - c < kMaxNv ? nvec - c : kMaxNv;
#define SL_CALL(N) FwdChunk<N>(L, X, Y, bp, c * W, o0, o1)
    SL_SPARSE_SWITCH(nv, SL_CALL)
#undef SL_CALL
  }
}

static void BackwardRange(const Layer& L, const float* dY, const float* reluOf, float* dX, int bp, int i0, int i1) {
  const int nvec = bp / W;
  for (int c = 0; c < nvec; c += kMaxNv) {
    const int nv = nvec - c < kMaxNv ? nvec - c : kMaxNv;
#define SL_CALL(N) BwdChunk<N>(L, dY, reluOf, dX, bp, c * W, i0, i1)
    SL_SPARSE_SWITCH(nv, SL_CALL)
#undef SL_CALL
  }
}

static void WeightGradRange(const Layer& L, const float* dY, const float* X, float* grad, int bp, int o0, int o1) {
  const int nvec = bp / W;
  for (int c = 0; c < nvec; c += kMaxNv) {
    const int nv = nvec - c < kMaxNv ? nvec - c : kMaxNv;
#define SL_CALL(N) WGradChunk<N>(L, dY, X, grad, bp, c * W, c > 0, o0, o1)
    SL_SPARSE_SWITCH(nv, SL_CALL)
#undef SL_CALL
  }
}
static void BackwardWeightGradRange(const Layer& L, const float* dY, const float* X, const float* reluOf, float* dX,
                                    float* grad, float* rowSum, int bp, int i0, int i1) {
  const int nvec = bp / W;
  for (int c = 0; c < nvec; c += kMaxNv) {
    const int nv = nvec - c < kMaxNv ? nvec - c : kMaxNv;
#define SL_CALL(N) BwdWGradChunk<N>(L, dY, X, reluOf, dX, grad, rowSum, bp, c * W, c > 0, i0, i1)
    SL_SPARSE_SWITCH(nv, SL_CALL)
#undef SL_CALL
  }
}
#undef SL_SPARSE_SWITCH
