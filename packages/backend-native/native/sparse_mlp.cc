// See sparse_mlp.h.
#include "sparse_mlp.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>

#include "gemm.h"
#include "thread_pool.h"

namespace sl {
namespace sparse {

AlignedFloats::AlignedFloats(size_t n) : n_(n) {
  const size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
  p_ = static_cast<float*>(std::aligned_alloc(64, bytes > 0 ? bytes : 64));
  if (!p_) throw std::bad_alloc();
  std::memset(p_, 0, bytes > 0 ? bytes : 64);
}

AlignedFloats::~AlignedFloats() { std::free(p_); }

Mlp::Mlp(std::vector<Layer> ls, int maxB) : layers(std::move(ls)), maxBatch(maxB) {
  const int bp = PaddedBatch(maxBatch);
  acts.emplace_back(static_cast<size_t>(layers.front().in) * bp);
  grads.emplace_back(0);
  size_t widest = 0;
  for (const Layer& L : layers) {
    acts.emplace_back(static_cast<size_t>(L.out) * bp);
    grads.emplace_back(static_cast<size_t>(L.out) * bp);
    widest = std::max<size_t>(widest, L.out);
  }
  biasGrad.resize(widest);
  long most = 0;
  for (size_t l = 1; l < layers.size(); ++l) most = std::max(most, layers[l].nnz);
  weightGrad.resize(static_cast<size_t>(most));
}

namespace {
// x [batch][in] row-major -> a [in][bp], padding columns zeroed. 32x32 tiles keep both sides in cache.
void TransposeIn(const float* x, int batch, int in, float* a, int bp) {
  constexpr int T = 32;
  for (int j0 = 0; j0 < batch; j0 += T) {
    const int j1 = std::min(batch, j0 + T);
    for (int i0 = 0; i0 < in; i0 += T) {
      const int i1 = std::min(in, i0 + T);
      for (int j = j0; j < j1; ++j) {
        const float* row = x + static_cast<long>(j) * in;
        for (int i = i0; i < i1; ++i) a[static_cast<long>(i) * bp + j] = row[i];
      }
    }
  }
  if (batch < bp)
    for (int i = 0; i < in; ++i) std::memset(a + static_cast<long>(i) * bp + batch, 0, sizeof(float) * (bp - batch));
}
}  // namespace

double Mlp::Step(const float* x, const int32_t* labels, int batch, const Sgd& sgd, bool train, double* correct) {
  const int bp = PaddedBatch(batch);
  const int n = static_cast<int>(layers.size());
  TransposeIn(x, batch, layers.front().in, acts[0].data(), bp);
  for (int l = 0; l < n; ++l) Forward(layers[l], acts[l].data(), acts[l + 1].data(), bp);

  // Softmax cross-entropy over the logits [classes][bp]; gradient (p - onehot)/batch, zero in the padding.
  const int classes = layers.back().out;
  const float* z = acts[n].data();
  float* dz = grads[n].data();
  double loss = 0, hits = 0;
  const float invB = 1.f / static_cast<float>(batch);
  for (int j = 0; j < bp; ++j) {
    if (j >= batch) {
      if (train)
        for (int c = 0; c < classes; ++c) dz[static_cast<long>(c) * bp + j] = 0.f;
      continue;
    }
    float mx = z[j];
    int arg = 0;
    for (int c = 1; c < classes; ++c) {
      const float v = z[static_cast<long>(c) * bp + j];
      if (v > mx) mx = v, arg = c;
    }
    double sum = 0;
    for (int c = 0; c < classes; ++c) sum += std::exp(static_cast<double>(z[static_cast<long>(c) * bp + j] - mx));
    const int y = labels[j];
    loss -= static_cast<double>(z[static_cast<long>(y) * bp + j] - mx) - std::log(sum);
    hits += arg == y ? 1 : 0;
    if (train) {
      for (int c = 0; c < classes; ++c) {
        const float p = static_cast<float>(std::exp(static_cast<double>(z[static_cast<long>(c) * bp + j] - mx)) / sum);
        dz[static_cast<long>(c) * bp + j] = (p - (c == y ? 1.f : 0.f)) * invB;
      }
    }
  }
  if (correct) *correct = hits;
  if (!train) return loss;

  // Backward, last layer first. The input gradient is computed before the layer's weights change. biasGrad
  // holds layer l's bias gradient when the loop reaches l: the logits' from their gradient, every other one
  // summed by the next layer's backward pass from the rows it writes (the bias update does not affect the
  // input gradient, so it runs first and frees biasGrad for the pass).
  if (layers[n - 1].bias) BiasGrad(layers[n - 1], grads[n].data(), biasGrad.data(), bp);
  for (int l = n - 1; l >= 0; --l) {
    Layer& L = layers[l];
    if (L.bias) SgdApply(L.bias, L.biasMom, biasGrad.data(), L.out, sgd, false);
    if (l > 0) {
      // One pass for the input and the weight gradient (each dY row read once), then SGD of the nonzeros.
      BackwardInputWeightGradSgd(L, grads[l + 1].data(), acts[l].data(), layers[l - 1].relu ? acts[l].data() : nullptr,
                                 grads[l].data(), weightGrad.data(), layers[l - 1].bias ? biasGrad.data() : nullptr, bp,
                                 sgd);
    } else {
      WeightGradSgd(L, grads[l + 1].data(), acts[l].data(), bp, sgd, false);
    }
  }
  lastBatch = batch;
  return loss;
}

void Mlp::DenseGrad(int l, float* dW) const {
  const Layer& L = layers[l];
  const int bp = PaddedBatch(lastBatch > 0 ? lastBatch : 1);
  // dW[in][out] = A[in][bp] . dZ[out][bp]^T (the padding columns of dZ are zero).
  Sgemm(false, true, L.in, L.out, bp, 1.f, acts[l].data(), bp, grads[l + 1].data(), bp, 0.f, dW, L.out);
}

void Mlp::DenseMomentum(int l, float* M, float* dW, float mu, bool first) const {
  DenseGrad(l, dW);
  const Layer& L = layers[l];
  const long size = static_cast<long>(L.in) * L.out;
  Pool().Run(size, [&](long b, long e) {
    if (first) {
      std::memcpy(M + b, dW + b, sizeof(float) * (e - b));
    } else {
      for (long k = b; k < e; ++k) M[k] = M[k] * mu + dW[k];
    }
  }, 4096);
  if (L.mom)
    for (int o = 0; o < L.out; ++o)
      for (int k = L.colptr[o]; k < L.colptr[o + 1]; ++k) M[static_cast<long>(L.rowidx[k]) * L.out + o] = L.mom[k];
}

}  // namespace sparse
}  // namespace sl
