// Bindings of sparse_conv.h. A layer crosses the boundary as a plain object of typed arrays (owned by
// JavaScript, like the sparse Dense layers); the geometry as an Int32Array [h, w, oh, ow, sh, sw, pt, pl].
// Every index is checked once per call, so malformed input throws a RangeError instead of reading out of bounds.
#include "sparse_conv_binding.h"

#include <string>

#include "sparse_conv.h"
#include "sparse_kernels.h"

namespace sl {
namespace sparse {
namespace {

void Need(const Napi::Env& env, bool ok, const std::string& what) {
  if (!ok) throw Napi::RangeError::New(env, what);
}

template <typename T, napi_typedarray_type K>
T* Typed(const Napi::Object& o, const char* key, size_t minLength, bool optional = false) {
  Napi::Value v = o.Get(key);
  if (optional && (v.IsNull() || v.IsUndefined())) return nullptr;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != K)
    throw Napi::TypeError::New(o.Env(), std::string("sparse conv layer: ") + key +
                                            (K == napi_float32_array ? " must be a Float32Array" : " must be an Int32Array"));
  Napi::TypedArray a = v.As<Napi::TypedArray>();
  Need(o.Env(), a.ElementLength() >= minLength, std::string("sparse conv layer: ") + key + " is too short");
  return reinterpret_cast<T*>(static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
}

float* F32Arg(const Napi::Value& v, const char* name, size_t minLength) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(v.Env(), std::string(name) + " must be a Float32Array");
  Napi::Float32Array a = v.As<Napi::Float32Array>();
  Need(v.Env(), a.ElementLength() >= minLength, std::string(name) + " is too short");
  return a.Data();
}

int Int(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  Need(o.Env(), v.IsNumber(), std::string("sparse conv layer: ") + key + " must be a number");
  return v.As<Napi::Number>().Int32Value();
}

void CheckPtr(const Napi::Env& env, const int32_t* ptr, int n, long nnz, const char* name) {
  Need(env, ptr[0] == 0 && ptr[n] == nnz, std::string("sparse conv layer: bad ") + name);
  for (int i = 0; i < n; ++i) Need(env, ptr[i] <= ptr[i + 1], std::string("sparse conv layer: ") + name + " must be non-decreasing");
}

// {cin, cout, kh, kw, optr, chan, tap, vals, mom?, iptr?, ochan?, perm?, bias?, relu}
ConvLayer LayerOf(const Napi::Value& v, bool needInputIndex) {
  Napi::Env env = v.Env();
  Need(env, v.IsObject(), "sparse conv layer must be an object");
  Napi::Object o = v.As<Napi::Object>();
  ConvLayer L;
  L.cin = Int(o, "cin");
  L.cout = Int(o, "cout");
  L.kh = Int(o, "kh");
  L.kw = Int(o, "kw");
  Need(env, L.cin > 0 && L.cout > 0 && L.kh > 0 && L.kw > 0, "sparse conv layer: cin, cout, kh, kw must be >= 1");
  L.optr = Typed<int32_t, napi_int32_array>(o, "optr", L.cout + 1);
  L.nnz = L.optr[L.cout];
  Need(env, L.nnz >= 0 && L.nnz <= static_cast<long>(L.cin) * L.cout * L.kh * L.kw, "sparse conv layer: bad optr");
  CheckPtr(env, L.optr, L.cout, L.nnz, "optr");
  L.chan = Typed<int32_t, napi_int32_array>(o, "chan", L.nnz);
  L.tap = Typed<int32_t, napi_int32_array>(o, "tap", L.nnz);
  const int taps = L.kh * L.kw;
  for (long k = 0; k < L.nnz; ++k)
    Need(env, L.chan[k] >= 0 && L.chan[k] < L.cin && L.tap[k] >= 0 && L.tap[k] < taps, "sparse conv layer: chan/tap out of range");
  L.vals = Typed<float, napi_float32_array>(o, "vals", L.nnz);
  L.mom = Typed<float, napi_float32_array>(o, "mom", L.nnz, true);
  L.iptr = Typed<int32_t, napi_int32_array>(o, "iptr", L.cin + 1, !needInputIndex);
  if (L.iptr) {
    CheckPtr(env, L.iptr, L.cin, L.nnz, "iptr");
    L.ochan = Typed<int32_t, napi_int32_array>(o, "ochan", L.nnz);
    L.perm = Typed<int32_t, napi_int32_array>(o, "perm", L.nnz);
    for (long k = 0; k < L.nnz; ++k)
      Need(env, L.ochan[k] >= 0 && L.ochan[k] < L.cout && L.perm[k] >= 0 && L.perm[k] < L.nnz,
           "sparse conv layer: ochan/perm out of range");
  }
  L.bias = Typed<float, napi_float32_array>(o, "bias", L.cout, true);
  Napi::Value relu = o.Get("relu");
  L.relu = relu.IsBoolean() && relu.As<Napi::Boolean>().Value();
  return L;
}

ConvGeom GeomOf(const Napi::Value& v, const ConvLayer& L) {
  Napi::Env env = v.Env();
  Need(env, v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array,
       "conv geometry must be an Int32Array [h, w, oh, ow, sh, sw, pt, pl]");
  Napi::Int32Array a = v.As<Napi::Int32Array>();
  Need(env, a.ElementLength() == 8, "conv geometry must have 8 entries [h, w, oh, ow, sh, sw, pt, pl]");
  ConvGeom g{a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]};
  Need(env, g.h >= 1 && g.w >= 1 && g.oh >= 1 && g.ow >= 1 && g.sh >= 1 && g.sw >= 1 && g.pt >= 0 && g.pl >= 0,
       "conv geometry: sizes and strides must be >= 1, padding >= 0");
  // Every output pixel's window must start inside the padded input (as TF's output size rule guarantees).
  Need(env, (g.oh - 1) * g.sh - g.pt < g.h && (g.ow - 1) * g.sw - g.pl < g.w && g.pt < L.kh && g.pl < L.kw,
       "conv geometry: output larger than the padded input allows");
  return g;
}

int BpArg(const Napi::Value& v) {
  const int bp = v.As<Napi::Number>().Int32Value();
  Need(v.Env(), bp > 0 && bp % kPad == 0, "bp must be a positive multiple of 16");
  return bp;
}

size_t InSize(const ConvLayer& L, const ConvGeom& g, int bp) { return size_t(L.cin) * g.h * g.w * bp; }
size_t OutSize(const ConvLayer& L, const ConvGeom& g, int bp) { return size_t(L.cout) * g.oh * g.ow * bp; }

// sparseConvForward(layer, geom, X, Y, bp)
Napi::Value ForwardJs(const Napi::CallbackInfo& info) {
  const ConvLayer L = LayerOf(info[0], false);
  const ConvGeom g = GeomOf(info[1], L);
  const int bp = BpArg(info[4]);
  ConvForward(L, g, F32Arg(info[2], "X", InSize(L, g, bp)), F32Arg(info[3], "Y", OutSize(L, g, bp)), bp);
  return info.Env().Undefined();
}

// sparseConvBackwardInput(layer, geom, dY, reluOf | null, dX, bp)
Napi::Value BackwardJs(const Napi::CallbackInfo& info) {
  const ConvLayer L = LayerOf(info[0], true);
  const ConvGeom g = GeomOf(info[1], L);
  const int bp = BpArg(info[5]);
  const float* relu = info[3].IsNull() || info[3].IsUndefined() ? nullptr : F32Arg(info[3], "reluOf", InSize(L, g, bp));
  ConvBackwardInput(L, g, F32Arg(info[2], "dY", OutSize(L, g, bp)), relu, F32Arg(info[4], "dX", InSize(L, g, bp)), bp);
  return info.Env().Undefined();
}

// sparseConvWeightGrad(layer, geom, dY, X, grad, bp)
Napi::Value WeightGradJs(const Napi::CallbackInfo& info) {
  const ConvLayer L = LayerOf(info[0], false);
  const ConvGeom g = GeomOf(info[1], L);
  const int bp = BpArg(info[5]);
  ConvWeightGrad(L, g, F32Arg(info[2], "dY", OutSize(L, g, bp)), F32Arg(info[3], "X", InSize(L, g, bp)),
                 F32Arg(info[4], "grad", size_t(L.nnz)), bp);
  return info.Env().Undefined();
}

// sparseConvWeightGradSgd(layer, geom, dY, X, bp, lr, mu, wd, nesterov)
Napi::Value WeightGradSgdJs(const Napi::CallbackInfo& info) {
  const ConvLayer L = LayerOf(info[0], false);
  const ConvGeom g = GeomOf(info[1], L);
  const int bp = BpArg(info[4]);
  Sgd s;
  s.lr = info[5].As<Napi::Number>().FloatValue();
  s.mu = info[6].As<Napi::Number>().FloatValue();
  s.wd = info[7].As<Napi::Number>().FloatValue();
  s.nesterov = info[8].ToBoolean();
  Need(info.Env(), s.mu == 0.f || L.mom != nullptr || L.nnz == 0, "momentum > 0 needs layer.mom");
  ConvWeightGradSgd(L, g, F32Arg(info[2], "dY", OutSize(L, g, bp)), F32Arg(info[3], "X", InSize(L, g, bp)), bp, s);
  return info.Env().Undefined();
}

// sparseConvDenseFilterGrad(layer, geom, dY, X, dW, bp, batch)
Napi::Value DenseFilterGradJs(const Napi::CallbackInfo& info) {
  const ConvLayer L = LayerOf(info[0], false);
  const ConvGeom g = GeomOf(info[1], L);
  const int bp = BpArg(info[5]);
  const int batch = info[6].As<Napi::Number>().Int32Value();
  Need(info.Env(), batch >= 1 && batch <= bp, "batch must be in 1..bp");
  ConvDenseFilterGrad(L, g, F32Arg(info[2], "dY", OutSize(L, g, bp)), F32Arg(info[3], "X", InSize(L, g, bp)),
                      F32Arg(info[4], "dW", size_t(L.kh) * L.kw * L.cin * L.cout), bp, batch);
  return info.Env().Undefined();
}

// sparseCmMaxPool2(X, Y, c, h, w, bp) / sparseCmMaxPool2Grad(X, dY, dX, c, h, w, bp, relu)
Napi::Value PoolJs(const Napi::CallbackInfo& info, bool grad) {
  const int at = grad ? 3 : 2;
  const int c = info[at].As<Napi::Number>().Int32Value(), h = info[at + 1].As<Napi::Number>().Int32Value(),
            w = info[at + 2].As<Napi::Number>().Int32Value();
  const int bp = BpArg(info[at + 3]);
  Need(info.Env(), c >= 1 && h >= 2 && w >= 2, "max pool: c >= 1, h >= 2, w >= 2");
  const size_t in = size_t(c) * h * w * bp, out = size_t(c) * (h / 2) * (w / 2) * bp;
  if (grad) {
    CmMaxPool2Grad(F32Arg(info[0], "X", in), F32Arg(info[1], "dY", out), F32Arg(info[2], "dX", in), c, h, w, bp,
                   info[at + 4].ToBoolean());
  } else {
    CmMaxPool2(F32Arg(info[0], "X", in), F32Arg(info[1], "Y", out), c, h, w, bp);
  }
  return info.Env().Undefined();
}

// sparseRowSums(x, rows, cols, out)
Napi::Value RowSumsJs(const Napi::CallbackInfo& info) {
  const long rows = info[1].As<Napi::Number>().Int32Value(), cols = info[2].As<Napi::Number>().Int32Value();
  Need(info.Env(), rows >= 0 && cols >= 0, "row sums: rows and cols must be >= 0");
  RowSums(F32Arg(info[0], "x", size_t(rows) * cols), rows, cols, F32Arg(info[3], "out", size_t(rows)));
  return info.Env().Undefined();
}

}  // namespace

void RegisterConv(Napi::Env env, Napi::Object exports) {
  exports.Set("sparseConvForward", Napi::Function::New(env, ForwardJs));
  exports.Set("sparseConvBackwardInput", Napi::Function::New(env, BackwardJs));
  exports.Set("sparseConvWeightGrad", Napi::Function::New(env, WeightGradJs));
  exports.Set("sparseConvWeightGradSgd", Napi::Function::New(env, WeightGradSgdJs));
  exports.Set("sparseConvDenseFilterGrad", Napi::Function::New(env, DenseFilterGradJs));
  exports.Set("sparseRowSums", Napi::Function::New(env, RowSumsJs));
  exports.Set("sparseCmMaxPool2", Napi::Function::New(env, [](const Napi::CallbackInfo& info) { return PoolJs(info, false); }));
  exports.Set("sparseCmMaxPool2Grad", Napi::Function::New(env, [](const Napi::CallbackInfo& info) { return PoolJs(info, true); }));
}

}  // namespace sparse
}  // namespace sl
