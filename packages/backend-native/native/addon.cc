// Node-API bindings. Every kernel takes Float32Array views (which may alias the wasm heap or a tfjs-cpu
// buffer: zero copy) and writes into a caller-allocated output, so tfjs keeps ownership of all memory.
#include <napi.h>

#include <cstdlib>
#include <memory>
#include <thread>

#include "batch_norm.h"
#include "binary_ops.h"
#include "blas_loader.h"
#include "conv.h"
#include "conv_small.h"
#include "conv_direct.h"
#include "cpu_isa.h"
#include "dropout_mask.h"
#include "elementwise.h"
#include "gemm.h"
#include "sparse_binding.h"
#include "sparse_conv_binding.h"
#include "cm_transpose.h"
#include "peak.h"
#include "thread_pool.h"

namespace sl {
namespace {
std::unique_ptr<ThreadPool> gPool;
int DefaultThreads() {
  const char* env = std::getenv("SPARSE_LEARNING_NATIVE_THREADS");
  int t = env ? std::atoi(env) : 0;
  if (t <= 0) t = static_cast<int>(std::thread::hardware_concurrency());
  return t <= 0 ? 1 : t;
}
}  // namespace

ThreadPool& Pool() {
  if (!gPool) {
    gPool = std::make_unique<ThreadPool>(DefaultThreads());
    // OpenBLAS (when loaded) runs single-threaded inside the pool's threads (gemm.cc BlasSplit): one set of
    // threads, never OpenBLAS workers spinning next to the pool's.
    if (auto set = LoadOpenBlas().setThreads) set(1);
  }
  return *gPool;
}

void SetThreads(int threads) {
  gPool = std::make_unique<ThreadPool>(threads);
  if (auto set = LoadOpenBlas().setThreads) set(1);
}
}  // namespace sl

namespace {

float* F32(const Napi::Value& v, const char* name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(v.Env(), std::string(name) + " must be a Float32Array");
  return v.As<Napi::Float32Array>().Data();
}

size_t Len(const Napi::Value& v) { return v.As<Napi::Float32Array>().ElementLength(); }

void Need(const Napi::Env& env, bool ok, const char* what) {
  if (!ok) throw Napi::RangeError::New(env, what);
}

long Int(const Napi::Value& v) { return static_cast<long>(v.As<Napi::Number>().Int64Value()); }

// gemm(transA, transB, M, N, K, alpha, A, B, beta, C): dense row-major operands (lda = op-free row length).
Napi::Value Gemm(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  bool tA = info[0].ToBoolean(), tB = info[1].ToBoolean();
  long M = Int(info[2]), N = Int(info[3]), K = Int(info[4]);
  float alpha = info[5].As<Napi::Number>().FloatValue(), beta = info[8].As<Napi::Number>().FloatValue();
  float *A = F32(info[6], "A"), *B = F32(info[7], "B"), *C = F32(info[9], "C");
  Need(env, M >= 0 && N >= 0 && K >= 0, "negative dimension");
  Need(env, Len(info[6]) >= size_t(M * K) && Len(info[7]) >= size_t(K * N) && Len(info[9]) >= size_t(M * N),
       "gemm: operand too short");
  sl::Sgemm(tA, tB, M, N, K, alpha, A, tA ? M : K, B, tB ? K : N, beta, C, N);
  return env.Undefined();
}

sl::ConvParams ConvP(const Napi::Value& v) {
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  Need(v.Env(), a.ElementLength() == 15, "conv params must have 15 entries");
  const int32_t* d = a.Data();
  return sl::ConvParams{d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14]};
}

void CheckConv(const Napi::Env& env, const sl::ConvParams& p, size_t x, size_t f, size_t y) {
  Need(env, x >= size_t(p.n * p.h * p.w * p.ci), "conv: x too short");
  Need(env, f >= size_t(p.kh * p.kw * p.ci * p.co), "conv: filter too short");
  Need(env, y >= size_t(p.n * p.oh * p.ow * p.co), "conv: y too short");
}

