#pragma once
#include <napi.h>

namespace rlvr::binding {
// Registers the RL kernel functions (logprobForward, ..., policyLoss) on exports.
void InitKernels(Napi::Env env, Napi::Object exports);
}  // namespace rlvr::binding
