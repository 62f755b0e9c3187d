// Bindings of sparse_kernels.h / sparse_mlp.h. A layer crosses the boundary as a plain object of typed arrays
// (owned by JavaScript: checkpoints and mask updates read and replace them there); an MLP plan keeps raw
// pointers into them plus references that keep them alive, so a training step costs one call.
#include "sparse_binding.h"

#include <memory>
#include <string>
#include <vector>

#include "sparse_kernels.h"
#include "sparse_mlp.h"
#include "thread_pool.h"

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
    throw Napi::TypeError::New(o.Env(), std::string("sparse layer: ") + key + (K == napi_float32_array ? " must be a Float32Array" : " must be an Int32Array"));
  Napi::TypedArray a = v.As<Napi::TypedArray>();
  Need(o.Env(), a.ElementLength() >= minLength, std::string("sparse layer: ") + key + " is too short");
  return reinterpret_cast<T*>(static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
}

float* F32Arg(const Napi::Value& v, const char* name, size_t minLength) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_float32_array)
    throw Napi::TypeError::New(v.Env(), std::string(name) + " must be a Float32Array");
  Napi::Float32Array a = v.As<Napi::Float32Array>();
  Need(v.Env(), a.ElementLength() >= minLength, std::string(name) + " is too short");
  return a.Data();
}

// {in, out, colptr, rowidx, vals, mom?, rowptr?, colidx?, perm?, bias?, biasMom?, relu}
Layer LayerOf(const Napi::Value& v) {
  Napi::Env env = v.Env();
  Need(env, v.IsObject(), "sparse layer must be an object");
  Napi::Object o = v.As<Napi::Object>();
  Layer L;
  L.in = o.Get("in").As<Napi::Number>().Int32Value();
  L.out = o.Get("out").As<Napi::Number>().Int32Value();
  Need(env, L.in > 0 && L.out > 0, "sparse layer: in and out must be >= 1");
  L.colptr = Typed<int32_t, napi_int32_array>(o, "colptr", L.out + 1);
  L.nnz = L.colptr[L.out];
  Need(env, L.colptr[0] == 0 && L.nnz >= 0 && L.nnz <= static_cast<long>(L.in) * L.out, "sparse layer: bad colptr");
  for (int c = 0; c < L.out; ++c) Need(env, L.colptr[c] <= L.colptr[c + 1], "sparse layer: colptr must be non-decreasing");
  L.rowidx = Typed<int32_t, napi_int32_array>(o, "rowidx", L.nnz);
  for (long k = 0; k < L.nnz; ++k) Need(env, L.rowidx[k] >= 0 && L.rowidx[k] < L.in, "sparse layer: rowidx out of range");
  L.vals = Typed<float, napi_float32_array>(o, "vals", L.nnz);
  L.mom = Typed<float, napi_float32_array>(o, "mom", L.nnz, true);
  L.rowptr = Typed<int32_t, napi_int32_array>(o, "rowptr", L.in + 1, true);
  if (L.rowptr) {
    Need(env, L.rowptr[0] == 0 && L.rowptr[L.in] == L.nnz, "sparse layer: bad rowptr");
    L.colidx = Typed<int32_t, napi_int32_array>(o, "colidx", L.nnz);
    L.perm = Typed<int32_t, napi_int32_array>(o, "perm", L.nnz);
    for (long k = 0; k < L.nnz; ++k)
      Need(env, L.colidx[k] >= 0 && L.colidx[k] < L.out && L.perm[k] >= 0 && L.perm[k] < L.nnz, "sparse layer: colidx/perm out of range");
  }
  L.bias = Typed<float, napi_float32_array>(o, "bias", L.out, true);
  L.biasMom = Typed<float, napi_float32_array>(o, "biasMom", L.out, true);
  Napi::Value relu = o.Get("relu");
  L.relu = relu.IsBoolean() && relu.As<Napi::Boolean>().Value();
  return L;
}

Sgd SgdOf(const Napi::CallbackInfo& info, size_t at) {
  Sgd s;
  s.lr = info[at].As<Napi::Number>().FloatValue();
  s.mu = info[at + 1].As<Napi::Number>().FloatValue();
  s.wd = info[at + 2].As<Napi::Number>().FloatValue();
  s.nesterov = info[at + 3].ToBoolean();
  return s;
}

