// Truly sparse kernels for Dense (fully connected) layers (issue 9). Only the active weights are stored and
// touched: per layer a CSC-by-output copy of the structure (forward gather, weight gradient at the nonzeros)
// and a CSR-by-input index with a permutation into the CSC values (input gradient), so one value array serves
// both directions and nothing has to be refreshed after an optimizer step.
//
// Activations are feature-major: a [features][bp] row-major array whose rows hold one feature for the whole
// batch, bp = the batch padded to a multiple of 16 floats. Every nonzero is then one contiguous FMA over the
// batch, which is what makes these kernels bound by streaming activation rows instead of by index arithmetic
// (a row-major scalar CSR loop is ~10x slower on the same data).
#pragma once
#include <cstdint>

namespace sl {
namespace sparse {

// Batch padding (floats): a multiple of the widest vector (AVX-512, 16 floats).
constexpr int kPad = 16;
inline int PaddedBatch(int batch) { return ((batch + kPad - 1) / kPad) * kPad; }

// One sparse Dense layer y = act(W^T x + b) with W of dense shape [in, out] (tfjs Dense kernel layout).
struct Layer {
  int in = 0, out = 0;
  long nnz = 0;
  // CSC by output: entries of output column o are colptr[o]..colptr[o+1]; rowidx = input index; ascending.
  const int32_t* colptr = nullptr;
  const int32_t* rowidx = nullptr;
  float* vals = nullptr;  // [nnz] weights, CSC order
  float* mom = nullptr;   // [nnz] momentum buffer per nonzero (may be null when momentum is 0)
  // CSR by input: entries of input row i are rowptr[i]..rowptr[i+1]; colidx = output index; perm = CSC slot.
  const int32_t* rowptr = nullptr;
  const int32_t* colidx = nullptr;
  const int32_t* perm = nullptr;
  float* bias = nullptr;     // [out] or null
  float* biasMom = nullptr;  // [out] or null
  bool relu = false;
};

// PyTorch SGD (dampening 0): g = grad + wd*w; buf = mu*buf + g; upd = nesterov ? g + mu*buf : buf; w -= lr*upd.
struct Sgd {
  float lr = 0, mu = 0, wd = 0;
  bool nesterov = false;
};

// Y[o][:] = act(bias[o] + sum_k vals[k] * X[rowidx[k]][:]) for every output o. X: [in][bp], Y: [out][bp].
void Forward(const Layer& L, const float* X, float* Y, int bp);
// dX[i][:] = sum_k vals[perm[k]] * dY[colidx[k]][:], times (A[i][:] > 0) when reluOf is not null. dX: [in][bp].
void BackwardInput(const Layer& L, const float* dY, const float* reluOf, float* dX, int bp);
// Weight gradient at the nonzeros only (SDDMM): grad[k] = dot(dY[o][:], X[rowidx[k]][:]) over the batch.
void WeightGrad(const Layer& L, const float* dY, const float* X, float* grad, int bp);
// Bias gradient: grad[o] = sum_j dY[o][j] (padding columns of dY must be zero).
void BiasGrad(const Layer& L, const float* dY, float* grad, int bp);
// SGD on n parameters in place (buf may be null when mu == 0).
void SgdApply(float* w, float* buf, const float* grad, long n, const Sgd& s, bool first);
// Fused weight gradient + SGD of the nonzeros (no gradient array is materialised).
void WeightGradSgd(const Layer& L, const float* dY, const float* X, int bp, const Sgd& s, bool first);
// BackwardInput, then the weight gradient + SGD of WeightGradSgd, as one pass over the CSR order that reads each
// dY row once for both (scratch: nnz floats for the gradient; the SGD runs after the pass). Needs rowptr.
// rowSums (or null): [in], each dX row's sum (= the previous layer's bias gradient), taken while it is in cache.
void BackwardInputWeightGradSgd(const Layer& L, const float* dY, const float* X, const float* reluOf, float* dX,
                                float* scratch, float* rowSums, int bp, const Sgd& s);

// The instruction set the kernels dispatch to: "avx512", "avx2" or "generic" (cpuid at load time;
// SPARSE_LEARNING_SPARSE_ISA=generic|avx2|avx512 forces a narrower one for tests).
const char* Isa();
bool SetIsa(const char* name);

}  // namespace sparse
}  // namespace sl