// conv2d(x, filter, y, params, bias?) -> whether the bias (Co entries) was added (lenet5-step: the direct
// one-channel kernel adds it while the output is in registers; otherwise the caller adds it).
Napi::Value Conv2D(const Napi::CallbackInfo& info) {
  auto p = ConvP(info[3]);
  CheckConv(info.Env(), p, Len(info[0]), Len(info[1]), Len(info[2]));
  const bool bias = info.Length() > 4 && info[4].IsTypedArray() && Len(info[4]) == size_t(p.co) && sl::ConvSmallApplies(p);
  if (bias) sl::ConvSmallForward(p, F32(info[0], "x"), F32(info[1], "filter"), F32(info[2], "y"), F32(info[4], "bias"));
  else sl::Conv2D(p, F32(info[0], "x"), F32(info[1], "filter"), F32(info[2], "y"));
  return Napi::Boolean::New(info.Env(), bias);
}
// conv2dBackpropInput(dy, filter, dx, params)
Napi::Value Conv2DBackpropInput(const Napi::CallbackInfo& info) {
  auto p = ConvP(info[3]);
  CheckConv(info.Env(), p, Len(info[2]), Len(info[1]), Len(info[0]));
  sl::Conv2DBackpropInput(p, F32(info[0], "dy"), F32(info[1], "filter"), F32(info[2], "dx"));
  return info.Env().Undefined();
}
// conv2dBackpropFilter(x, dy, dfilter, params)
Napi::Value Conv2DBackpropFilter(const Napi::CallbackInfo& info) {
  auto p = ConvP(info[3]);
  CheckConv(info.Env(), p, Len(info[0]), Len(info[2]), Len(info[1]));
  sl::Conv2DBackpropFilter(p, F32(info[0], "x"), F32(info[1], "dy"), F32(info[2], "dfilter"));
  return info.Env().Undefined();
}

sl::PoolParams PoolP(const Napi::Value& v) {
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  Need(v.Env(), a.ElementLength() == 12, "pool params must have 12 entries");
  const int32_t* d = a.Data();
  return sl::PoolParams{d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11]};
}
// maxPool(x, y, params)
Napi::Value MaxPool(const Napi::CallbackInfo& info) {
  auto p = PoolP(info[2]);
  Need(info.Env(), Len(info[0]) >= size_t(p.n * p.h * p.w * p.c), "maxPool: x too short");
  Need(info.Env(), Len(info[1]) >= size_t(p.n * p.oh * p.ow * p.c), "maxPool: y too short");
  sl::MaxPool(p, F32(info[0], "x"), F32(info[1], "y"));
  return info.Env().Undefined();
}
// maxPoolGrad(x, dy, dx, params)
Napi::Value MaxPoolGrad(const Napi::CallbackInfo& info) {
  auto p = PoolP(info[3]);
  Need(info.Env(), Len(info[0]) >= size_t(p.n * p.h * p.w * p.c), "maxPoolGrad: x too short");
  Need(info.Env(), Len(info[1]) >= size_t(p.n * p.oh * p.ow * p.c), "maxPoolGrad: dy too short");
  Need(info.Env(), Len(info[2]) >= size_t(p.n * p.h * p.w * p.c), "maxPoolGrad: dx too short");
  sl::MaxPoolGrad(p, F32(info[0], "x"), F32(info[1], "dy"), F32(info[2], "dx"));
  return info.Env().Undefined();
}

// biasActivation(out, bias | null, channels, activation): in place; activation 0 linear, 1 relu, 2 relu6.
Napi::Value BiasActivation(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  float* out = F32(info[0], "out");
  long len = static_cast<long>(Len(info[0]));
  long channels = Int(info[2]);
  int act = static_cast<int>(Int(info[3]));
  Need(env, channels >= 1 && len % channels == 0, "biasActivation: length must be a multiple of channels");
  Need(env, act >= 0 && act <= 2, "biasActivation: activation must be 0, 1 or 2");
  const float* bias = nullptr;
  long biasLen = 0;
  if (!info[1].IsNull() && !info[1].IsUndefined()) {
    bias = F32(info[1], "bias");
    biasLen = static_cast<long>(Len(info[1]));
    Need(env, biasLen == channels || biasLen == 1, "biasActivation: bias must have 1 or channels entries");
  }
  sl::BiasActivation(out, len / channels, channels, bias, biasLen, act);
  return env.Undefined();
}

