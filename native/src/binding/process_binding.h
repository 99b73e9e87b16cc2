#pragma once
#include <napi.h>

namespace rlvr::binding {
// Registers exitNow(code) on exports.
void InitProcess(Napi::Env env, Napi::Object exports);
}  // namespace rlvr::binding
