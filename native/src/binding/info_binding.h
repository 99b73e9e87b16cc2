#pragma once
#include <napi.h>

namespace rlvr::binding {
// Registers buildInfo(), devices() and cpuFeatures() on exports.
void InitInfo(Napi::Env env, Napi::Object exports);
}  // namespace rlvr::binding
