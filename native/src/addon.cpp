// Registration only: each binding module adds its functions to the exports.
#include <napi.h>

#include "binding/engine_binding.h"
#include "binding/gpu_buffer.h"
#include "binding/info_binding.h"
#include "binding/kernels_binding.h"
#include "binding/malloc_tuning.h"
#include "binding/process_binding.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  rlvr::binding::apply_malloc_tuning();
  rlvr::binding::InitInfo(env, exports);
  rlvr::binding::InitKernels(env, exports);
  rlvr::binding::InitProcess(env, exports);
  rlvr::binding::GpuBuffer::Init(env, exports);
  rlvr::binding::EngineWrap::Init(env, exports);
  rlvr::binding::InitRollout(env, exports);
  return exports;
}

NODE_API_MODULE(rlvr_native, Init)
