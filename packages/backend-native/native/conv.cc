// Convolutions as im2col + GEMM, processed in chunks of images so the column buffer stays below ~16 MB
// (WRN-16-8's 32x32x128 3x3 layers would otherwise need 150 MB). im2col/col2im are split over the pool's
// threads by image; the GEMM is multithreaded by itself (OpenBLAS threads or our pool).
#include "conv.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#include "gemm.h"
#include "thread_pool.h"

namespace sl {
namespace {
constexpr long kMaxColFloats = 4L << 20;

bool IsPointwise(const ConvParams& p) {
  return p.kh == 1 && p.kw == 1 && p.sh == 1 && p.sw == 1 && p.pt == 0 && p.pl == 0 && p.oh == p.h && p.ow == p.w;
}

long ImagesPerChunk(const ConvParams& p) {
  long perImage = p.oh * p.ow * p.kh * p.kw * p.ci;
  return std::max(1L, std::min(p.n, kMaxColFloats / std::max(1L, perImage)));
}

// cols[(img*OH + oy)*OW + ox][(ky*KW + kx)*Ci + c] = x[img, oy*sh + ky*dh - pt, ox*sw + kx*dw - pl, c] (0 outside).
void Im2Col(const ConvParams& p, const float* x, long n0, long count, float* cols) {
  const long K = p.kh * p.kw * p.ci;
  Pool().Run(count, [&](long b, long e) {
    for (long img = b; img < e; ++img) {
      const float* xi = x + (n0 + img) * p.h * p.w * p.ci;
      float* ci = cols + img * p.oh * p.ow * K;
      for (long oy = 0; oy < p.oh; ++oy) {
        for (long ox = 0; ox < p.ow; ++ox) {
          float* row = ci + (oy * p.ow + ox) * K;
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
  });
}

// Adjoint of Im2Col: dx[img, iy, ix, c] += cols[...]. Images are independent, so threads never collide.
void Col2Im(const ConvParams& p, const float* cols, long n0, long count, float* dx) {
  const long K = p.kh * p.kw * p.ci;
  Pool().Run(count, [&](long b, long e) {
    for (long img = b; img < e; ++img) {
      float* xi = dx + (n0 + img) * p.h * p.w * p.ci;
      const float* ci = cols + img * p.oh * p.ow * K;
      for (long oy = 0; oy < p.oh; ++oy) {
        for (long ox = 0; ox < p.ow; ++ox) {
          const float* row = ci + (oy * p.ow + ox) * K;
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
  });
}
}  // namespace

void Conv2D(const ConvParams& p, const float* x, const float* f, float* y) {
  const long K = p.kh * p.kw * p.ci, rowsPerImage = p.oh * p.ow;
  if (IsPointwise(p)) {
    Sgemm(false, false, p.n * rowsPerImage, p.co, K, 1.f, x, K, f, p.co, 0.f, y, p.co);
    return;
  }
  const long chunk = ImagesPerChunk(p);
  std::vector<float> cols(chunk * rowsPerImage * K);
  for (long n0 = 0; n0 < p.n; n0 += chunk) {
    long count = std::min(chunk, p.n - n0);
    Im2Col(p, x, n0, count, cols.data());
    Sgemm(false, false, count * rowsPerImage, p.co, K, 1.f, cols.data(), K, f, p.co, 0.f,
          y + n0 * rowsPerImage * p.co, p.co);
  }
}

void Conv2DBackpropInput(const ConvParams& p, const float* dy, const float* f, float* dx) {
  const long K = p.kh * p.kw * p.ci, rowsPerImage = p.oh * p.ow;
  if (IsPointwise(p)) {
    Sgemm(false, true, p.n * rowsPerImage, K, p.co, 1.f, dy, p.co, f, p.co, 0.f, dx, K);
    return;
  }
  std::memset(dx, 0, p.n * p.h * p.w * p.ci * sizeof(float));
  const long chunk = ImagesPerChunk(p);
  std::vector<float> cols(chunk * rowsPerImage * K);
  for (long n0 = 0; n0 < p.n; n0 += chunk) {
    long count = std::min(chunk, p.n - n0);
    Sgemm(false, true, count * rowsPerImage, K, p.co, 1.f, dy + n0 * rowsPerImage * p.co, p.co, f, p.co, 0.f,
          cols.data(), K);
    Col2Im(p, cols.data(), n0, count, dx);
  }
}

void Conv2DBackpropFilter(const ConvParams& p, const float* x, const float* dy, float* df) {
  const long K = p.kh * p.kw * p.ci, rowsPerImage = p.oh * p.ow;
  if (IsPointwise(p)) {
    Sgemm(true, false, K, p.co, p.n * rowsPerImage, 1.f, x, K, dy, p.co, 0.f, df, p.co);
    return;
  }
  const long chunk = ImagesPerChunk(p);
  std::vector<float> cols(chunk * rowsPerImage * K);
  for (long n0 = 0; n0 < p.n; n0 += chunk) {
    long count = std::min(chunk, p.n - n0);
    Im2Col(p, x, n0, count, cols.data());
    Sgemm(true, false, K, p.co, count * rowsPerImage, 1.f, cols.data(), K, dy + n0 * rowsPerImage * p.co, p.co,
          n0 == 0 ? 0.f : 1.f, df, p.co);
  }
}

void MaxPool(const PoolParams& p, const float* x, float* y) {
  Pool().Run(p.n * p.oh, [&](long b, long e) {
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
  });
}

void MaxPoolGrad(const PoolParams& p, const float* x, const float* dy, float* dx) {
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

void BiasActivation(float* out, long rows, long channels, const float* bias, long biasLen, int activation) {
  const long grain = std::max(1L, (1L << 14) / std::max(1L, channels));
  auto work = [&](long b, long e) {
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
  };
  if (rows * channels < (1L << 16)) work(0, rows);
  else Pool().Run(rows, work, grain);
}

}  // namespace sl