// sumLeading(x, out, rows, cols): out[c] = sum_r x[r, c].
Napi::Value SumLeading(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  long rows = Int(info[2]), cols = Int(info[3]);
  Need(env, rows >= 0 && cols >= 1, "sumLeading: rows >= 0 and cols >= 1");
  Need(env, Len(info[0]) >= size_t(rows * cols) && Len(info[1]) >= size_t(cols), "sumLeading: operand too short");
  sl::SumLeading(F32(info[0], "x"), rows, cols, F32(info[1], "out"));
  return env.Undefined();
}

// sgdStep(w, grad, buf | null, wOut, bufOut | null, lr, momentum, weightDecay, nesterov[, mask | null]): one
// fused SGD update (see elementwise.h); all arrays have the same length; bufOut is required when momentum > 0;
// mask (addon version >= 5; older builds ignore a 10th argument, so callers check the version) multiplies w'.
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto opt = [&](int i, const char* name) -> float* {
    return info[i].IsNull() || info[i].IsUndefined() ? nullptr : F32(info[i], name);
  };
  float *w = F32(info[0], "w"), *grad = F32(info[1], "grad"), *buf = opt(2, "buf");
  float *wOut = F32(info[3], "wOut"), *bufOut = opt(4, "bufOut");
  float lr = info[5].As<Napi::Number>().FloatValue(), mu = info[6].As<Napi::Number>().FloatValue();
  float wd = info[7].As<Napi::Number>().FloatValue();
  bool nesterov = info[8].ToBoolean();
  size_t n = Len(info[0]);
  Need(env, Len(info[1]) == n && Len(info[3]) == n, "sgdStep: w, grad and wOut must have the same length");
  Need(env, !buf || Len(info[2]) == n, "sgdStep: buf must have the length of w");
  Need(env, mu == 0.f || (bufOut && Len(info[4]) == n), "sgdStep: bufOut (length of w) is required when momentum > 0");
  float* mask = info.Length() > 9 ? opt(9, "mask") : nullptr;
  // In place (addon version >= 5): wOut is w, and bufOut is buf when there is momentum; nothing else aliases.
  bool inPlace = wOut == w;
  Need(env, !inPlace || mu == 0.f || (buf && bufOut == buf), "sgdStep: in place needs bufOut === buf (an existing buffer)");
  Need(env, inPlace || (wOut != grad && (!bufOut || (bufOut != w && bufOut != grad && bufOut != buf))),
       "sgdStep: outputs must not alias the inputs except for an in-place update");
  Need(env, !mask || (mask != wOut && mask != bufOut), "sgdStep: the mask must not alias an output");
  Need(env, grad != w && (!buf || (grad != buf && buf != w)), "sgdStep: w, grad and buf must be distinct arrays");
  Need(env, !mask || Len(info[9]) == n, "sgdStep: mask must have the length of w");
  sl::SgdStep(static_cast<long>(n), w, grad, buf, wOut, bufOut, lr, mu, wd, nesterov, mask);
  return env.Undefined();
}

// reluBackward(dy, y, out): out = dy * step(y), all of one length (addon version >= 5).
Napi::Value ReluBackward(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  size_t n = Len(info[0]);
  Need(env, Len(info[1]) == n && Len(info[2]) == n, "reluBackward: dy, y and out must have the same length");
  sl::ReluBackward(static_cast<long>(n), F32(info[0], "dy"), F32(info[1], "y"), F32(info[2], "out"));
  return env.Undefined();
}

