// Node-API bindings of the sparse convolution kernels (issue 9); called from addon.cc's Init.
#pragma once
#include <napi.h>

namespace sl {
namespace sparse {
void RegisterConv(Napi::Env env, Napi::Object exports);
}  // namespace sparse
}  // namespace sl