int BpArg(const Napi::Value& v) {
  const int bp = v.As<Napi::Number>().Int32Value();
  Need(v.Env(), bp > 0 && bp % kPad == 0, "bp must be a positive multiple of 16");
  return bp;
}

// sparseForward(layer, X, Y, bp)
Napi::Value ForwardJs(const Napi::CallbackInfo& info) {
  Layer L = LayerOf(info[0]);
  const int bp = BpArg(info[3]);
  Forward(L, F32Arg(info[1], "X", size_t(L.in) * bp), F32Arg(info[2], "Y", size_t(L.out) * bp), bp);
  return info.Env().Undefined();
}

// sparseBackwardInput(layer, dY, reluOf | null, dX, bp)
Napi::Value BackwardJs(const Napi::CallbackInfo& info) {
  Layer L = LayerOf(info[0]);
  Need(info.Env(), L.rowptr != nullptr, "sparseBackwardInput needs rowptr/colidx/perm");
  const int bp = BpArg(info[4]);
  const float* relu = info[2].IsNull() || info[2].IsUndefined() ? nullptr : F32Arg(info[2], "reluOf", size_t(L.in) * bp);
  BackwardInput(L, F32Arg(info[1], "dY", size_t(L.out) * bp), relu, F32Arg(info[3], "dX", size_t(L.in) * bp), bp);
  return info.Env().Undefined();
}

// sparseWeightGrad(layer, dY, X, grad, bp)
Napi::Value WeightGradJs(const Napi::CallbackInfo& info) {
  Layer L = LayerOf(info[0]);
  const int bp = BpArg(info[4]);
  WeightGrad(L, F32Arg(info[1], "dY", size_t(L.out) * bp), F32Arg(info[2], "X", size_t(L.in) * bp),
             F32Arg(info[3], "grad", size_t(L.nnz)), bp);
  return info.Env().Undefined();
}

// sparseWeightGradSgd(layer, dY, X, bp, lr, mu, wd, nesterov)
Napi::Value WeightGradSgdJs(const Napi::CallbackInfo& info) {
  Layer L = LayerOf(info[0]);
  const int bp = BpArg(info[3]);
  const Sgd s = SgdOf(info, 4);
  Need(info.Env(), s.mu == 0.f || L.mom != nullptr || L.nnz == 0, "momentum > 0 needs layer.mom");
  WeightGradSgd(L, F32Arg(info[1], "dY", size_t(L.out) * bp), F32Arg(info[2], "X", size_t(L.in) * bp), bp, s, false);
  return info.Env().Undefined();
}

struct Plan {
  std::unique_ptr<Mlp> mlp;
  Napi::ObjectReference keep;  // the layers array: keeps every typed array alive while the plan exists
};

Plan* PlanOf(const Napi::Value& v) {
  Need(v.Env(), v.IsExternal(), "expected a plan from sparseMlpPlan()");
  return v.As<Napi::External<Plan>>().Data();
}

// sparseMlpPlan(layers[], maxBatch) -> plan
Napi::Value PlanJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Need(env, info[0].IsArray(), "layers must be an array");
  Napi::Array arr = info[0].As<Napi::Array>();
  const int maxBatch = info[1].As<Napi::Number>().Int32Value();
  Need(env, arr.Length() >= 1 && maxBatch >= 1, "need >= 1 layer and maxBatch >= 1");
  std::vector<Layer> layers;
  for (uint32_t i = 0; i < arr.Length(); ++i) {
    layers.push_back(LayerOf(arr.Get(i)));
    if (i > 0) Need(env, layers[i].in == layers[i - 1].out, "layer " + std::to_string(i) + ": in != previous out");
    if (i > 0) Need(env, layers[i].rowptr != nullptr, "layer " + std::to_string(i) + " needs rowptr/colidx/perm");
  }
  auto* plan = new Plan();
  plan->mlp = std::make_unique<Mlp>(std::move(layers), maxBatch);
  plan->keep = Napi::Persistent(arr.As<Napi::Object>());
  return Napi::External<Plan>::New(env, plan, [](Napi::Env, Plan* p) {
    p->keep.Reset();
    delete p;
  });
}

