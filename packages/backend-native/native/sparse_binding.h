// Node-API bindings of the sparse Dense kernels and the sparse MLP step (issue 9); called from addon.cc's Init.
#pragma once
#include <napi.h>

namespace sl {
namespace sparse {
void Register(Napi::Env env, Napi::Object exports);
}  // namespace sparse
}  // namespace sl
