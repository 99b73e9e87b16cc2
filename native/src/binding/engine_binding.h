// Engine: the model engine as a JavaScript class, OpsModel over one of three backends
// (engine_impl.h): "cpu" (the fast CPU ops, default), "ops-cpu" (the reference ops)
// or "cuda" (a CUDA device). Every argument is
// validated here (shapes, dtypes, token ids in [0, vocab), masks in {0, 1},
// finite values, option ranges) whatever the backend; failures become typed
// errors naming the argument, never aborts.
// The long calls (score, scorePrefixed, logits, forwardBackward, values,
// valueForwardBackward, optimizerStep, prefill, step) return promises: their
// arguments are validated here, synchronously (bad ones throw), and the work
// runs off the JavaScript thread (async_call.h); an engine failure rejects the
// promise with the same typed error. While one is in flight the engine is busy:
// every other method throws a Value error naming "engine" (one call at a time;
// @rlvr/engine queues its calls).
#pragma once
#include <napi.h>

#include <atomic>
#include <memory>

#include "binding/async_call.h"
#include "binding/engine_impl.h"

namespace rlvr::binding {

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
 public:
  static void Init(Napi::Env env, Napi::Object exports);
  explicit EngineWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value ParamInfo(const Napi::CallbackInfo& info);
  Napi::Value SetParam(const Napi::CallbackInfo& info);
  Napi::Value GetParam(const Napi::CallbackInfo& info);
  Napi::Value GetGrad(const Napi::CallbackInfo& info);
  Napi::Value GetAdamState(const Napi::CallbackInfo& info);
  Napi::Value SetAdamState(const Napi::CallbackInfo& info);
  Napi::Value ZeroGrad(const Napi::CallbackInfo& info);
  Napi::Value GradNorm(const Napi::CallbackInfo& info);
  Napi::Value Score(const Napi::CallbackInfo& info);
  Napi::Value Logits(const Napi::CallbackInfo& info);
  Napi::Value ScorePrefixed(const Napi::CallbackInfo& info);
  Napi::Value ForwardBackward(const Napi::CallbackInfo& info);
  Napi::Value Values(const Napi::CallbackInfo& info);
  Napi::Value ValueForwardBackward(const Napi::CallbackInfo& info);
  Napi::Value OptimizerStep(const Napi::CallbackInfo& info);
  Napi::Value Prefill(const Napi::CallbackInfo& info);
  Napi::Value Step(const Napi::CallbackInfo& info);
  Napi::Value ResetCache(const Napi::CallbackInfo& info);
  Napi::Value ReleaseWorkspace(const Napi::CallbackInfo& info);
  Napi::Value NumParameters(const Napi::CallbackInfo& info);
  Napi::Value SetLmChunkRows(const Napi::CallbackInfo& info);
  Napi::Value KeptActivations(const Napi::CallbackInfo& info);
  Napi::Value Backend(const Napi::CallbackInfo& info);
  // rollout_binding.cpp
  Napi::Value Rollout(const Napi::CallbackInfo& info);
  Napi::Value CancelRollout(const Napi::CallbackInfo& info);
  Napi::Value SupportsRollout(const Napi::CallbackInfo& info);

  // The model, for a method that may run now: throws while a call is in flight.
  EngineImpl& model();
  // The model's fixed description (config, parameter list, backend): always readable.
  const EngineImpl& shape();
  std::unique_ptr<EngineCall> begin_call(const Napi::CallbackInfo& info);
  std::unique_ptr<EngineImpl> model_;
  bool busy_ = false;  // a call is in flight (JavaScript thread only)
  // Set by cancelRollout(); the running rollout checks it between decode steps.
  std::shared_ptr<std::atomic<bool>> rollout_cancel_ = std::make_shared<std::atomic<bool>>(false);
};

// counterUniforms (rollout_binding.cpp): the rollout's uniforms, for tests.
void InitRollout(Napi::Env env, Napi::Object exports);

}  // namespace rlvr::binding