// sparseMlpStep(plan, x, labels:Int32Array, batch, train, lr, mu, wd, nesterov, out:Float64Array[2])
Napi::Value StepJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Plan* plan = PlanOf(info[0]);
  Mlp& m = *plan->mlp;
  const int batch = info[3].As<Napi::Number>().Int32Value();
  Need(env, batch >= 1 && batch <= m.maxBatch, "batch must be in 1..maxBatch");
  const float* x = F32Arg(info[1], "x", size_t(batch) * m.layers.front().in);
  Napi::Value lv = info[2];
  Need(env, lv.IsTypedArray() && lv.As<Napi::TypedArray>().TypedArrayType() == napi_int32_array, "labels must be an Int32Array");
  Napi::Int32Array labels = lv.As<Napi::Int32Array>();
  Need(env, labels.ElementLength() >= size_t(batch), "labels too short");
  const int classes = m.layers.back().out;
  for (int j = 0; j < batch; ++j) Need(env, labels[j] >= 0 && labels[j] < classes, "label out of range");
  const bool train = info[4].ToBoolean();
  const Sgd s = SgdOf(info, 5);
  double correct = 0;
  const double loss = m.Step(x, labels.Data(), batch, s, train, &correct);
  if (info.Length() > 9 && info[9].IsTypedArray()) {
    Napi::Float64Array out = info[9].As<Napi::Float64Array>();
    if (out.ElementLength() >= 2) out[0] = loss, out[1] = correct;
  }
  return Napi::Number::New(env, loss);
}

// sparseMlpDenseGrad(plan, layer, dW)
Napi::Value DenseGradJs(const Napi::CallbackInfo& info) {
  Plan* plan = PlanOf(info[0]);
  const int l = info[1].As<Napi::Number>().Int32Value();
  Need(info.Env(), l >= 0 && l < int(plan->mlp->layers.size()), "layer index out of range");
  const Layer& L = plan->mlp->layers[l];
  plan->mlp->DenseGrad(l, F32Arg(info[2], "dW", size_t(L.in) * L.out));
  return info.Env().Undefined();
}

// sparseMlpDenseMomentum(plan, layer, M, dW, mu, first)
Napi::Value DenseMomentumJs(const Napi::CallbackInfo& info) {
  Plan* plan = PlanOf(info[0]);
  const int l = info[1].As<Napi::Number>().Int32Value();
  Need(info.Env(), l >= 0 && l < int(plan->mlp->layers.size()), "layer index out of range");
  const Layer& L = plan->mlp->layers[l];
  const size_t size = size_t(L.in) * L.out;
  plan->mlp->DenseMomentum(l, F32Arg(info[2], "M", size), F32Arg(info[3], "dW", size),
                           info[4].As<Napi::Number>().FloatValue(), info[5].ToBoolean());
  return info.Env().Undefined();
}

Napi::Value InfoJs(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("isa", Isa());
  o.Set("threads", Pool().threads());
  o.Set("pad", kPad);
  return o;
}

Napi::Value SetIsaJs(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), SetIsa(info[0].As<Napi::String>().Utf8Value().c_str()));
}

}  // namespace

void Register(Napi::Env env, Napi::Object exports) {
  exports.Set("sparseForward", Napi::Function::New(env, ForwardJs));
  exports.Set("sparseBackwardInput", Napi::Function::New(env, BackwardJs));
  exports.Set("sparseWeightGrad", Napi::Function::New(env, WeightGradJs));
  exports.Set("sparseWeightGradSgd", Napi::Function::New(env, WeightGradSgdJs));
  exports.Set("sparseMlpPlan", Napi::Function::New(env, PlanJs));
  exports.Set("sparseMlpStep", Napi::Function::New(env, StepJs));
  exports.Set("sparseMlpDenseGrad", Napi::Function::New(env, DenseGradJs));
  exports.Set("sparseMlpDenseMomentum", Napi::Function::New(env, DenseMomentumJs));
  exports.Set("sparseInfo", Napi::Function::New(env, InfoJs));
  exports.Set("sparseSetIsa", Napi::Function::New(env, SetIsaJs));
}

}  // namespace sparse
}  // namespace sl