// batchNormTrain(x, gamma | null, beta | null, channels, eps, y, mean, var, invStd): batch norm in training mode
// over the leading axes of x (addon version >= 6; see batch_norm.h). x and y have rows * channels entries.
Napi::Value BatchNormTrain(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto opt = [&](int i, const char* name) -> float* {
    return info[i].IsNull() || info[i].IsUndefined() ? nullptr : F32(info[i], name);
  };
  long channels = Int(info[3]);
  float eps = info[4].As<Napi::Number>().FloatValue();
  size_t n = Len(info[0]);
  Need(env, channels >= 1 && n % size_t(channels) == 0, "batchNormTrain: x must be [rows, channels], channels >= 1");
  float *gamma = opt(1, "gamma"), *beta = opt(2, "beta");
  Need(env, (!gamma || Len(info[1]) == size_t(channels)) && (!beta || Len(info[2]) == size_t(channels)),
       "batchNormTrain: gamma and beta must have `channels` entries");
  Need(env, Len(info[5]) == n && Len(info[6]) == size_t(channels) && Len(info[7]) == size_t(channels) &&
                Len(info[8]) == size_t(channels),
       "batchNormTrain: y must have the length of x, mean/var/invStd `channels` entries");
  sl::BatchNormTrainForward(F32(info[0], "x"), long(n) / channels, channels, gamma, beta, eps, F32(info[5], "y"),
                            F32(info[6], "mean"), F32(info[7], "var"), F32(info[8], "invStd"));
  return env.Undefined();
}

// batchNormTrainGrad(dy, x, mean, invStd, gamma | null, channels, dx, dgamma | null, dbeta | null): its gradient
// (addon version >= 6; see batch_norm.h).
Napi::Value BatchNormTrainGrad(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto opt = [&](int i, const char* name) -> float* {
    return info[i].IsNull() || info[i].IsUndefined() ? nullptr : F32(info[i], name);
  };
  long channels = Int(info[5]);
  size_t n = Len(info[0]);
  Need(env, channels >= 1 && n % size_t(channels) == 0, "batchNormTrainGrad: dy must be [rows, channels], channels >= 1");
  float *gamma = opt(4, "gamma"), *dgamma = opt(7, "dgamma"), *dbeta = opt(8, "dbeta");
  const size_t c = size_t(channels);
  Need(env, Len(info[1]) == n && Len(info[6]) == n, "batchNormTrainGrad: x and dx must have the length of dy");
  Need(env, Len(info[2]) == c && Len(info[3]) == c && (!gamma || Len(info[4]) == c) && (!dgamma || Len(info[7]) == c) &&
                (!dbeta || Len(info[8]) == c),
       "batchNormTrainGrad: mean, invStd, gamma, dgamma and dbeta must have `channels` entries");
  sl::BatchNormTrainBackward(F32(info[0], "dy"), F32(info[1], "x"), long(n) / channels, channels, F32(info[2], "mean"),
                             F32(info[3], "invStd"), gamma, F32(info[6], "dx"), dgamma, dbeta);
  return env.Undefined();
}

// binaryOp(kind, a, b, out): out = a op b element-wise, kind 0 add, 1 sub, 2 mul, 3 div; a and b have the
// length of out or 1 (broadcast scalar) (addon version >= 6).
Napi::Value BinaryOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  long kind = Int(info[0]);
  Need(env, kind >= 0 && kind <= 3, "binaryOp: kind must be 0 (add), 1 (sub), 2 (mul) or 3 (div)");
  size_t n = Len(info[3]), na = Len(info[1]), nb = Len(info[2]);
  Need(env, (na == n || na == 1) && (nb == n || nb == 1), "binaryOp: a and b must have the length of out or 1");
  sl::BinaryOp(static_cast<sl::BinaryKind>(kind), long(n), F32(info[1], "a"), long(na), F32(info[2], "b"), long(nb),
               F32(info[3], "out"));
  return env.Undefined();
}

// unaryOp(kind, x, out, alpha): kind 0 relu, 1 step (alpha below 0), 2 floor, element-wise, NaN kept (addon
// version >= 6).
Napi::Value UnaryOp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  long kind = Int(info[0]);
  Need(env, kind >= 0 && kind <= 2, "unaryOp: kind must be 0 (relu), 1 (step) or 2 (floor)");
  size_t n = Len(info[1]);
  Need(env, Len(info[2]) == n, "unaryOp: x and out must have the same length");
  float alpha = info[3].IsNumber() ? info[3].As<Napi::Number>().FloatValue() : 0.f;
  sl::UnaryOp(static_cast<sl::UnaryKind>(kind), long(n), F32(info[1], "x"), alpha, F32(info[2], "out"));
  return env.Undefined();
}

