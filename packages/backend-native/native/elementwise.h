#pragma once
namespace sl {
// One SGD step (PyTorch semantics, dampening 0) on a whole variable, written to fresh outputs:
//   g = grad + wd*w;  buf' = hasBuf ? mu*buf + g : g;  upd = nesterov ? g + mu*buf' : buf';  w' = w - lr*upd.
// mu == 0: no buffer (bufOut unused), upd = g. Each operation is rounded to float32 separately (no FMA
// contraction), in the same order as the tfjs op chain of SgdOptimizer, so results are bit-identical to it.
// mask (nullable): w' = (w - lr*upd) * mask, the trainer's W ⊙ M folded in (one more float32 product).
// In place when wOut == w (then bufOut == buf, both present, when mu != 0); no other aliasing. Split over the
// thread pool for large variables (element-wise: the same results on any thread count).
void SgdStep(long n, const float* w, const float* grad, const float* buf, float* wOut, float* bufOut, float lr,
             float mu, float wd, bool nesterov, const float* mask = nullptr);
// out = dy * step(y) (1 where y > 0, NaN where y is NaN, else 0): the ReLU gradient from the ReLU's output.
void ReluBackward(long n, const float* dy, const float* y, float* out);
}  // namespace sl
