#pragma once
namespace sl {
// Element-wise float32 kernels for the large activations of a CNN step (issue 10: WRN-16-8's residual adds,
// ReLU and dropout products ran as single-threaded wasm kernels). Each output element is one IEEE operation on
// the same operands as tfjs's kernel, so results are bit-identical to it; split over the pool's threads.
enum class BinaryKind { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3 };
// out[i] = a[i or 0] op b[i or 0]: aLen and bLen are n or 1 (a scalar operand is broadcast).
void BinaryOp(BinaryKind kind, long n, const float* a, long aLen, const float* b, long bLen, float* out);
// Unary kernels: kRelu out = x > 0 ? x : 0; kStep out = x > 0 ? 1 : alpha; kFloor out = floor(x). NaN stays
// NaN in all three (as tfjs's kernels).
enum class UnaryKind { kRelu = 0, kStep = 1, kFloor = 2 };
void UnaryOp(UnaryKind kind, long n, const float* x, float alpha, float* out);
}  // namespace sl
