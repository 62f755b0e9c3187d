#pragma once
namespace sl {
// Batch normalisation in training mode over the leading axes of a row-major [rows, C] tensor (NHWC flattened:
// rows = N*H*W), PyTorch semantics (docs/algorithm.md#models): the batch is normalised with its own mean and
// *biased* variance; the caller derives the running statistics from mean and var.
//   y = (x - mean) * (gamma * invStd) + beta,  invStd = 1 / sqrt(var + eps).
// Per-channel sums accumulate in double, split by rows over the pool's threads (partials added in thread order:
// the result depends on the thread count, never on timing). gamma/beta may be null (1 and 0).
void BatchNormTrainForward(const float* x, long rows, long channels, const float* gamma, const float* beta, float eps,
                           float* y, float* mean, float* var, float* invStd);
// Its gradient with respect to x, gamma and beta (the gradients through the batch mean and variance included):
//   dbeta = sum dy,  dgamma = sum dy * xhat,  dx = gamma * invStd * (dy - dbeta/rows - xhat * dgamma/rows),
// xhat = (x - mean) * invStd. dgamma/dbeta may be null (not wanted).
void BatchNormTrainBackward(const float* dy, const float* x, long rows, long channels, const float* mean,
                            const float* invStd, const float* gamma, float* dx, float* dgamma, float* dbeta);
}  // namespace sl
