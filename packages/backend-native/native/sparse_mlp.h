// A whole training step of a sparse MLP in native code (issue 9): input transpose, sparse forward with fused
// bias + ReLU, softmax cross-entropy, sparse backward (input gradient with the fused ReLU derivative, weight
// gradient only at the nonzeros) and the SGD update of every nonzero and bias, in one call, so no per-layer
// TensorFlow.js launch remains. Memory: the compact layers (owned by the caller) plus activation and gradient
// buffers of [features][padded batch] per layer — nothing of the dense weight shape.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "sparse_kernels.h"

namespace sl {
namespace sparse {

// 64-byte aligned float buffer (vector loads of feature rows).
class AlignedFloats {
 public:
  AlignedFloats() = default;
  explicit AlignedFloats(size_t n);
  ~AlignedFloats();
  AlignedFloats(const AlignedFloats&) = delete;
  AlignedFloats& operator=(const AlignedFloats&) = delete;
  AlignedFloats(AlignedFloats&& o) noexcept : p_(o.p_), n_(o.n_) { o.p_ = nullptr; o.n_ = 0; }
  float* data() const { return p_; }
  size_t size() const { return n_; }

 private:
  float* p_ = nullptr;
  size_t n_ = 0;
};

struct Mlp {
  std::vector<Layer> layers;
  int maxBatch = 0;
  // acts[0] = transposed input, acts[l+1] = output of layer l; grads[l+1] = loss gradient w.r.t. acts[l+1]
  // before the activation (grads[0] unused).
  std::vector<AlignedFloats> acts, grads;
  std::vector<float> biasGrad;
  std::vector<float> weightGrad;  // [max nnz of the layers after the first]: the fused backward's gradient
  int lastBatch = 0;  // batch of the last training step (its activations/gradients are still in the buffers)

  Mlp(std::vector<Layer> layers, int maxBatch);
  // One step: returns the summed (not averaged) loss; *correct = top-1 hits. train=false: forward + loss only.
  double Step(const float* x, const int32_t* labels, int batch, const Sgd& sgd, bool train, double* correct);
  // Dense weight gradient of layer l from the last training step, dW[in][out] (the tfjs kernel layout).
  void DenseGrad(int l, float* dW) const;
  // Dense momentum for growth: dW = dense gradient; M = first ? dW : mu*M + dW; M[active] = the nonzeros'
  // own momentum (exact, weight decay included).
  void DenseMomentum(int l, float* M, float* dW, float mu, bool first) const;
};

}  // namespace sparse
}  // namespace sl