// setConvChunking(minRows, maxColFloats): the im2col chunk limits (0 = default; tests force the partial-image path).
// dropoutMask(out, keepProb, s0, s1, s2, c): out[i] = floor(u_i + keepProb) / keepProb in float32, u_i the Alea
// draws from state (s0, s1, s2, c) — core's DROPOUT_MASK_KERNEL contract (see dropout_mask.h; wrn-parity).
Napi::Value DropoutMask(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  for (int i = 1; i <= 5; ++i) Need(env, info[i].IsNumber(), "dropoutMask: keepProb, s0, s1, s2 and c must be numbers");
  const float keep = info[1].As<Napi::Number>().FloatValue();
  Need(env, keep > 0.f && keep <= 1.f, "dropoutMask: keepProb must be in (0, 1]");
  sl::AleaState st{info[2].As<Napi::Number>().DoubleValue(), info[3].As<Napi::Number>().DoubleValue(),
                   info[4].As<Napi::Number>().DoubleValue(), info[5].As<Napi::Number>().DoubleValue()};
  float* out = F32(info[0], "out");
  sl::DropoutMultiplier(st, keep, static_cast<long>(Len(info[0])), out);
  return env.Undefined();
}

// setDirectConv(mode): the direct forward convolution (conv_direct.h) "auto" (default), "off" or "force"
// (tests compare it with im2col + GEMM on any shape it can run). Returns the previous mode.
Napi::Value SetDirectConv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  static const char* kNames[] = {"auto", "off", "force"};
  const std::string m = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  int mode = -1;
  for (int i = 0; i < 3; ++i) if (m == kNames[i]) mode = i;
  Need(env, mode >= 0, "setDirectConv: mode must be one of auto, off, force");
  const int before = static_cast<int>(sl::GetDirectConvMode());
  sl::SetDirectConvMode(static_cast<sl::DirectConvMode>(mode));
  return Napi::String::New(env, kNames[before]);
}

Napi::Value SetConvChunking(const Napi::CallbackInfo& info) {
  sl::SetConvChunking(Int(info[0]), Int(info[1]));
  return info.Env().Undefined();
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  long t = Int(info[0]);
  Need(info.Env(), t >= 1 && t <= 256, "threads must be in 1..256");
  sl::SetThreads(static_cast<int>(t));
  return info.Env().Undefined();
}

// info(): what runs, for the backend reason string (and so config.json) and the bench.
Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("gemm", sl::GemmImpl());
  o.Set("threads", sl::Pool().threads());
  o.Set("version", 6);
  o.Set("isa", sl::IsaName(sl::ActiveIsa()));
  o.Set("isaReason", sl::IsaReason());
  Napi::Array isas = Napi::Array::New(env);
  for (int i = 0; i <= static_cast<int>(sl::DetectedIsa()); ++i) isas.Set(uint32_t(i), sl::IsaName(sl::Isa(i)));
  o.Set("isas", isas);
  const sl::OpenBlas& blas = sl::LoadOpenBlas();
  Napi::Object ob = Napi::Object::New(env);
  ob.Set("available", blas.sgemm != nullptr);
  if (blas.sgemm) {
    ob.Set("corename", blas.corename);
    ob.Set("config", blas.config);
    ob.Set("path", blas.path);
  } else {
    ob.Set("why", blas.why);
  }
  o.Set("openblas", ob);
  const char* policy[] = {"measure", "own", "openblas"};
  o.Set("gemmPolicy", policy[static_cast<int>(sl::GetGemmPolicy())]);
  o.Set("gemmRecord", sl::GemmRecordPath());
  return o;
}

// setIsa(name): switches the kernels' ISA variant ("avx512" | "avx2" | "generic"); false when the CPU lacks it.
Napi::Value SetIsa(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sl::Isa isa;
  Need(env, info[0].IsString() && sl::ParseIsa(info[0].As<Napi::String>().Utf8Value().c_str(), &isa),
       "setIsa: isa must be one of generic, avx2, avx512");
  return Napi::Boolean::New(env, sl::SetIsa(isa));
}

// setGemmPolicy("measure" | "own" | "openblas"); forgets the per-shape decisions.
Napi::Value SetGemmPolicy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string p = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  Need(env, p == "measure" || p == "own" || p == "openblas", "setGemmPolicy: policy must be measure, own or openblas");
  sl::SetGemmPolicy(p == "own" ? sl::GemmPolicy::kOwn : p == "openblas" ? sl::GemmPolicy::kOpenBlas : sl::GemmPolicy::kMeasure);
  sl::ClearGemmChoices();
  return env.Undefined();
}

// setGemmRecord(path, onlyIfUnset): where the per-shape decisions are recorded ("" = nowhere); returns whether
// it was applied (not when onlyIfUnset and SPARSE_LEARNING_NATIVE_GEMM_CACHE is set).
Napi::Value SetGemmRecord(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Need(env, info[0].IsString(), "setGemmRecord: path must be a string");
  return Napi::Boolean::New(env, sl::SetGemmRecord(info[0].As<Napi::String>().Utf8Value(), info[1].ToBoolean()));
}

// gemmChoices(): one line per GEMM shape decided so far (impl and both timings).
Napi::Value GemmChoices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto lines = sl::GemmChoices();
  Napi::Array a = Napi::Array::New(env, lines.size());
  for (size_t i = 0; i < lines.size(); ++i) a.Set(uint32_t(i), lines[i]);
  return a;
}

// fmaPeak(isa, threads, seconds): GFLOP/s of a register-only FMA loop (0 when the CPU lacks the ISA).
Napi::Value FmaPeak(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  sl::Isa isa;
  Need(env, info[0].IsString() && sl::ParseIsa(info[0].As<Napi::String>().Utf8Value().c_str(), &isa),
       "fmaPeak: isa must be one of generic, avx2, avx512");
  long threads = Int(info[1]);
  double seconds = info[2].IsNumber() ? info[2].As<Napi::Number>().DoubleValue() : 0.2;
  Need(env, threads >= 1 && seconds > 0 && seconds <= 10, "fmaPeak: threads >= 1 and 0 < seconds <= 10");
  return Napi::Number::New(env, sl::FmaPeakGflops(isa, static_cast<int>(threads), seconds));
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("gemm", Napi::Function::New(env, Gemm));
  exports.Set("conv2d", Napi::Function::New(env, Conv2D));
  exports.Set("conv2dBackpropInput", Napi::Function::New(env, Conv2DBackpropInput));
  exports.Set("conv2dBackpropFilter", Napi::Function::New(env, Conv2DBackpropFilter));
  exports.Set("maxPool", Napi::Function::New(env, MaxPool));
  exports.Set("maxPoolGrad", Napi::Function::New(env, MaxPoolGrad));
  exports.Set("biasActivation", Napi::Function::New(env, BiasActivation));
  exports.Set("sumLeading", Napi::Function::New(env, SumLeading));
  exports.Set("sgdStep", Napi::Function::New(env, SgdStep));
  exports.Set("reluBackward", Napi::Function::New(env, ReluBackward));
  exports.Set("batchNormTrain", Napi::Function::New(env, BatchNormTrain));
  exports.Set("batchNormTrainGrad", Napi::Function::New(env, BatchNormTrainGrad));
  exports.Set("binaryOp", Napi::Function::New(env, BinaryOp));
  exports.Set("unaryOp", Napi::Function::New(env, UnaryOp));
  exports.Set("dropoutMask", Napi::Function::New(env, DropoutMask));
  exports.Set("setDirectConv", Napi::Function::New(env, SetDirectConv));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("setConvChunking", Napi::Function::New(env, SetConvChunking));
  exports.Set("info", Napi::Function::New(env, Info));
  sl::sparse::Register(env, exports);  // sparse Dense kernels and the sparse MLP step (issue 9)
  sl::sparse::RegisterConv(env, exports);  // sparse convolution kernels (issue 9)
  sl::sparse::RegisterTranspose(env, exports);  // NHWC <-> channel-major conversions (issue 9, sparse ResNets)
  exports.Set("setIsa", Napi::Function::New(env, SetIsa));
  exports.Set("setGemmPolicy", Napi::Function::New(env, SetGemmPolicy));
  exports.Set("gemmChoices", Napi::Function::New(env, GemmChoices));
  exports.Set("setGemmRecord", Napi::Function::New(env, SetGemmRecord));
  exports.Set("fmaPeak", Napi::Function::New(env, FmaPeak));
  return exports;
}
}  // namespace

NODE_API_MODULE(sparse_native, Init)
